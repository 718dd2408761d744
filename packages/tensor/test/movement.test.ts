import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { NDArray, array } from "@zerograd/tensor";
import { arbBroadcastPair, arbData, arbPermutation, arbShape, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { innerProduct } from "../../../tools/testing/matchers.js";
import "../../../tools/testing/matchers.js";

/** [[0,1,2],[3,4,5]] */
const x23 = () => array([[0, 1, 2], [3, 4, 5]]);
const sizeOf = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
const fromData = (data: number[], shape: number[]) => new NDArray(Float64Array.from(data), shape);

describe("reshape, transpose, expandDims, squeeze, broadcastTo", () => {
  test("reshape keeps the row-major order; -1 is inferred; contiguous input gives a view", () => {
    const x = x23();
    const r = T.reshape(x, [3, 2]);
    expect(r.toArray()).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(r.data).toBe(x.data);
    expect(T.reshape(x, [-1]).toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(T.reshape(x, [3, -1]).shape).toEqual([3, 2]);
    expect(T.reshape(x, [1, 6, 1]).shape).toEqual([1, 6, 1]);
    expect(T.reshape(T.zeros([0, 3]), [3, 0, 5]).shape).toEqual([3, 0, 5]);
  });

  test("reshape of a non-contiguous view copies in row-major order of the view", () => {
    const t = T.transpose(x23()); // [[0,3],[1,4],[2,5]]
    const r = T.reshape(t, [6]);
    expect(r.toArray()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(r.data).not.toBe(t.data);
    const s = T.slice(x23(), [{ start: 1 }]); // a contiguous view with an offset
    expect(T.reshape(s, [3, 1]).toArray()).toEqual([[3], [4], [5]]);
  });

  test("transpose reverses by default and follows a permutation (negative axes allowed)", () => {
    expect(T.transpose(x23()).toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    const y = T.reshape(T.arange(24), [2, 3, 4]);
    const p = T.transpose(y, [1, -1, 0]);
    expect(p.shape).toEqual([3, 4, 2]);
    expect(p.get(2, 1, 1)).toBe(y.get(1, 2, 1));
    expect(T.permute).toBe(T.transpose);
  });

  test("expandDims inserts a size-1 axis; squeeze removes size-1 axes", () => {
    expect(T.expandDims(x23(), 0).shape).toEqual([1, 2, 3]);
    expect(T.expandDims(x23(), 2).shape).toEqual([2, 3, 1]);
    expect(T.expandDims(x23(), -1).shape).toEqual([2, 3, 1]);
    expect(T.expandDims(x23(), 1).toArray()).toEqual([[[0, 1, 2]], [[3, 4, 5]]]);
    const y = T.zeros([1, 3, 1, 2]);
    expect(T.squeeze(y).shape).toEqual([3, 2]);
    expect(T.squeeze(y, 2).shape).toEqual([1, 3, 2]);
    expect(T.squeeze(y, [0, -2]).shape).toEqual([3, 2]);
  });

  test("broadcastTo repeats size-1 axes with stride 0 and adds leading axes", () => {
    const b = T.broadcastTo(array([[1], [2]]), [3, 2, 4]);
    expect(b.strides).toEqual([0, 1, 0]);
    expect(b.toArray()).toEqual([[[1, 1, 1, 1], [2, 2, 2, 2]], [[1, 1, 1, 1], [2, 2, 2, 2]], [[1, 1, 1, 1], [2, 2, 2, 2]]]);
    const x = x23();
    expect(T.broadcastTo(x, [2, 3])).toBe(x);
  });

  test("errors: sizes, -1, permutations, squeezing non-1 axes, broadcasting", () => {
    expect(() => T.reshape(x23(), [4, 2])).toThrow("reshape: cannot reshape 6 elements: [2,3] x [4,2]");
    expect(() => T.reshape(x23(), [-1, -1])).toThrow("reshape: only one dimension can be -1: [2,3] x [-1,-1]");
    expect(() => T.reshape(x23(), [4, -1])).toThrow("reshape: cannot infer -1: 6 elements: [2,3] x [4,-1]");
    expect(() => T.reshape(x23(), [2, -3])).toThrow("reshape: dimensions must be integers ≥ -1: [2,-3]");
    expect(() => T.transpose(x23(), [0, 0])).toThrow("transpose: permutation [0,0] is not a permutation of 2 axes: [2,3]");
    expect(() => T.transpose(x23(), [0])).toThrow("transpose: permutation [0] is not a permutation of 2 axes: [2,3]");
    expect(() => T.transpose(x23(), [0, 2])).toThrow("transpose: axis 2 out of range for rank 2");
    expect(() => T.expandDims(x23(), 4)).toThrow("expandDims: axis 4 out of range for rank 3");
    expect(() => T.squeeze(x23(), 1)).toThrow("squeeze: axis 1 has size 3, not 1: [2,3]");
    expect(() => T.broadcastTo(x23(), [3, 3])).toThrow("broadcastTo: cannot broadcast: [2,3] x [3,3]");
    expect(() => T.broadcastTo(x23(), [3])).toThrow("broadcastTo: cannot broadcast: [2,3] x [3]");
  });
});

describe("slice", () => {
  test("Python rules: negative indices, clamped bounds, steps", () => {
    const v = T.arange(6); // [0..5]
    expect(T.slice(v, [{ start: 1, stop: 4 }]).toArray()).toEqual([1, 2, 3]);
    expect(T.slice(v, [{ start: -2 }]).toArray()).toEqual([4, 5]);
    expect(T.slice(v, [{ stop: -4 }]).toArray()).toEqual([0, 1]);
    expect(T.slice(v, [{ start: -100, stop: 100 }]).toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(T.slice(v, [{ step: 2 }]).toArray()).toEqual([0, 2, 4]);
    expect(T.slice(v, [{ start: 1, step: 3 }]).toArray()).toEqual([1, 4]);
    expect(T.slice(v, [{ start: 4, stop: 2 }]).toArray()).toEqual([]);
  });

  test("negative steps walk backwards; stop −1 means the last element, as in Python", () => {
    const v = T.arange(6);
    expect(T.slice(v, [{ step: -1 }]).toArray()).toEqual([5, 4, 3, 2, 1, 0]);
    expect(T.slice(v, [{ step: -2 }]).toArray()).toEqual([5, 3, 1]);
    expect(T.slice(v, [{ start: 4, stop: 1, step: -1 }]).toArray()).toEqual([4, 3, 2]);
    expect(T.slice(v, [{ start: -1, stop: -1, step: -1 }]).toArray()).toEqual([]);
    expect(T.slice(v, [{ start: 100, step: -3 }]).toArray()).toEqual([5, 2]);
    expect(T.slice(v, [{ start: 2, stop: -100, step: -1 }]).toArray()).toEqual([2, 1, 0]);
  });

  test("several axes; missing ranges keep the axis; the result is a view", () => {
    const x = T.reshape(T.arange(12), [3, 4]);
    const s = T.slice(x, [{ start: 1 }, { start: 3, stop: 0, step: -2 }]);
    expect(s.toArray()).toEqual([[7, 5], [11, 9]]);
    expect(s.data).toBe(x.data);
    expect(T.slice(x, [undefined, { start: 1, stop: 2 }]).toArray()).toEqual([[1], [5], [9]]);
    expect(T.slice(x, [{ start: 2 }]).toArray()).toEqual([[8, 9, 10, 11]]);
  });

  test("errors: zero or fractional step, fractional bounds, too many ranges", () => {
    expect(() => T.slice(T.arange(3), [{ step: 0 }])).toThrow(new RangeError("slice: step must be a non-zero integer, got 0 on axis 0"));
    expect(() => T.slice(x23(), [undefined, { step: 1.5 }])).toThrow(new RangeError("slice: step must be a non-zero integer, got 1.5 on axis 1"));
    expect(() => T.slice(x23(), [{}, {}, {}])).toThrow("slice: 3 ranges for rank 2: [2,3]");
    expect(() => T.slice(T.arange(4), [{ start: 1.5, step: 2 }])).toThrow(new RangeError("slice: start and stop must be integers, got 1.5 on axis 0"));
    expect(() => T.slice(x23(), [undefined, { stop: NaN }])).toThrow(new RangeError("slice: start and stop must be integers, got NaN on axis 1"));
  });

  /** CPython's PySlice_AdjustIndices, then range(start, stop, step): the reference for one axis. */
  function pythonSlice(n: number, start: number | undefined, stop: number | undefined, step: number): number[] {
    const adjust = (v: number | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      if (v < 0) return Math.max(v + n, step < 0 ? -1 : 0);
      return Math.min(v, step < 0 ? n - 1 : n);
    };
    const b = adjust(start, step < 0 ? n - 1 : 0), e = adjust(stop, step < 0 ? -1 : n);
    const out: number[] = [];
    for (let i = b; step > 0 ? i < e : i > e; i += step) out.push(i);
    return out;
  }

  test("property: slicing one axis picks the same indices as Python", () => {
    const bound = fc.option(fc.integer({ min: -9, max: 9 }), { nil: undefined });
    const step = fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), bound, bound, step, fc.integer({ min: 1, max: 3 }), (n, start, stop, st, cols) => {
        const x = T.reshape(T.arange(n * cols), [n, cols]);
        const s = T.slice(x, [{ start, stop, step: st }]);
        const rows = pythonSlice(n, start, stop, st);
        expect(s.shape).toEqual([rows.length, cols]);
        expect(s.toArray()).toEqual(rows.map((r) => Array.from({ length: cols }, (_, c) => r * cols + c)));
      }),
      propertyOptions(300),
    );
  });
});

describe("pad, concat, split", () => {
  test("pad adds [before, after] entries per axis, filled with the value", () => {
    expect(T.pad(array([[1, 2]]), [[1, 0], [0, 2]]).toArray()).toEqual([[0, 0, 0, 0], [1, 2, 0, 0]]);
    expect(T.pad(array([1, 2]), [[2, 1]], -1).toArray()).toEqual([-1, -1, 1, 2, -1]);
    expect(T.pad(T.transpose(x23()), [[0, 0], [1, 0]]).toArray()).toEqual([[0, 0, 3], [0, 1, 4], [0, 2, 5]]);
    expect(T.pad(array([[1]], { dtype: "float64" }), [[0, 0], [0, 0]]).dtype).toBe("float64");
  });

  test("pad errors: pair count, negative or fractional widths", () => {
    expect(() => T.pad(x23(), [[1, 1]])).toThrow("pad: expected 2 [before, after] pairs, got 1: [2,3]");
    expect(() => T.pad(x23(), [[0, 0], [-1, 0]])).toThrow(new RangeError("pad: pad widths must be non-negative integers, got [-1,0]"));
    expect(() => T.pad(x23(), [[0.5, 0], [0, 0]])).toThrow(RangeError);
  });

  test("concat joins along an axis; empty pieces are fine; float64 wins", () => {
    expect(T.concat([x23(), array([[6, 7, 8]])]).toArray()).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    expect(T.concat([x23(), array([[9], [9]])], -1).toArray()).toEqual([[0, 1, 2, 9], [3, 4, 5, 9]]);
    expect(T.concat([T.zeros([2, 0]), x23(), T.zeros([2, 0])], 1).toArray()).toEqual(x23().toArray());
    expect(T.concat([T.transpose(x23()), T.transpose(x23())], 1).toArray()).toEqual([[0, 3, 0, 3], [1, 4, 1, 4], [2, 5, 2, 5]]);
    expect(T.concat([array([1]), array([2], { dtype: "float64" })]).dtype).toBe("float64");
  });

  test("split into equal sections or given sizes, as views", () => {
    const x = T.reshape(T.arange(12), [2, 6]);
    const parts = T.split(x, 3, 1);
    expect(parts.map((p) => p.toArray())).toEqual([[[0, 1], [6, 7]], [[2, 3], [8, 9]], [[4, 5], [10, 11]]]);
    expect(parts[1]!.data).toBe(x.data);
    expect(T.split(x, [1, 0, 5], -1).map((p) => p.shape)).toEqual([[2, 1], [2, 0], [2, 5]]);
  });

  test("concat and split errors", () => {
    expect(() => T.concat([x23(), T.zeros([3, 3])], 1)).toThrow("concat: shapes must match except on axis 1: [2,3] x [3,3]");
    expect(() => T.concat([x23(), T.zeros([3])])).toThrow("concat: shapes must match except on axis 0: [2,3] x [3]");
    expect(() => T.concat([])).toThrow("concat: needs at least one array");
    expect(() => T.concat([x23()], 2)).toThrow("concat: axis 2 out of range for rank 2");
    expect(() => T.split(T.arange(5), 2)).toThrow("split: axis 0 of size 5 does not divide into 2 equal parts: [5]");
    expect(() => T.split(T.arange(3), [1, 1])).toThrow("split: sizes [1,1] do not add up to 3 on axis 0: [3]");
    expect(() => T.split(T.arange(3), [4, -1])).toThrow("split: sizes [4,-1] do not add up to 3 on axis 0: [3]");
  });
});

describe("take, scatterAdd, oneHot, assign", () => {
  test("take picks along an axis; negative indices count from the end; index shape is kept", () => {
    const x = array([[1, 2], [3, 4], [5, 6]]);
    expect(T.take(x, array([2, 0, 2])).toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
    expect(T.take(x, array([-1]), 0).toArray()).toEqual([[5, 6]]);
    expect(T.take(x, array([1, 1, 0]), 1).toArray()).toEqual([[2, 2, 1], [4, 4, 3], [6, 6, 5]]);
    expect(T.take(x, array([[0, 1], [2, 0]])).shape).toEqual([2, 2, 2]);
    expect(T.take(T.transpose(x), array([1]), 1).toArray()).toEqual([[3], [4]]);
  });

  test("scatterAdd is take's adjoint: repeated indices accumulate", () => {
    const out = T.scatterAdd([3, 2], array([2, 0, 2]), array([[1, 1], [2, 3], [10, 20]]));
    expect(out.toArray()).toEqual([[2, 3], [0, 0], [11, 21]]);
    expect(T.scatterAdd([2, 3], array([-1]), array([[1], [2]]), 1).toArray()).toEqual([[0, 0, 1], [0, 0, 2]]);
  });

  test("oneHot: a new last axis; out-of-range indices such as −1 give zero rows", () => {
    expect(T.oneHot(array([0, 2, -1, 3]), 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]);
    expect(T.oneHot(array([[1], [0]]), 2).shape).toEqual([2, 1, 2]);
  });

  test("assign writes into a strided view of another array", () => {
    const dst = T.zeros([2, 3]);
    T.assign(T.slice(dst, [undefined, { step: -2 }]), array([[1, 2], [3, 4]]));
    expect(dst.toArray()).toEqual([[2, 0, 1], [4, 0, 3]]);
    expect(() => T.assign(dst, T.zeros([3, 2]))).toThrow("assign: shapes must be equal: [2,3] x [3,2]");
  });

  test("errors: indices out of range or fractional, values of the wrong shape, bad depth", () => {
    const x = array([[1, 2], [3, 4], [5, 6]]);
    expect(() => T.take(x, array([3]))).toThrow(new RangeError("take: index 3 is out of range for axis 0 of size 3 in [3,2]"));
    expect(() => T.take(x, array([-3, -4]))).toThrow(new RangeError("take: index -4 is out of range for axis 0 of size 3 in [3,2]"));
    expect(() => T.take(x, array([0.5]), 1)).toThrow(new RangeError("take: index 0.5 is out of range for axis 1 of size 2 in [3,2]"));
    expect(() => T.take(x, array([0]), 2)).toThrow("take: axis 2 out of range for rank 2");
    expect(() => T.scatterAdd([3, 2], array([0, 1]), T.zeros([3, 2]))).toThrow("scatterAdd: values must have shape [2,2]: [3,2]");
    expect(() => T.scatterAdd([3], array([5]), T.zeros([1]))).toThrow(new RangeError("scatterAdd: index 5 is out of range for axis 0 of size 3 in [3]"));
    expect(() => T.oneHot(array([1.5]), 3)).toThrow(new RangeError("oneHot: indices must be integers, found 1.5"));
    expect(() => T.oneHot(array([1]), 0)).toThrow(new RangeError("oneHot: depth must be a positive integer, got 0"));
  });
});

describe("movement properties", () => {
  const shaped = (opts: Parameters<typeof arbShape>[0]) =>
    arbShape(opts).chain((shape) => fc.tuple(fc.constant(shape), arbData(sizeOf(shape))));

  test("reshape round-trips, through a view or a copy", () => {
    const arb = shaped({ minRank: 1, maxRank: 4, maxSize: 60 }).chain(([shape, data]) =>
      fc.tuple(fc.constant(shape), fc.constant(data), arbPermutation(shape.length), fc.shuffledSubarray(shape)),
    );
    fc.assert(
      fc.property(arb, ([shape, data, perm, someDims]) => {
        const x = T.transpose(fromData(data, shape), perm);
        const rest = x.size / sizeOf(someDims);
        const target = Number.isInteger(rest) ? [...someDims, rest] : [x.size];
        const y = T.reshape(x, target);
        expect(y.shape).toEqual(target);
        expect(T.reshape(y, x.shape).toArray()).toEqual(x.toArray());
        expect(Array.from(y.flat())).toEqual(Array.from(x.flat())); // row-major order is kept
      }),
      propertyOptions(100),
    );
  });

  test("transpose by a permutation and then by its inverse is the identity", () => {
    const arb = shaped({ minRank: 0, maxRank: 5, maxSize: 120 }).chain(([shape, data]) =>
      fc.tuple(fc.constant(shape), fc.constant(data), arbPermutation(shape.length)),
    );
    fc.assert(
      fc.property(arb, ([shape, data, perm]) => {
        const x = fromData(data, shape);
        const p = T.transpose(x, perm);
        expect(p.shape).toEqual(perm.map((a) => shape[a]));
        const inverse = new Array<number>(perm.length);
        perm.forEach((a, i) => (inverse[a] = i));
        expect(T.transpose(p, inverse).toArray()).toEqual(x.toArray());
      }),
      propertyOptions(100),
    );
  });

  test("⟨broadcastTo(x), y⟩ = ⟨x, sumToShape(y)⟩ (the two are adjoint)", () => {
    const arb = arbBroadcastPair({ maxRank: 4, maxSize: 120 }).chain(({ a, out }) =>
      fc.tuple(fc.constant(a), fc.constant(out), arbData(sizeOf(a)), arbData(sizeOf(out))),
    );
    fc.assert(
      fc.property(arb, ([small, big, dx, dy]) => {
        const x = fromData(dx, small), y = fromData(dy, big);
        const lhs = innerProduct(T.broadcastTo(x, big).copyData(), y.data);
        const rhs = innerProduct(x.data, T.sumToShape(y, small).data);
        expect(lhs).toBeCloseTo(rhs, 9);
      }),
      propertyOptions(150),
    );
  });

  test("⟨take(x, i), y⟩ = ⟨x, scatterAdd(i, y)⟩", () => {
    const arb = shaped({ minRank: 1, maxRank: 3, maxSize: 60 }).chain(([shape, data]) =>
      fc.integer({ min: 0, max: shape.length - 1 }).chain((axis) =>
        fc.array(fc.integer({ min: -shape[axis]!, max: shape[axis]! - 1 }), { minLength: 0, maxLength: 6 }).chain((idx) => {
          const outShape = [...shape.slice(0, axis), idx.length, ...shape.slice(axis + 1)];
          return fc.tuple(fc.constant({ shape, data, axis, idx, outShape }), arbData(sizeOf(outShape)));
        }),
      ),
    );
    fc.assert(
      fc.property(arb, ([{ shape, data, axis, idx, outShape }, dy]) => {
        const x = fromData(data, shape), y = fromData(dy, outShape), i = array(idx);
        const lhs = innerProduct(T.take(x, i, axis).data, y.data);
        const rhs = innerProduct(x.data, T.scatterAdd(shape, i, y, axis).data);
        expect(lhs).toBeCloseTo(rhs, 9);
      }),
      propertyOptions(150),
    );
  });

  test("split then concat gives back the array; pad then slice gives back the interior", () => {
    const arb = shaped({ minRank: 1, maxRank: 3, maxSize: 60 }).chain(([shape, data]) =>
      fc.tuple(
        fc.constant(shape),
        fc.constant(data),
        fc.integer({ min: 0, max: shape.length - 1 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: shape.length, maxLength: shape.length }),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, data, axis, pads]) => {
        const x = fromData(data, shape);
        const d = shape[axis]!;
        const sizes = [Math.floor(d / 2), 0, d - Math.floor(d / 2)];
        expect(T.concat(T.split(x, sizes, axis), axis).toArray()).toEqual(x.toArray());
        const padded = T.pad(x, pads, 7);
        expect(padded.shape).toEqual(shape.map((n, i) => n + pads[i]![0] + pads[i]![1]));
        expect(T.slice(padded, pads.map(([b], i) => ({ start: b, stop: b + shape[i]! }))).toArray()).toEqual(x.toArray());
        expect(T.sum(padded).item()).toBeCloseTo(T.sum(x).item() + 7 * (padded.size - x.size), 9);
      }),
      propertyOptions(100),
    );
  });
});
