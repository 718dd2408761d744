/**
 * Fused kernels beside the composed definitions: one pass for the forward (value and the
 * gradient it implies) and one for the backward, over flat Float32Arrays. They keep the
 * guarantees of the composed path by the same "double where", done without branches: a masked
 * element's bits are ANDed with 0, so its input reads as +0 (whatever it held: NaN, ±Infinity),
 * and its coefficient cᵢ from reduceLoss is 0, so its value and gradient are exactly 0.
 *
 * The composed definition stays the reference: when a gradient is requested while recording is
 * on (createGraph, for gradients of gradients), the vjp differentiates the composed definition.
 */
import { type OpDef, Tensor, apply, expandDims, gradients, isGradEnabled, mul } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import type { FusedInputs } from "./define.js";

interface Attrs<P> {
  /** Raw targets or labels (float32 bits), and the mask over ℓ (1 kept, 0 masked). */
  z: Uint32Array;
  mask: Float32Array;
  /** reduceLoss's coefficients over ℓ (0 wherever masked), or u with cᵢ = mᵢ·u. */
  c: Float64Array | number;
  /** Reduction 'none': the output is c·ℓ with ℓ's shape. */
  lossShape: T.Shape | null;
  params: P;
  composed: (x: Tensor) => Tensor;
  /** The loss's input checks, for a kernel that reports (NaN) a kept target out of range; nothing when they ran before the pass. */
  validate: () => void;
}

/** One fused forward: fills grad (c·dℓ/dx, the prediction's shape) and values (c·ℓ, or null); returns Σ c·ℓ. */
type Loop<P> = (x: Uint32Array, a: Attrs<P>, grad: Float32Array, values: Float32Array | null) => number;

/** The bits of a float32 array (contiguous, as flat() returns for float32). */
function bitsOf(a: T.NDArray): Uint32Array {
  const f = a.flat() as Float32Array;
  return new Uint32Array(f.buffer, f.byteOffset, f.length);
}

/** A float32 read through its bits (one scratch word, so the select stays integer AND). */
const word = new Uint32Array(1), wordAsFloat = new Float32Array(word.buffer);
function fromBits(bits: number): number {
  word[0] = bits;
  return wordAsFloat[0]!;
}

/** −1 (all bits set) per element kept, 0 masked: m is 0/1, so −m is exact. */
function keepBitsOf(mask: Float32Array): Int32Array {
  const keep = new Int32Array(mask.length);
  for (let i = 0; i < mask.length; i++) keep[i] = -mask[i]!;
  return keep;
}

/** The coefficients as one number per element of ℓ (cᵢ = mᵢ·u when they are given as u). */
function perElement(a: Attrs<unknown>): Float64Array {
  if (typeof a.c !== "number") return a.c;
  const c = new Float64Array(a.mask.length);
  for (let i = 0; i < c.length; i++) c[i] = a.mask[i]! * a.c;
  return c;
}

function fusedOp<P>(name: string, loop: Loop<P>): OpDef<Attrs<P>, Float32Array> {
  return {
    name,
    forward([x], a) {
      const grad = new Float32Array(x!.size), values = a.lossShape ? new Float32Array(a.mask.length) : null;
      const total = loop(bitsOf(x!), a, grad, values);
      if (Number.isNaN(total)) a.validate(); // throws for bad targets (else the logits held NaN)
      return { out: values ? new T.NDArray(values, a.lossShape!) : T.array(total, { dtype: "float32" }), saved: grad };
    },
    vjp(g, ctx) {
      const x = ctx.inputs[0]!;
      if (isGradEnabled()) return gradients(ctx.attrs.composed(x), [x], { seed: g, createGraph: true }); // grad of grad: the composed definition
      const saved = new Tensor(new T.NDArray(ctx.saved, x.shape));
      if (g.size !== 1 || ctx.attrs.lossShape) return [mul(g.rank < x.rank ? expandDims(g, -1) : g, saved)]; // reduction 'none'
      const scale = g.item(), dx = ctx.retained ? ctx.saved.slice() : ctx.saved; // the graph is freed after this pass: no copy needed
      if (scale !== 1) for (let i = 0; i < dx.length; i++) dx[i]! *= scale;
      return [new Tensor(new T.NDArray(dx, x.shape))];
    },
  };
}

/** Runs a fused op on float32 predictions; null (decline) for any other dtype. */
function runFused<P>(op: OpDef<Attrs<P>, Float32Array>, inputs: FusedInputs<unknown>, params: P, denominatorScale?: T.NDArray): Tensor | null {
  const { x, z, mask, validate } = inputs;
  if (x.dtype !== "float32") return null;
  const { reduction, coefficients } = inputs.coefficients(denominatorScale);
  const attrs: Attrs<P> = { z: bitsOf(z.astype("float32")), mask: mask.astype("float32").flat() as Float32Array, c: coefficients, lossShape: reduction === "none" ? mask.shape : null, params, composed: inputs.composed, validate };
  return apply(op, [x], attrs);
}

/**
 * BCE from logits: the kernel (bceLogits of @zerograd/tensor's kernel set, WebAssembly SIMD where
 * available, the plain-JS reference otherwise) computes, x sanitised to +0 where masked,
 *   ℓ = (1 − z)·softplus(x) + pw·z·softplus(−x),   dℓ/dx = (1 − z)·σ(x) − pw·z·σ(−x)
 */
const bce = fusedOp<{ pwAll: Float32Array | null; pw: number; alpha: number }>("binaryCrossEntropyFused", (x, a, grad, values) =>
  T.kernels().bceLogits({ x, z: a.z, mask: a.mask, c: a.c, ...a.params, grad, values }));

/** The fused BCE from logits (posWeight as 1, a number or a tensor of ℓ's shape). */
export function fusedBceFromLogits(inputs: FusedInputs<{ labelSmoothing: number }>, pw: Tensor | number): Tensor | null {
  const pwAll = typeof pw === "number" ? null : (pw.value.astype("float32").flat() as Float32Array);
  return runFused(bce, inputs, { pwAll, pw: typeof pw === "number" ? pw : 1, alpha: inputs.options.labelSmoothing });
}

/** Squared error, masked inputs read as +0: ℓ = (x − z)², dℓ/dx = 2(x − z). */
const mse = fusedOp<null>("meanSquaredErrorFused", (xb, a, grad, values) => {
  const { z: zb } = a, c = perElement(a), keep = keepBitsOf(a.mask);
  let total = 0;
  for (let i = 0; i < xb.length; i++) {
    const d = fromBits(xb[i]! & keep[i]!) - fromBits(zb[i]! & keep[i]!), ci = c[i]!;
    total += ci * d * d;
    if (values) values[i] = ci * d * d;
    grad[i] = 2 * ci * d;
  }
  return total;
});

export const fusedMeanSquaredError = (inputs: FusedInputs<unknown>): Tensor | null => runFused(mse, inputs, null);

/**
 * Sparse CE from logits over rows of C classes (the last axis), masked rows read as zeros and
 * their label as class 0. With p = softmax(x), w the class weights (all 1 without) and W = Σ w:
 *   ℓ = −(1 − α)·w_y·log p_y − (α/C)·Σ_c w_c·log p_c
 *   dℓ/dx_j = (1 − α)·w_y·(p_j − [j = y]) + (α/C)·(W·p_j − w_j)
 */
const sparseCe = fusedOp<{ classes: number; w: Float64Array; alpha: number }>("sparseCategoricalCrossEntropyFused", (xb, a, grad, values) => {
  const { z: yb } = a, c = perElement(a), keep = keepBitsOf(a.mask), { classes: C, w, alpha } = a.params;
  const W = w.reduce((s, v) => s + v, 0), smooth = alpha / C;
  const shifted = new Float64Array(C), e = new Float64Array(C);
  let total = 0;
  for (let r = 0; r < c.length; r++) {
    const k = keep[r]!, base = r * C, y = fromBits(yb[r]! & k), cr = c[r]!, wy = (1 - alpha) * w[y]!;
    let max = -Infinity, sum = 0, l = 0;
    for (let j = 0; j < C; j++) max = Math.max(max, (shifted[j] = fromBits(xb[base + j]! & k)));
    for (let j = 0; j < C; j++) sum += (e[j] = Math.exp((shifted[j]! -= max)));
    const lse = Math.log(sum);
    for (let j = 0; j < C; j++) {
      const logp = shifted[j]! - lse, p = e[j]! / sum, isLabel = j === y ? 1 : 0;
      l -= smooth * w[j]! * logp + isLabel * wy * logp;
      grad[base + j] = cr * (wy * (p - isLabel) + smooth * (W * p - w[j]!));
    }
    total += cr * l;
    if (values) values[r] = cr * l;
  }
  return total;
});

/** The fused sparse CE from logits (class axis last), with `wLabel` the class weight of each row's label. */
export function fusedSparseCrossEntropy(inputs: FusedInputs<{ labelSmoothing: number }>, axis: number, classWeights: T.NDArray | undefined, wLabel: T.NDArray | undefined): Tensor | null {
  const { x } = inputs;
  if (axis !== x.rank - 1) return null;
  const classes = x.shape[axis]!;
  const w = classWeights ? Float64Array.from(classWeights.flat()) : new Float64Array(classes).fill(1);
  return runFused(sparseCe, inputs, { classes, w, alpha: inputs.options.labelSmoothing }, wLabel);
}
