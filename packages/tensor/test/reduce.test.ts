import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { NDArray, array } from "@zerograd/tensor";
import { arbData, arbPermutation, arbShape, propertyOptions } from "../../../tools/testing/arbitraries.js";
import "../../../tools/testing/matchers.js";

const x = () => array([[1, 2, 3], [4, 5, 6]]);
const f64 = (values: T.NestedArray) => array(values, { dtype: "float64" });

describe("reductions: worked examples on [[1,2,3],[4,5,6]]", () => {
  test("sum over all, one, negative and several axes, with and without keepDims", () => {
    expect(T.sum(x())).toBeAllclose(21);
    expect(T.sum(x()).shape).toEqual([]);
    expect(T.sum(x(), { axis: 0 })).toBeAllclose([5, 7, 9]);
    expect(T.sum(x(), { axis: -1 })).toBeAllclose([6, 15]);
    expect(T.sum(x(), { axis: 1, keepDims: true })).toBeAllclose([[6], [15]]);
    expect(T.sum(x(), { axis: [0, 1] })).toBeAllclose(21);
    expect(T.sum(x(), { keepDims: true })).toBeAllclose([[21]]);
    expect(T.sum(x(), { axis: [] })).toBeAllclose([[1, 2, 3], [4, 5, 6]]);
  });

  test("max, min and prod", () => {
    expect(T.max(x())).toBeAllclose(6);
    expect(T.max(x(), { axis: 0 })).toBeAllclose([4, 5, 6]);
    expect(T.max(x(), { axis: 1, keepDims: true })).toBeAllclose([[3], [6]]);
    expect(T.min(x(), { axis: 1 })).toBeAllclose([1, 4]);
    expect(T.prod(x())).toBeAllclose(720);
    expect(T.prod(x(), { axis: 1 })).toBeAllclose([6, 120]);
  });

  test("argmax and argmin: per axis, flattened, first index on ties", () => {
    expect(T.argmax(x(), { axis: 1 })).toBeAllclose([2, 2]);
    expect(T.argmin(x(), { axis: 0 })).toBeAllclose([0, 0, 0]);
    expect(T.argmax(x())).toBeAllclose(5);
    expect(T.argmax(x(), { keepDims: true }).shape).toEqual([1, 1]);
    expect(T.argmax(x(), { axis: 0, keepDims: true })).toBeAllclose([[1, 1, 1]]);
    expect(T.argmax(array([3, 7, 7, 1]))).toBeAllclose(1);
    expect(T.argmin(array([3, 1, 7, 1]))).toBeAllclose(1);
  });

  test("sumToShape undoes broadcasting", () => {
    expect(T.sumToShape(x(), [3])).toBeAllclose([5, 7, 9]);
    expect(T.sumToShape(x(), [2, 1])).toBeAllclose([[6], [15]]);
    expect(T.sumToShape(x(), [1, 3])).toBeAllclose([[5, 7, 9]]);
    expect(T.sumToShape(x(), [])).toBeAllclose(21);
    expect(T.sumToShape(x(), [2, 3])).toBeAllclose([[1, 2, 3], [4, 5, 6]]);
    const big = T.ones([16, 4, 5]);
    expect(T.sumToShape(big, [16, 1, 5]).shape).toEqual([16, 1, 5]);
    expect(T.sumToShape(big, [16, 1, 5])).toBeAllclose(4);
    expect(T.sumToShape(big, [4, 5])).toBeAllclose(16);
  });

  test("reductions read strided views", () => {
    const t = T.transpose(x()); // [[1,4],[2,5],[3,6]]
    expect(T.sum(t, { axis: 1 })).toBeAllclose([5, 7, 9]);
    expect(T.max(T.slice(x(), [undefined, { step: -2 }]), { axis: 0 })).toBeAllclose([6, 4]);
  });

  test("sums accumulate in float64, whatever the storage", () => {
    // In float32, 1e8 + 1 rounds back to 1e8; in float64 the 1 survives.
    expect(T.sum(array([1e8, 1, -1e8]))).toBeAllclose(1, { atol: 0 });
    expect(T.sum(array([[1e8, 1e8], [1, 2], [-1e8, -1e8]]), { axis: 0 })).toBeAllclose([1, 2], { atol: 0 });
  });

  test("float64 in, float64 out", () => {
    for (const f of [T.sum, T.max, T.min, T.prod]) expect(f(f64([1, 2])).dtype).toBe("float64");
    expect(T.sumToShape(f64([[1, 2]]), [2]).dtype).toBe("float64");
  });
});

describe("reductions: NaN and empty inputs", () => {
  test("max and min propagate NaN (reduction and keepDims paths)", () => {
    expect(T.max(array([1, NaN, 3]))).toBeAllclose(NaN);
    expect(T.min(array([NaN, 1, 3]))).toBeAllclose(NaN);
    expect(T.max(array([[1, NaN], [2, 0]]), { axis: 0 })).toBeAllclose([2, NaN]);
    expect(T.min(array([[1, NaN], [2, 0]]), { axis: 1 })).toBeAllclose([NaN, 0]);
  });

  test("argmax and argmin return the first NaN, as NumPy does", () => {
    expect(T.argmax(array([1, NaN, 5, NaN]))).toBeAllclose(1);
    expect(T.argmin(array([1, -3, NaN]))).toBeAllclose(2);
    expect(T.argmax(array([[NaN, 1], [2, 3]]), { axis: 0 })).toBeAllclose([0, 1]);
  });

  test("a sum (or prod) over an empty axis is the identity; 0-size outputs are fine", () => {
    expect(T.sum(T.zeros([0]))).toBeAllclose(0);
    expect(T.sum(T.zeros([2, 0]), { axis: 1 })).toBeAllclose([0, 0]);
    expect(T.sum(T.zeros([0, 3]), { axis: 0 })).toBeAllclose([0, 0, 0]);
    expect(T.prod(T.zeros([0]))).toBeAllclose(1);
    expect(T.sum(T.zeros([0, 3]), { axis: 1 }).shape).toEqual([0]);
    expect(T.max(T.zeros([0, 3]), { axis: 1 }).shape).toEqual([0]);
    expect(T.sumToShape(T.zeros([0, 3]), [3])).toBeAllclose([0, 0, 0]);
  });

  test("max, min, argmax and argmin of nothing throw a clear error", () => {
    expect(() => T.max(T.zeros([0]))).toThrow("max: cannot reduce an empty axis: [0]");
    expect(() => T.min(T.zeros([2, 0]), { axis: 1 })).toThrow("min: cannot reduce an empty axis: [2,0]");
    expect(() => T.argmax(T.zeros([0]))).toThrow("argmax: cannot reduce an empty array: [0]");
    expect(() => T.argmin(T.zeros([3, 0]), { axis: 1 })).toThrow("argmin: cannot reduce an empty axis: [3,0]");
  });

  test("axis errors name the op", () => {
    expect(() => T.sum(x(), { axis: 2 })).toThrow("sum: axis 2 out of range for rank 2");
    expect(() => T.max(x(), { axis: [0, 0] })).toThrow("max: repeated axis in [0,0]");
    expect(() => T.argmax(x(), { axis: -3 })).toThrow("argmax: axis -3 out of range for rank 2");
  });

  test("sumToShape rejects a target the array cannot have been broadcast from", () => {
    expect(() => T.sumToShape(x(), [4])).toThrow("sumToShape: target is not broadcastable to the array: [2,3] x [4]");
    expect(() => T.sumToShape(x(), [1, 2, 3])).toThrow("sumToShape: target has more axes than the array: [2,3] x [1,2,3]");
  });
});

describe("reduction properties", () => {
  const shapedData = arbShape({ minRank: 1, maxRank: 4, maxSize: 120 }).chain((shape) =>
    fc.tuple(fc.constant(shape), arbData(shape.reduce((n, d) => n * d, 1)), fc.subarray(shape.map((_, i) => i))),
  );

  /** The test's own reduction: visits every index, folds along `axes`. */
  function naiveReduce(data: number[], shape: number[], axes: number[], init: number, fold: (acc: number, v: number) => number): number[] {
    const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = new Array<number>(outShape.reduce((n, d) => n * d, 1)).fill(init);
    const strides = T.stridesOf(outShape);
    data.forEach((v, flat) => {
      let rest = flat, at = 0;
      for (let i = shape.length - 1; i >= 0; i--) {
        const k = rest % shape[i]!;
        rest = Math.floor(rest / shape[i]!);
        if (!axes.includes(i)) at += k * strides[i]!;
      }
      out[at] = fold(out[at]!, v);
    });
    return out;
  }

  test("sum, max and min over any set of axes agree with a naive fold", () => {
    fc.assert(
      fc.property(shapedData, ([shape, data, axes]) => {
        const a = new NDArray(Float64Array.from(data), shape);
        const opts = { axis: axes, keepDims: true };
        expect(T.sum(a, opts).data).toBeAllclose(Float64Array.from(naiveReduce(data, shape, axes, 0, (s, v) => s + v)), { atol: 1e-12 });
        expect(T.max(a, opts).data).toBeAllclose(Float64Array.from(naiveReduce(data, shape, axes, -Infinity, Math.max)), { atol: 0, rtol: 0 });
        expect(T.min(a, opts).data).toBeAllclose(Float64Array.from(naiveReduce(data, shape, axes, Infinity, Math.min)), { atol: 0, rtol: 0 });
        expect(T.sum(a, { axis: axes }).shape).toEqual(shape.filter((_, i) => !axes.includes(i)));
      }),
      propertyOptions(80),
    );
  });

  test("reducing a permuted view equals reducing its contiguous copy", () => {
    const arb = shapedData.chain(([shape, data, axes]) => fc.tuple(fc.constant(shape), fc.constant(data), fc.constant(axes), arbPermutation(shape.length)));
    fc.assert(
      fc.property(arb, ([shape, data, axes, perm]) => {
        const view = T.transpose(new NDArray(Float32Array.from(data), shape), perm);
        const copy = view.contiguous();
        expect(T.sum(view, { axis: axes }).data).toBeAllclose(T.sum(copy, { axis: axes }).data, { atol: 1e-5 });
        expect(T.prod(view, { axis: axes }).data).toBeAllclose(T.prod(copy, { axis: axes }).data, { atol: 1e-5 });
        expect(T.argmax(view, { axis: 0 }).data).toBeAllclose(T.argmax(copy, { axis: 0 }).data, { atol: 0 });
      }),
      propertyOptions(60),
    );
  });
});
