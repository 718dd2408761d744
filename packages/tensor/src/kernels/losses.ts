/**
 * Loss kernels: one pass over flat float32 arrays for a masked loss's forward, which also writes
 * the gradient it implies (the loss package wraps them in its fused ops). Masking is branch-free:
 * a masked element's bits are ANDed with 0, so it reads as +0 whatever it held (NaN, ±Infinity),
 * and its coefficient c is 0, so its value and gradient are exactly 0.
 */

/** The operands of the fused BCE from logits, all of n elements. */
export interface BceLogitsArgs {
  /** The logits' and the targets' float32 bits. */
  x: Uint32Array;
  z: Uint32Array;
  /** 1 where kept, 0 where masked. */
  mask: Float32Array;
  /** reduceLoss's coefficients (0 wherever masked), or u for cᵢ = maskᵢ·u. */
  c: Float64Array | number;
  /** The positive weights per element, or null for the scalar `pw`. */
  pwAll: Float32Array | null;
  pw: number;
  /** Label smoothing α: z is read as z(1 − α) + α/2. */
  alpha: number;
  /** Out: c·dℓ/dx. */
  grad: Float32Array;
  /** Out, or null: c·ℓ. */
  values: Float32Array | null;
}

/** A float32 read through its bits (one scratch word, so the select stays integer AND). */
const word = new Uint32Array(1), wordAsFloat = new Float32Array(word.buffer);
export function floatFromBits(bits: number): number {
  word[0] = bits;
  return wordAsFloat[0]!;
}

/**
 * BCE from logits, x sanitised to +0 where masked (s = σ(x), s̄ = σ(−x) = 1 − s, exactly):
 *   ℓ = (1 − z)·softplus(x) + pw·z·softplus(−x),   dℓ/dx = (1 − z)·s − pw·z·s̄
 * softplus(±x) = max(±x, 0) + log1p(e^−|x|); σ(|x|) = 1/(1 + e^−|x|) and σ(−|x|) = e^−|x|/(1 + e^−|x|)
 * are swapped by the sign bit (0 or 1, an arithmetic select), so nothing cancels. Returns Σ c·ℓ,
 * or NaN when a kept target lies outside [0, 1] (NaN included): the caller's checks then name it.
 */
export function bceLogitsInto(a: BceLogitsArgs): number {
  const { x: xb, z: zb, mask, c, pwAll, grad, values } = a, zScale = 1 - a.alpha, zShift = a.alpha / 2;
  const cAll = typeof c === "number" ? null : c, cKept = typeof c === "number" ? c : 0;
  let total = 0, outside = 0;
  for (let i = 0; i < xb.length; i++) {
    const keep = -mask[i]!; // all bits set where kept, none where masked
    const bits = xb[i]! & keep, x = floatFromBits(bits), zRaw = floatFromBits(zb[i]! & keep);
    outside |= keep & (1 - (+(zRaw >= 0) & +(zRaw <= 1))); // no branch: comparisons as 0/1
    const z = zRaw * zScale + zShift; // label smoothing z(1 − α) + α/2
    const pw = pwAll === null ? a.pw : pwAll[i]!;
    const e = Math.exp(-Math.abs(x)), r = 1 / (1 + e), log1pE = Math.log1p(e);
    const negative = bits >>> 31; // 1 when x < 0 (or −0)
    const s = r * (1 - negative) + e * r * negative, sBar = e * r * (1 - negative) + r * negative;
    const l = (1 - z) * (Math.max(x, 0) + log1pE) + pw * z * (Math.max(-x, 0) + log1pE);
    const ci = cAll === null ? mask[i]! * cKept : cAll[i]!;
    total += ci * l;
    if (values) values[i] = ci * l;
    grad[i] = ci * ((1 - z) * s - pw * z * sBar);
  }
  return outside === 0 ? total : NaN;
}
