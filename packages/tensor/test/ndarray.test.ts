import { describe, expect, test } from "vitest";
import { NDArray, ShapeError, allocate, array, arange, broadcastTo, dtypeOf, resultDType, slice, transpose } from "@zerograd/tensor";
import "../../../tools/testing/matchers.js";

/** [[0,1,2,3],[4,5,6,7],[8,9,10,11]] */
const grid = () => new NDArray(Float32Array.from({ length: 12 }, (_, i) => i), [3, 4]);

describe("NDArray", () => {
  test("a new array is row-major, contiguous and owns exactly its data", () => {
    const x = grid();
    expect(x.shape).toEqual([3, 4]);
    expect(x.strides).toEqual([4, 1]);
    expect(x.offset).toBe(0);
    expect(x.size).toBe(12);
    expect(x.rank).toBe(2);
    expect(x.dtype).toBe("float32");
    expect(x.isContiguous).toBe(true);
    expect(x.contiguous()).toBe(x);
  });

  test("shape and strides are frozen copies", () => {
    const shape = [2, 2];
    const x = new NDArray(new Float32Array(4), shape);
    shape[0] = 9;
    expect(x.shape).toEqual([2, 2]);
    expect(Object.isFrozen(x.shape)).toBe(true);
    expect(Object.isFrozen(x.strides)).toBe(true);
  });

  test("the data length must equal the size when no strides are given", () => {
    expect(() => new NDArray(new Float32Array(5), [2, 3])).toThrow("NDArray: data has 5 elements but the shape needs 6: [2,3]");
    expect(() => new NDArray(new Float32Array(6), [2, -3])).toThrow(ShapeError);
  });

  test("item returns the one element (of a view too) and refuses larger arrays", () => {
    expect(new NDArray(Float32Array.of(7), []).item()).toBe(7);
    expect(slice(grid(), [{ start: 2, stop: 3 }, { start: 1, stop: 2 }]).item()).toBe(9);
    expect(() => grid().item()).toThrow("item: only one-element arrays convert to a number: [3,4]");
  });

  test("get reads one element of a view; negative indices count from the end", () => {
    const x = grid();
    expect(x.get(1, 2)).toBe(6);
    expect(x.get(-1, -1)).toBe(11);
    const t = transpose(x); // [4,3], t[i,j] = x[j,i]
    expect(t.get(3, 1)).toBe(7);
    const s = slice(x, [{ step: -1 }, { start: 1, step: 2 }]); // rows 2,1,0; cols 1,3
    expect(s.get(0, 1)).toBe(11);
    expect(s.get(2, 0)).toBe(1);
    expect(() => x.get(3, 0)).toThrow("get: index 3 out of range for axis 0 of size 3: [3,4]");
    expect(() => x.get(0)).toThrow("get: expected 2 indices, got 1: [3,4]");
  });

  test("toArray builds nested arrays; a scalar gives a plain number", () => {
    expect(grid().toArray()).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
    expect(new NDArray(Float32Array.of(2.5), []).toArray()).toBe(2.5);
    expect(new NDArray(new Float32Array(0), [2, 0]).toArray()).toEqual([[], []]);
  });

  test("a transpose is a view with permuted strides; contiguous() copies it row-major", () => {
    const x = grid();
    const t = transpose(x);
    expect(t.data).toBe(x.data);
    expect(t.strides).toEqual([1, 4]);
    expect(t.isContiguous).toBe(false);
    const c = t.contiguous();
    expect(c.isContiguous).toBe(true);
    expect(c.strides).toEqual([3, 1]);
    expect(Array.from(c.data)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(c.toArray()).toEqual(t.toArray());
  });

  test("a slice is a view with an offset; flat() of a contiguous slice shares storage", () => {
    const x = grid();
    const rows = slice(x, [{ start: 1, stop: 3 }]);
    expect(rows.offset).toBe(4);
    expect(rows.isContiguous).toBe(true);
    const f = rows.flat();
    expect(Array.from(f)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(f.buffer).toBe(x.data.buffer);
    const c = rows.contiguous();
    expect(c.offset).toBe(0);
    expect(c.data.length).toBe(8);
  });

  test("a stepped slice and a broadcast view copy correctly", () => {
    const x = grid();
    const s = slice(x, [{ start: 0, stop: 3, step: 2 }, { start: 3, step: -2 }]); // rows 0,2; cols 3,1
    expect(s.shape).toEqual([2, 2]);
    expect(s.strides).toEqual([8, -2]);
    expect(s.offset).toBe(3);
    expect(Array.from(s.copyData())).toEqual([3, 1, 11, 9]);
    const b = broadcastTo(array([1, 2, 3]), [2, 3]);
    expect(b.strides).toEqual([0, 1]);
    expect(b.isContiguous).toBe(false);
    expect(b.toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
  });

  test("copyInto writes a strided view row-major into a given array, reusable across calls", () => {
    const x = grid();
    const s = slice(x, [{ start: 0, stop: 3, step: 2 }, { start: 3, step: -2 }]);
    const out = new Float64Array(5).fill(-1);
    expect(s.copyInto(out)).toBe(out);
    expect(Array.from(out)).toEqual([...s.copyData(), -1]);
    expect(() => s.copyInto(new Float32Array(3))).toThrow("copyInto: the output holds 3 elements, fewer than the 4 to copy");
  });

  test("size-1 axes may have any stride and still count as contiguous", () => {
    const x = new NDArray(Float32Array.of(1, 2, 3), [1, 3], [99, 1]);
    expect(x.isContiguous).toBe(true);
    expect(Array.from(x.flat())).toEqual([1, 2, 3]);
  });

  test("copyData and astype convert between float32 and float64", () => {
    const x = new NDArray(Float32Array.of(0.1, 2), [2]);
    const d = x.copyData("float64");
    expect(d).toBeInstanceOf(Float64Array);
    expect(d[0]).toBe(Math.fround(0.1));
    const y = x.astype("float64");
    expect(y.dtype).toBe("float64");
    expect(x.astype("float32")).toBe(x);
    const back = new NDArray(Float64Array.of(0.1), [1]).astype("float32");
    expect(back.data[0]).toBe(Math.fround(0.1));
  });

  test("dtype helpers: allocate, dtypeOf and resultDType (float64 wins)", () => {
    expect(allocate("float64", 3)).toBeInstanceOf(Float64Array);
    expect(allocate("float32", 3)).toBeInstanceOf(Float32Array);
    expect(dtypeOf(new Float64Array(1))).toBe("float64");
    const f32 = arange(2), f64 = arange(2, undefined, 1, { dtype: "float64" });
    expect(resultDType(f32, f32)).toBe("float32");
    expect(resultDType(f32, f64)).toBe("float64");
  });

  test("a 0-size array has no elements and copies to an empty array", () => {
    const e = new NDArray(new Float32Array(0), [3, 0]);
    expect(e.size).toBe(0);
    expect(e.copyData().length).toBe(0);
    expect(transpose(e).contiguous().shape).toEqual([0, 3]);
  });

  test("toString names shape and dtype", () => {
    expect(String(new NDArray(Float32Array.of(1, 2), [2]))).toBe("NDArray([2], float32) [1,2]");
  });
});
