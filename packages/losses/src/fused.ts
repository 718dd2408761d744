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
import { type OpDef, Tensor, apply, gradients, isGradEnabled, mul } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import type { FusedInputs } from "./define.js";

interface BceAttrs {
  /** Raw targets (float32 bits), and −1 (all bits set) where the element is kept, 0 where masked. */
  z: Uint32Array;
  keepBits: Int32Array;
  /** reduceLoss's coefficients (0 wherever masked). */
  c: Float64Array;
  /** posWeight per element, or null with the scalar `pw`. */
  pwAll: Float32Array | null;
  pw: number;
  /** Label smoothing: z ← z·(1 − α) + α/2. */
  alpha: number;
  none: boolean;
  composed: (x: Tensor) => Tensor;
}

/** The bits of a float32 array (contiguous, as flat() returns for float32). */
const bitsOf = (a: T.NDArray): Uint32Array => {
  const f = a.flat() as Float32Array;
  return new Uint32Array(f.buffer, f.byteOffset, f.length);
};

/**
 * BCE from logits, x sanitised to +0 where masked (s = σ(x), s̄ = σ(−x) = 1 − s, exactly):
 *   ℓ = (1 − z)·softplus(x) + pw·z·softplus(−x),   dℓ/dx = (1 − z)·s − pw·z·s̄
 * softplus(±x) = max(±x, 0) + log1p(e^−|x|); σ(|x|) = 1/(1 + e^−|x|) and σ(−|x|) = e^−|x|/(1 + e^−|x|)
 * are swapped by the sign bit (0 or 1, an arithmetic select), so nothing cancels.
 */
const fusedBce: OpDef<BceAttrs, Float32Array> = {
  name: "binaryCrossEntropyFused",
  forward([xIn], a) {
    const xb = bitsOf(xIn!), zb = a.z, keep = a.keepBits, c = a.c, pwAll = a.pwAll, n = xb.length;
    const one = new Uint32Array(1), oneF = new Float32Array(one.buffer);
    const grad = new Float32Array(n), values = a.none ? new Float32Array(n) : null;
    const zScale = 1 - a.alpha, zShift = a.alpha / 2;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const bits = xb[i]! & keep[i]!;
      one[0] = bits;
      const x = oneF[0]!;
      one[0] = zb[i]! & keep[i]!;
      const z = oneF[0]! * zScale + zShift;
      const pw = pwAll === null ? a.pw : pwAll[i]!;
      const e = Math.exp(-Math.abs(x)), r = 1 / (1 + e), log1pE = Math.log1p(e);
      const negative = bits >>> 31; // 1 when x < 0 (or −0)
      const s = r * (1 - negative) + e * r * negative, sBar = e * r * (1 - negative) + r * negative;
      const l = (1 - z) * (Math.max(x, 0) + log1pE) + pw * z * (Math.max(-x, 0) + log1pE);
      const ci = c[i]!;
      total += ci * l;
      if (values) values[i] = ci * l;
      grad[i] = ci * ((1 - z) * s - pw * z * sBar);
    }
    const out = values ? new T.NDArray(values, xIn!.shape) : T.array(total, { dtype: "float32" });
    return { out, saved: grad };
  },
  vjp(g, ctx) {
    const x = ctx.inputs[0]!;
    if (isGradEnabled()) return gradients(ctx.attrs.composed(x), [x], { seed: g, createGraph: true }); // grad of grad: the composed definition
    if (g.size !== 1) return [mul(g, new Tensor(new T.NDArray(ctx.saved, x.shape)))]; // reduction 'none'
    const scale = g.item(), saved = ctx.saved, dx = new Float32Array(saved.length);
    for (let i = 0; i < dx.length; i++) dx[i] = scale * saved[i]!;
    return [new Tensor(new T.NDArray(dx, x.shape))];
  },
};

/** The fused BCE from logits, or null (the composed path runs) for float64 predictions. */
export function fusedBceFromLogits(inputs: FusedInputs<{ labelSmoothing: number }>, pw: Tensor | number): Tensor | null {
  const { x, z, mask } = inputs;
  if (x.dtype !== "float32") return null;
  const { reduction, coefficients } = inputs.coefficients();
  const m = mask.flat(), keepBits = new Int32Array(m.length);
  for (let i = 0; i < m.length; i++) keepBits[i] = -m[i]!; // m is 0/1: all bits set where kept, none where masked
  const attrs: BceAttrs = {
    z: bitsOf(z.astype("float32")), keepBits, c: coefficients,
    pwAll: typeof pw === "number" ? null : (pw.value.astype("float32").flat() as Float32Array), pw: typeof pw === "number" ? pw : 1,
    alpha: inputs.options.labelSmoothing, none: reduction === "none", composed: inputs.composed,
  };
  return apply(fusedBce, [x], attrs);
}
