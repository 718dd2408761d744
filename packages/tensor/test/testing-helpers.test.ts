// The shared test helpers are checked here too: a matcher that always passed would make every
// test that uses it vacuous.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { array } from "@zerograd/tensor";
import { arbBroadcastPair, arbData, arbShape, broadcastShape, f32AwayFrom, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { allclose, expectAllclose, innerProduct } from "../../../tools/testing/matchers.js";

describe("allclose", () => {
  test("passes within atol + rtol·|expected| and fails outside, naming the first bad element", () => {
    expect(allclose([1, 2], [1, 2 + 1e-7]).ok).toBe(true);
    const r = allclose([1, 2, 3], [1, 2.1, 3.5], { atol: 0.01, rtol: 0 });
    expect(r.ok).toBe(false);
    expect(r.message).toBe("2 of 3 elements differ (atol 0.01, rtol 0); first at flat index 1: actual 2, expected 2.1; max |diff| 0.5");
    expect(allclose([100], [101], { atol: 0, rtol: 0.02 }).ok).toBe(true);
    expect(allclose([100], [103], { atol: 0, rtol: 0.02 }).ok).toBe(false);
  });

  test("NaN equals NaN unless told otherwise; infinities equal only themselves; −0 equals 0", () => {
    expect(allclose([NaN], [NaN]).ok).toBe(true);
    expect(allclose([NaN], [NaN], { equalNaN: false }).ok).toBe(false);
    expect(allclose([NaN], [0]).ok).toBe(false);
    expect(allclose([0], [NaN]).ok).toBe(false);
    expect(allclose([Infinity], [Infinity]).ok).toBe(true);
    expect(allclose([Infinity], [-Infinity]).ok).toBe(false);
    expect(allclose([1e300], [Infinity]).ok).toBe(false);
    expect(allclose([-0], [0], { atol: 0, rtol: 0 }).ok).toBe(true);
  });

  test("shapes must agree; a number broadcasts; a typed array compares the flat elements", () => {
    expect(allclose(array([[1, 2]]), [1, 2])).toEqual({ ok: false, message: "shapes differ: actual [1,2], expected [2]" });
    expect(allclose(array([[1, 2]]), [[1, 2]]).ok).toBe(true);
    expect(allclose(array([[3, 3], [3, 3]]), 3).ok).toBe(true);
    expect(allclose(array([[3, 3], [3, 4]]), 3).ok).toBe(false);
    expect(allclose(array([[1, 2]]), Float64Array.of(1, 2)).ok).toBe(true);
    expect(allclose(array([1, 2, 3]), Float64Array.of(1, 2)).message).toBe("sizes differ: actual has 3 elements, expected 2");
    expect(allclose(array(5), 5).ok).toBe(true);
    expect(allclose(5, [5]).ok).toBe(false); // a scalar is not a [1] array
  });

  test("expectAllclose and toBeAllclose fail with the message", () => {
    expect(() => expectAllclose([1], [2])).toThrow("expected values to be allclose: 1 of 1 elements differ");
    expect(() => expect([1]).toBeAllclose([2])).toThrow("expected values to be allclose");
    expect(() => expect([1]).not.toBeAllclose([1])).toThrow("expected values not to be allclose");
  });

  test("innerProduct", () => {
    expect(innerProduct([1, 2, 3], Float32Array.of(4, 5, 6))).toBe(32);
    expect(() => innerProduct([1], [1, 2])).toThrow("innerProduct: lengths differ: 1 and 2");
  });
});

describe("arbitraries", () => {
  test("arbShape respects rank, dimension and size bounds", () => {
    fc.assert(
      fc.property(arbShape({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 4, maxSize: 20 }), (shape) => {
        expect(shape.length >= 1 && shape.length <= 3).toBe(true);
        expect(shape.every((d) => d >= 2 && d <= 4)).toBe(true);
        expect(shape.reduce((n, d) => n * d, 1)).toBeLessThanOrEqual(20);
      }),
      propertyOptions(100),
    );
  });

  test("arbBroadcastPair gives shapes that broadcast to the reported shape", () => {
    fc.assert(
      fc.property(arbBroadcastPair({ maxRank: 4 }), ({ a, b, out }) => {
        expect(broadcastShape(a, b)).toEqual(out);
        expect(out.length).toBe(Math.max(a.length, b.length));
      }),
      propertyOptions(100),
    );
    expect(() => broadcastShape([2], [3])).toThrow("broadcastShape: [2] and [3] do not broadcast");
  });

  test("arbData and f32AwayFrom stay in bounds, finite and away from kinks", () => {
    fc.assert(
      fc.property(arbData(7, -2, 3), fc.array(f32AwayFrom(-1, 1, [0, 0.5], 0.1)), (data, away) => {
        expect(data).toHaveLength(7);
        expect(data.every((v) => Number.isFinite(v) && v >= -2 && v <= 3)).toBe(true);
        expect(away.every((v) => Math.abs(v) >= 0.1 && Math.abs(v - 0.5) >= 0.1)).toBe(true);
      }),
      propertyOptions(100),
    );
  });
});
