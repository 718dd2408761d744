/** Scalar math shared by kernels: the pieces JavaScript's Math lacks. */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

/**
 * The error function, accurate to about 1e-14 in float64:
 * |x| ≤ 3 by its Maclaurin series 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n!(2n+1)),
 * |x| > 3 by the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax <= 3) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (ax > 6) return Math.sign(x); // erfc(6) ≈ 2e-17
  let frac = ax;
  for (let n = 40; n >= 1; n--) frac = ax + n / 2 / frac;
  const erfc = (Math.exp(-ax * ax) * INV_SQRT_PI) / frac;
  return x > 0 ? 1 - erfc : erfc - 1;
}

/**
 * Logistic sigmoid 1 / (1 + e^(−x)). Safe as written in float64: for x ≪ 0, e^(−x) overflows to
 * ∞ and the result is exactly 0; for x ≫ 0 it is exactly 1. No branch, so no misprediction.
 */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)), stable for large |x|. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** GELU, exact form: x · Φ(x) with Φ the standard normal CDF. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
}
