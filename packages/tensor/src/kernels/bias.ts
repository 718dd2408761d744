import type { Storage } from "../ndarray.js";

/**
 * Bias + activation (Dense and Conv2D): out = act(y + b), b repeated along y's rows of b.length
 * values, act ReLU when `relu`, the identity otherwise. out may be y. The float32 loops are
 * functions of their own, so that each sees one array type.
 */
export function biasActivationInto(out: Storage, y: Storage, b: Storage, relu: boolean): void {
  if (out instanceof Float32Array) return biasActivationFloat32(out, y as Float32Array, b as Float32Array, relu);
  for (let i = 0; i < y.length; i += b.length) for (let c = 0; c < b.length; c++) out[i + c] = y[i + c]! + b[c]!;
  if (relu) for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i]!, 0); // NaN stays NaN
}
function biasActivationFloat32(out: Float32Array, y: Float32Array, b: Float32Array, relu: boolean): void {
  const C = b.length;
  for (let i = 0; i < y.length; i += C) for (let c = 0; c < C; c++) out[i + c] = y[i + c]! + b[c]!;
  if (!relu) return;
  const bits = new Int32Array(out.buffer, out.byteOffset, out.length); // ReLU through the bits: sign bit set → +0, no branch
  for (let i = 0; i < bits.length; i++) bits[i] = bits[i]! & ~(bits[i]! >> 31);
}

/**
 * Its gradient from the output: gy = g·act′ = g·[out > 0] for ReLU (+(boolean) compiles without a
 * branch, which would mispredict on random signs), g for the identity; sums[c] = Σ over rows of
 * gy[row, c] (the bias gradient, C = sums.length), accumulated in float64.
 */
export function biasActivationGradInto(gy: Storage, sums: Float64Array, g: Storage, out: Storage, relu: boolean): void {
  sums.fill(0);
  if (gy instanceof Float32Array) return biasGradFloat32(gy, sums, g as Float32Array, out as Float32Array, relu);
  if (relu) for (let i = 0; i < g.length; i++) gy[i] = g[i]! * +(out[i]! > 0);
  else gy.set(g);
  for (let i = 0; i < gy.length; i += sums.length) for (let c = 0; c < sums.length; c++) sums[c]! += gy[i + c]!;
}
function biasGradFloat32(gy: Float32Array, sums: Float64Array, g: Float32Array, out: Float32Array, relu: boolean): void {
  const C = sums.length;
  if (relu) for (let i = 0; i < g.length; i++) gy[i] = g[i]! * +(out[i]! > 0);
  else gy.set(g);
  for (let i = 0; i < gy.length; i += C) for (let c = 0; c < C; c++) sums[c]! += gy[i + c]!;
}
