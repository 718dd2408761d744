/**
 * Group (or task) weights inversely proportional to each group's validation loss, so that every
 * group contributes about equally: wᵢ ∝ baseᵢ / lossᵢ, normalised to sum to 1.
 *
 * Losses that carry no usable scale are handled without ever producing NaN:
 * - a loss of 0 (a solved group) is treated as the smallest positive loss among the others, so
 *   it is weighted like the best group instead of infinitely (if no loss is positive, its weight
 *   is its base weight);
 * - a non-finite loss (NaN, +Infinity) gives weight 0 — nothing is known about that group's scale;
 * - if every group ends up with weight 0, the result is the base weights normalised.
 *
 * Negative or non-numeric losses, negative or non-finite base weights, base weights that sum to
 * 0 and mismatched lengths throw a RangeError.
 *
 * @example
 * inverseLossWeights([0.5, 2]);            // [0.8, 0.2]: the group with the larger loss is scaled down
 * inverseLossWeights([0.5, 2], [1, 3]);    // ∝ [2, 1.5] → [4/7, 3/7]
 * inverseLossWeights([0, 1, NaN]);         // [0.5, 0.5, 0]
 */
export function inverseLossWeights(validationLosses: readonly number[], baseWeights?: readonly number[]): number[] {
  const op = "inverseLossWeights";
  const n = validationLosses.length;
  if (n === 0) throw new RangeError(`${op}: needs at least one loss`);
  const base = baseWeights ?? validationLosses.map(() => 1);
  if (base.length !== n) throw new RangeError(`${op}: ${n} losses but ${base.length} base weights`);
  base.forEach((b, i) => {
    if (typeof b !== "number" || !(b >= 0 && b < Infinity)) throw new RangeError(`${op}: base weights must be finite and ≥ 0, found ${b} at ${i}`);
  });
  const baseTotal = base.reduce((s, b) => s + b, 0);
  if (!(baseTotal > 0)) throw new RangeError(`${op}: base weights sum to 0`);
  validationLosses.forEach((l, i) => {
    if (typeof l !== "number" || l < 0) throw new RangeError(`${op}: losses must be ≥ 0 (or NaN/Infinity for unknown), found ${l} at ${i}`);
  });

  // baseᵢ·(smallest / lossᵢ): the same proportions as baseᵢ / lossᵢ, but every factor is ≤ 1, so
  // nothing overflows even for losses near 0; a zero loss gets factor 1 (the smallest loss's).
  const positive = validationLosses.filter((l) => l > 0 && l < Infinity);
  const smallest = positive.length ? Math.min(...positive) : 1;
  const raw = validationLosses.map((l, i) => (l === 0 ? base[i]! : l < Infinity ? base[i]! * (smallest / l) : 0)); // NaN fails l < Infinity
  const total = raw.reduce((s, r) => s + r, 0);
  if (!(total > 0 && total < Infinity)) return base.map((b) => b / baseTotal);
  return raw.map((r) => r / total);
}
