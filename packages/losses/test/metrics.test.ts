import { tensor } from "@zerograd/autograd";
import {
  accuracy, accuracyStats, binaryAccuracy, binaryAccuracyStats, meanAbsoluteErrorMetric, meanAbsoluteErrorStats, meanSquaredErrorMetric,
  sparseAccuracy, sparseAccuracyStats,
} from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { expectClose } from "./helpers.js";

const PRED = [[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]]; // argmax 1, 0, 2, 1

describe("accuracy", () => {
  test("one-hot targets: argmax agreement over unmasked rows", () => {
    const target = [[0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 0]]; // the last row is padding
    expect(accuracy(PRED, target)).toBe(2 / 4);
    expect(accuracyStats(PRED, target, { maskValue: 0 })).toEqual({ value: 2 / 3, count: 3 });
  });

  test("sparse labels with ignoreIndex and maskValue; labels [N, 1] accepted", () => {
    expect(sparseAccuracy(PRED, [1, 1, 2, -100], { ignoreIndex: -100 })).toBe(2 / 3);
    expect(sparseAccuracyStats(tensor(PRED), [[1], [-1], [0], [-1]], { maskValue: -1 })).toEqual({ value: 0.5, count: 2 });
    expect(() => sparseAccuracy(PRED, [1, 1, 2, 7])).toThrow(/label 7/);
  });

  test("weights: Σ m·w·correct / Σ m·w, and count = Σ m·w", () => {
    expect(sparseAccuracyStats(PRED, [1, 1, 2, 0], { weights: [1, 2, 3, 4] })).toEqual({ value: 4 / 10, count: 10 });
  });

  test("an empty mask gives 0 with a count of 0, never NaN", () => {
    expect(accuracyStats(PRED, PRED, { mask: [0, 0, 0, 0] })).toEqual({ value: 0, count: 0 });
    expect(sparseAccuracy(PRED, [-1, -1, -1, -1], { maskValue: -1 })).toBe(0);
  });
});

describe("binaryAccuracy", () => {
  test("multi-label with a threshold, masked labels skipped", () => {
    const p = [[0.9, 0.4, 0.6], [0.2, 0.55, 0.1]];
    const z = [[1, 0, -1], [1, 1, 0]];
    // kept: (0.9,1)✓ (0.4,0)✓ (0.2,1)✗ (0.55,1)✓ (0.1,0)✓
    expect(binaryAccuracyStats(p, z, { maskValue: -1 })).toEqual({ value: 4 / 5, count: 5 });
    // threshold 0.58: 0.55 becomes negative
    expect(binaryAccuracy(p, z, { maskValue: -1, threshold: 0.58 })).toBe(3 / 5);
  });

  test("from logits: σ(x) is compared with the threshold", () => {
    expect(binaryAccuracy([2, -1, 0.1], [1, 0, 0], { fromLogits: true })).toBe(2 / 3);
  });
});

describe("error metrics", () => {
  test("mean absolute and squared error over unmasked elements (NaN targets masked)", () => {
    const p = [1, 2, 3, 4], z = [1.5, NaN, 1, 4];
    expect(meanAbsoluteErrorStats(p, z, { maskValue: NaN })).toEqual({ value: (0.5 + 2 + 0) / 3, count: 3 });
    expectClose(meanSquaredErrorMetric(p, z, { maskValue: NaN }), (0.25 + 4) / 3);
    expect(meanAbsoluteErrorMetric(p, z, { mask: [0, 0, 0, 0] })).toBe(0);
    expect(() => meanAbsoluteErrorMetric(p, z)).toThrow(/target is NaN at unmasked element \[1\]/);
  });

  test("batches aggregate exactly through the counts", () => {
    const p = [0.3, 1.2, -0.4, 2.2, 0.9, -1.5], z = [0, 1, NaN, 2, NaN, -1];
    const whole = meanAbsoluteErrorStats(p, z, { maskValue: NaN });
    const parts = [meanAbsoluteErrorStats(p.slice(0, 3), z.slice(0, 3), { maskValue: NaN }), meanAbsoluteErrorStats(p.slice(3), z.slice(3), { maskValue: NaN })];
    const count = parts[0]!.count + parts[1]!.count;
    expect(count).toBe(whole.count);
    expectClose((parts[0]!.value * parts[0]!.count + parts[1]!.value * parts[1]!.count) / count, whole.value);
  });
});
