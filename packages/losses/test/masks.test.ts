import { ShapeError, tensor } from "@zerograd/autograd";
import { binaryCrossEntropy, maskAnd, maskFromNaN, maskFromPadding, maskFromSentinel, maskNot, maskOr, meanSquaredError, validCount } from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { expectClose, leaf } from "./helpers.js";

const values = (t: { toArray(): unknown }) => t.toArray();

describe("mask helpers", () => {
  test("maskFromSentinel: 1 where the target differs from the sentinel (NaN-aware)", () => {
    expect(values(maskFromSentinel([[1, -1], [0, 1]], -1))).toEqual([[1, 0], [1, 1]]);
    expect(values(maskFromSentinel([2, NaN, 3], NaN))).toEqual([1, 0, 1]);
    expect(values(maskFromNaN(tensor([NaN, 0.5])))).toEqual([0, 1]);
  });

  test("maskFromPadding: elementwise, or whole rows along an axis", () => {
    expect(values(maskFromPadding([[3, 5, 0, 0], [7, 0, 0, 0]]))).toEqual([[1, 1, 0, 0], [1, 0, 0, 0]]);
    expect(values(maskFromPadding([[0, 1], [0, 0], [1, 0]], 0, -1))).toEqual([1, 0, 1]);
    expect(values(maskFromPadding([9, 1, 9], 9))).toEqual([0, 1, 0]);
  });

  test("maskAnd / maskOr broadcast; maskNot swaps; validCount counts", () => {
    const labels = [[1, 1, 0], [1, 0, 1]];
    const samples = [[1], [0]];
    expect(values(maskAnd(labels, samples))).toEqual([[1, 1, 0], [0, 0, 0]]);
    expect(values(maskOr(labels, samples))).toEqual([[1, 1, 1], [1, 0, 1]]);
    expect(values(maskNot([true, false]))).toEqual([0, 1]);
    expect(validCount(labels)).toBe(4);
    expect(validCount(new Uint8Array([1, 0, 1, 1]))).toBe(3);
    expect(validCount([])).toBe(0);
  });

  test("masks hold booleans or 0/1 only", () => {
    expect(() => validCount([1, 0.5])).toThrow(/validCount: mask must hold booleans or 0\/1, found 0.5 at \[1\]/);
    expect(() => meanSquaredError(leaf([1, 2]), [0, 0], { mask: [1, NaN] })).toThrow(RangeError);
    expect(() => maskAnd()).toThrow(RangeError);
    expect(() => maskAnd([1, 0], [1, 0, 1])).toThrow(ShapeError);
  });
});

describe("mask, maskValue and ignoreIndex combine with AND", () => {
  test("an element counts only when every source keeps it", () => {
    const p = leaf([0.9, 0.8, 0.7, 0.6]);
    const loss = binaryCrossEntropy(p, [1, -1, 1, 1], { maskValue: -1, mask: [1, 1, 0, 1] });
    expectClose(loss.item(), (-Math.log(0.9) - Math.log(0.6)) / 2);
  });

  test("masks can be Tensors, typed arrays, nested booleans or numbers, with the same result", () => {
    const forms = [tensor([1, 0, 1]), new Uint8Array([1, 0, 1]), new Float32Array([1, 0, 1]), [true, false, true], [1, 0, 1]];
    const results = forms.map((mask) => meanSquaredError(leaf([1, 2, 3]), [0, 0, 0], { mask }).item());
    for (const r of results) expect(r).toBe(5);
  });
});
