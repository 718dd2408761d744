import { ShapeError, Tensor, tensor } from "@zerograd/autograd";
import { meanSquaredError, reduceLoss } from "@zerograd/losses";
import { NDArray } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { expectClose, leaf, valueAndGradOf } from "./helpers.js";

// Squared errors d² with d = [[1, 2, 3], [4, 5, 6]] (prediction minus a zero target).
const D = [[1, 2, 3], [4, 5, 6]];
const ZERO = [[0, 0, 0], [0, 0, 0]];
const mse = (options: Parameters<typeof meanSquaredError>[2]) => meanSquaredError(leaf(D), ZERO, options);

describe("reductions (the one place that reduces)", () => {
  const mask = [[1, 0, 1], [0, 1, 1]];
  const weights = [[2, 9, 1], [9, 0.5, 3]];
  // kept: d² = 1, 9, 25, 36 with weights 2, 1, 0.5, 3
  test("'mean' = Σ m·w·ℓ / Σm", () => {
    expectClose(mse({ mask, weights }).item(), (2 * 1 + 1 * 9 + 0.5 * 25 + 3 * 36) / 4);
  });
  test("'weightedMean' = Σ m·w·ℓ / Σ m·w", () => {
    expectClose(mse({ mask, weights, reduction: "weightedMean" }).item(), (2 * 1 + 1 * 9 + 0.5 * 25 + 3 * 36) / (2 + 1 + 0.5 + 3));
  });
  test("'sum' = Σ m·w·ℓ", () => {
    expectClose(mse({ mask, weights, reduction: "sum" }).item(), 2 * 1 + 1 * 9 + 0.5 * 25 + 3 * 36);
  });
  test("'none' = m·w·ℓ with ℓ's shape", () => {
    const none = mse({ mask, weights, reduction: "none" });
    expect(none.shape).toEqual([2, 3]);
    expect(Array.from(none.data, (v) => v + 0)).toEqual([2, 0, 9, 0, 12.5, 108]);
  });

  test("masks broadcast to ℓ first, so Σm counts elements, not rows", () => {
    // A per-sample mask [[1], [0]] keeps the 3 elements of row 0: the mean divides by 3, not 1.
    expectClose(mse({ mask: [[1], [0]] }).item(), (1 + 4 + 9) / 3);
    expectClose(mse({ mask: [true, false, true] }).item(), (1 + 9 + 16 + 36) / 4); // per column
  });

  test("per-sample weights need shape [N, 1]; [N] is refused with a hint when it cannot broadcast", () => {
    expectClose(mse({ weights: [[1], [2]], reduction: "sum" }).item(), 1 + 4 + 9 + 2 * (16 + 25 + 36));
    expect(() => mse({ weights: [1, 2] })).toThrow(ShapeError);
    expect(() => mse({ weights: [1, 2] })).toThrow("meanSquaredError: weights must broadcast to the elementwise loss's shape (per-sample values need shape [2,1]): [2] x [2,3]");
  });

  test("zero count: an empty mask gives 0 (and zero gradients) for every reduction, never 0/0", () => {
    for (const reduction of ["mean", "weightedMean", "sum"] as const) {
      const { value, grad } = valueAndGradOf(leaf(D), (x) => meanSquaredError(x, ZERO, { mask: [[0, 0, 0], [0, 0, 0]], reduction }));
      expect(value).toBe(0);
      expect(grad.every((g) => g === 0)).toBe(true);
    }
    // weightedMean whose weights are all 0 where unmasked: Σ m·w = 0 → 0
    expect(mse({ weights: [[0, 0, 0], [0, 0, 0]], reduction: "weightedMean" }).item()).toBe(0);
  });

  test("weights are read only where unmasked: NaN there is fine; negative or NaN elsewhere is an error", () => {
    expectClose(mse({ mask: [[1, 1, 1], [0, 0, 0]], weights: [[1, 1, 1], [NaN, -1, Infinity]], reduction: "sum" }).item(), 14);
    expect(() => mse({ weights: [[1, 1, 1], [1, -1, 1]] })).toThrow(/weights must be finite and ≥ 0, found -1 at unmasked element \[1,1\]/);
    expect(() => mse({ weights: [[1, 1, 1], [1, NaN, 1]] })).toThrow(RangeError);
  });
});

describe("groups", () => {
  // Per-sample ℓ = d² for d = [1, 2, 3, 4, 5]; groups 0, 0, 2, 2, 2 (group 1 absent).
  const x = () => leaf([1, 2, 3, 4, 5]);
  const zero = [0, 0, 0, 0, 0];
  const groups = [0, 0, 2, 2, 2];

  test("total = Σ_g w_g · mean within g; an absent group adds 0 (weights are not renormalised)", () => {
    const loss = meanSquaredError(x(), zero, { groups, groupWeights: [0.5, 100, 2] }).item();
    expectClose(loss, 0.5 * ((1 + 4) / 2) + 2 * ((9 + 16 + 25) / 3));
  });

  test("a fully masked group adds 0; groupWeights as a record; groups default to weight 1", () => {
    const mask = [0, 0, 1, 0, 1];
    expectClose(meanSquaredError(x(), zero, { groups, mask, groupWeights: { 0: 7, 2: 3 } }).item(), 3 * ((9 + 25) / 2));
    expectClose(meanSquaredError(x(), zero, { groups }).item(), (1 + 4) / 2 + (9 + 16 + 25) / 3);
  });

  test("with 'sum' and 'weightedMean'", () => {
    const weights = [1, 3, 1, 1, 2];
    expectClose(meanSquaredError(x(), zero, { groups, weights, groupWeights: [2, 0, 1], reduction: "sum" }).item(), 2 * (1 + 12) + (9 + 16 + 50));
    expectClose(meanSquaredError(x(), zero, { groups, weights, groupWeights: [2, 0, 1], reduction: "weightedMean" }).item(), (2 * 13) / 4 + 75 / 4);
  });

  test("'none' with groups returns m·w·w_g·ℓ (its sum is the grouped 'sum')", () => {
    const none = meanSquaredError(x(), zero, { groups, groupWeights: [2, 0, 0.5], reduction: "none" });
    expectClose(none.data, [2, 8, 4.5, 8, 12.5]);
  });

  test("groups index axis 0 of ℓ: per-sample ids apply to every element of the sample", () => {
    const loss = meanSquaredError(leaf(D), ZERO, { groups: [1, 0], groupWeights: [1, 10] }).item();
    expectClose(loss, 10 * ((1 + 4 + 9) / 3) + (16 + 25 + 36) / 3);
  });

  test("errors: missing weight, groupWeights without groups, wrong length, non-integer ids", () => {
    expect(() => meanSquaredError(x(), zero, { groups, groupWeights: [1, 1] })).toThrow(/groupWeights has no weight for group 2/);
    expect(() => meanSquaredError(x(), zero, { groupWeights: [1] })).toThrow(TypeError);
    expect(() => meanSquaredError(x(), zero, { groups: [0, 1] })).toThrow(ShapeError);
    expect(() => meanSquaredError(x(), zero, { groups: [0, 0, 1.5, 0, 0] })).toThrow(/group ids must be integers/);
    expect(() => meanSquaredError(x(), zero, { groups, groupWeights: [1, 1, -1] })).toThrow(RangeError);
  });
});

describe("reduceLoss for custom losses", () => {
  test("reduces any elementwise loss with a resolved mask", () => {
    const l = tensor([3, 100, 5], { dtype: "float64" });
    const mask = new NDArray(Float64Array.from([1, 0, 1]), [3]);
    expect(reduceLoss("custom", l, mask, {}).item()).toBe(4);
    expect(reduceLoss("custom", new Tensor(l.value), mask, { reduction: "sum", weights: [2, 2, 1] }).item()).toBe(11);
  });
});
