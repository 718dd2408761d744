/** Values and errors of the composites (written once, here in autograd, from differentiable ops). */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import { arbData, arbShape, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { t64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

const x = () => A.tensor([[1, 2, 3], [4, 5, 6]]);

describe("mean, variance and logSumExp: values", () => {
  test("mean over all and one axis; float64 in, float64 out", () => {
    expect(A.mean(x())).toBeAllclose(3.5);
    expect(A.mean(x(), { axis: 0 })).toBeAllclose([2.5, 3.5, 4.5]);
    for (const f of [A.mean, A.logSumExp, A.variance]) expect(f(t64([1, 2])).dtype).toBe("float64");
  });

  test("variance is the population variance", () => {
    // rows [1,2,3] and [4,5,6]: mean of squared deviations (1 + 0 + 1)/3 = 2/3
    expect(A.variance(t64([[1, 2, 3], [4, 5, 6]]), { axis: 1 })).toBeAllclose([2 / 3, 2 / 3], { atol: 1e-15 });
    // all six: deviations ±2.5, ±1.5, ±0.5 → (6.25 + 2.25 + 0.25)·2 / 6
    expect(A.variance(t64([[1, 2, 3], [4, 5, 6]]))).toBeAllclose(17.5 / 6, { atol: 1e-15 });
    expect(A.variance(A.tensor([5, 5, 5]))).toBeAllclose(0);
  });

  test("logSumExp = log Σ eˣ, stable for large and −∞ inputs", () => {
    const e = Math.E;
    expect(A.logSumExp(t64([[1, 2, 3], [4, 5, 6]]), { axis: 1 })).toBeAllclose([Math.log(e + e ** 2 + e ** 3), Math.log(e ** 4 + e ** 5 + e ** 6)], { atol: 1e-14 });
    expect(A.logSumExp(A.tensor([1000, 1000]))).toBeAllclose(1000 + Math.LN2, { atol: 1e-4 });
    expect(A.logSumExp(A.tensor([-1000, -1000]))).toBeAllclose(-1000 + Math.LN2, { atol: 1e-4 });
    expect(A.logSumExp(A.tensor([-Infinity, -Infinity]))).toBeAllclose(-Infinity);
    expect(A.logSumExp(A.tensor([-Infinity, 0]))).toBeAllclose(0);
    expect(A.logSumExp(A.tensor([[0, 0]]), { axis: 1, keepDims: true })).toBeAllclose([[Math.LN2]]);
  });

  test("errors name the op", () => {
    expect(() => A.mean(A.zeros([0]))).toThrow("mean: cannot average over an empty axis: [0]");
    expect(() => A.logSumExp(x(), { axis: 2 })).toThrow("logSumExp: axis 2 out of range for rank 2");
    expect(() => A.variance(x(), { axis: 2 })).toThrow("variance: axis 2 out of range for rank 2");
  });

  test("property: logSumExp(x) = log(sum(exp(x))) where that does not overflow, and max ≤ lse ≤ max + log n", () => {
    const shapedData = arbShape({ minRank: 1, maxRank: 3, maxSize: 24 }).chain((shape) =>
      fc.tuple(fc.constant(shape), arbData(shape.reduce((n, d) => n * d, 1)), fc.subarray(shape.map((_, i) => i), { minLength: 1 })));
    fc.assert(
      fc.property(shapedData, ([shape, data, axes]) => {
        const a = A.tensor(Float64Array.from(data), { shape });
        const lse = A.logSumExp(a, { axis: axes });
        expect(lse).toBeAllclose(A.log(A.sum(A.exp(a), { axis: axes })), { atol: 1e-12 });
        const m = A.max(a, { axis: axes }).data;
        const n = axes.reduce((p, ax) => p * shape[ax]!, 1);
        lse.data.forEach((v, i) => {
          expect(v).toBeGreaterThanOrEqual(m[i]! - 1e-12);
          expect(v).toBeLessThanOrEqual(m[i]! + Math.log(n) + 1e-12);
        });
      }),
      propertyOptions(60),
    );
  });
});

describe("stack: values and errors", () => {
  test("stack adds a new axis (also at the end)", () => {
    const a = A.tensor([1, 2]), b = A.tensor([3, 4]);
    expect(A.stack([a, b]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(A.stack([a, b], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(A.stack([a, b], -1).toArray()).toEqual([[1, 3], [2, 4]]);
  });

  test("errors", () => {
    expect(() => A.stack([A.tensor([1, 2]), A.tensor([1, 2, 3])])).toThrow("stack: all tensors must have the same shape: [2] x [3]");
    expect(() => A.stack([])).toThrow("stack: needs at least one tensor");
    expect(() => A.stack([A.tensor([1])], 2)).toThrow("stack: axis 2 out of range for rank 2");
  });
});
