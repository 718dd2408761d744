/**
 * Bias + activation as one op for Dense and Conv2D: out = act(y + b), b broadcast over the last
 * axis, act the identity or ReLU. One pass forward and one backward instead of add, relu and
 * their gradients (a broadcast add, a comparison, a product and a reduction), each into a fresh
 * array. The composed definition stays the reference: it runs for every other activation and
 * dtype, and the vjp differentiates it when a gradient is recorded (gradients of gradients).
 *
 *   forward:  out = act(y + b)
 *   backward: gy = g·act′(y + b) (ReLU: g·[out > 0]),   gb = Σ over all rows of gy
 */
import { type OpDef, Tensor, add, apply, gradients, isGradEnabled, relu } from "@zerograd/autograd";
import { NDArray, allocate } from "@zerograd/tensor";

/** The activations fused here; any other runs composed. */
export type FusedActivation = "linear" | "relu";

interface Attrs {
  activation: FusedActivation;
}

function composed(y: Tensor, b: Tensor, activation: FusedActivation): Tensor {
  const z = add(y, b);
  return activation === "relu" ? relu(z) : z;
}

const biasActivationOp: OpDef<Attrs> = {
  name: "biasActivation",
  forward([y, b], { activation }) {
    const yv = y!.flat(), bv = b!.flat(), out = allocate(y!.dtype, yv.length);
    if (out instanceof Float32Array) addRowsFloat32(out, yv as Float32Array, bv as Float32Array);
    else for (let i = 0; i < yv.length; i += bv.length) for (let c = 0; c < bv.length; c++) out[i + c] = yv[i + c]! + bv[c]!;
    if (activation === "relu") reluInPlace(out);
    return new NDArray(out, y!.shape);
  },
  vjp(g, ctx) {
    const [y, b] = ctx.inputs as [Tensor, Tensor], { activation } = ctx.attrs;
    if (isGradEnabled()) return gradients(composed(y, b, activation), [y, b], { seed: g, createGraph: true });
    const gv = g.value.flat() as Float32Array | Float64Array, C = b.size, gy = allocate(y.dtype, gv.length), gb = new Float64Array(C);
    if (activation === "relu") reluGrad(gy, gv, ctx.out.value.flat());
    else gy.set(gv);
    sumRows(gb, gy);
    const gbOut = allocate(b.dtype, C);
    gbOut.set(gb);
    return [new Tensor(new NDArray(gy, y.shape)), new Tensor(new NDArray(gbOut, b.shape))];
  },
};

/** out = y + b, b repeated along y's rows (float32 only, so that the loop sees one array type). */
function addRowsFloat32(out: Float32Array, y: Float32Array, b: Float32Array): void {
  const C = b.length;
  for (let i = 0; i < y.length; i += C) for (let c = 0; c < C; c++) out[i + c] = y[i + c]! + b[c]!;
}

/** gy = g·[out > 0]; +(boolean) compiles without a branch (a branch mispredicts on random signs). */
function reluGrad(gy: Float32Array | Float64Array, g: Float32Array | Float64Array, out: Float32Array | Float64Array): void {
  if (gy instanceof Float32Array) reluGradFloat32(gy, g as Float32Array, out as Float32Array);
  else for (let i = 0; i < g.length; i++) gy[i] = g[i]! * +(out[i]! > 0);
}
function reluGradFloat32(gy: Float32Array, g: Float32Array, out: Float32Array): void {
  for (let i = 0; i < g.length; i++) gy[i] = g[i]! * +(out[i]! > 0);
}

/** sums[c] = Σ over rows of x[row, c] (C = sums.length). */
function sumRows(sums: Float64Array, x: Float32Array | Float64Array): void {
  if (x instanceof Float32Array) sumRowsFloat32(sums, x);
  else for (let i = 0; i < x.length; i += sums.length) for (let c = 0; c < sums.length; c++) sums[c]! += x[i + c]!;
}
function sumRowsFloat32(sums: Float64Array, x: Float32Array): void {
  const C = sums.length;
  for (let i = 0; i < x.length; i += C) for (let c = 0; c < C; c++) sums[c]! += x[i + c]!;
}

/** ReLU in place: float32 through its bits (sign bit set → +0, no branch), float64 by Math.max. */
function reluInPlace(x: Float32Array | Float64Array): void {
  if (x instanceof Float32Array) {
    const bits = new Int32Array(x.buffer, x.byteOffset, x.length);
    for (let i = 0; i < bits.length; i++) bits[i] = bits[i]! & ~(bits[i]! >> 31);
  } else for (let i = 0; i < x.length; i++) x[i] = Math.max(x[i]!, 0); // NaN stays NaN
}

/** The activation a layer's option names, if this op fuses it (undefined: the identity). */
export function fusableActivation(name: unknown): FusedActivation | null {
  if (name === undefined || name === "linear") return "linear";
  return name === "relu" ? "relu" : null;
}

/**
 * act(y + b) over y's last axis: the fused op where it applies (a bias, a fusable activation, y and
 * b of one dtype, b's length y's last axis), the composed `fallback` otherwise.
 */
export function biasActivation(y: Tensor, bias: Tensor | null, activation: FusedActivation | null, fallback: (x: Tensor) => Tensor): Tensor {
  if (bias === null || activation === null || bias.dtype !== y.dtype || bias.rank !== 1 || y.rank < 1 || y.shape[y.rank - 1] !== bias.size || y.size === 0) {
    return fallback(bias ? add(y, bias) : y);
  }
  return apply(biasActivationOp, [y, bias], { activation });
}
