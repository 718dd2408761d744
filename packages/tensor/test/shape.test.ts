import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ShapeError, broadcastAxes, broadcastShapes, checkShape, fmtShape, normAxes, normAxis, shapesEqual, sizeOf, stridesOf } from "@zerograd/tensor";
import { arbBroadcastPair, arbShape, propertyOptions } from "../../../tools/testing/arbitraries.js";

describe("shape helpers", () => {
  test("sizeOf multiplies the dimensions; a scalar has one element and a 0 makes it empty", () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([5, 0, 2])).toBe(0);
  });

  test("stridesOf is row-major: the last axis moves by one", () => {
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([7])).toEqual([1]);
    expect(stridesOf([])).toEqual([]);
  });

  test("shapesEqual compares rank and every dimension", () => {
    expect(shapesEqual([2, 3], [2, 3])).toBe(true);
    expect(shapesEqual([2, 3], [3, 2])).toBe(false);
    expect(shapesEqual([1, 3], [3])).toBe(false);
    expect(shapesEqual([], [])).toBe(true);
  });

  test("fmtShape prints brackets, also for a scalar", () => {
    expect(fmtShape([2, 3])).toBe("[2,3]");
    expect(fmtShape([])).toBe("[]");
  });

  test("checkShape rejects negative and fractional dimensions", () => {
    expect(() => checkShape("zeros", [2, -1])).toThrow("zeros: dimensions must be non-negative integers: [2,-1]");
    expect(() => checkShape("zeros", [1.5])).toThrow(ShapeError);
    expect(() => checkShape("zeros", [0, 3])).not.toThrow();
  });

  test("normAxis maps negative axes from the end and rejects out-of-range ones", () => {
    expect(normAxis("sum", -1, 3)).toBe(2);
    expect(normAxis("sum", 0, 3)).toBe(0);
    expect(() => normAxis("sum", 3, 3)).toThrow("sum: axis 3 out of range for rank 3");
    expect(() => normAxis("sum", -4, 3)).toThrow("sum: axis -4 out of range for rank 3");
    expect(() => normAxis("sum", 0.5, 3)).toThrow(ShapeError);
  });

  test("normAxes sorts, defaults to every axis and rejects repeats", () => {
    expect(normAxes("sum", undefined, 3)).toEqual([0, 1, 2]);
    expect(normAxes("sum", [-1, 0], 3)).toEqual([0, 2]);
    expect(normAxes("sum", 1, 3)).toEqual([1]);
    expect(() => normAxes("sum", [1, -2], 3)).toThrow("sum: repeated axis in [1,-2]");
  });

  test("broadcastShapes aligns on the right; each pair is equal or has a 1", () => {
    expect(broadcastShapes("add", [16, 1, 5], [4, 5])).toEqual([16, 4, 5]);
    expect(broadcastShapes("add", [], [2, 3])).toEqual([2, 3]);
    expect(broadcastShapes("where", [3, 1], [1, 4], [4])).toEqual([3, 4]);
    expect(broadcastShapes("add", [0, 1], [1, 3])).toEqual([0, 3]);
    expect(() => broadcastShapes("add", [2, 3], [4])).toThrow("add: shapes cannot be broadcast: [2,3] x [4]");
  });

  test("broadcastAxes lists the leading axes and the size-1 axes that were expanded", () => {
    expect(broadcastAxes([4, 5], [16, 4, 5])).toEqual([0]);
    expect(broadcastAxes([16, 1, 5], [16, 4, 5])).toEqual([1]);
    expect(broadcastAxes([1, 1], [1, 3])).toEqual([1]);
    expect(broadcastAxes([2, 3], [2, 3])).toEqual([]);
  });

  test("ShapeError carries op, rule and shapes", () => {
    const e = new ShapeError("matmul", "inner dimensions differ", [[2, 3], [4, 5]]);
    expect(e.message).toBe("matmul: inner dimensions differ: [2,3] x [4,5]");
    expect(e.name).toBe("ShapeError");
    expect(e.op).toBe("matmul");
    expect(e.rule).toBe("inner dimensions differ");
    expect(e.shapes).toEqual([[2, 3], [4, 5]]);
    expect(e).toBeInstanceOf(Error);
    expect(new ShapeError("concat", "needs at least one array").message).toBe("concat: needs at least one array");
  });

  test("property: broadcastShapes agrees with the NumPy rule and is symmetric", () => {
    fc.assert(
      fc.property(arbBroadcastPair(), ({ a, b, out }) => {
        expect(broadcastShapes("add", a, b)).toEqual(out);
        expect(broadcastShapes("add", b, a)).toEqual(out);
      }),
      propertyOptions(200),
    );
  });

  test("property: strides of a shape walk every index exactly once", () => {
    fc.assert(
      fc.property(arbShape({ maxSize: 120 }), (shape) => {
        const strides = stridesOf(shape);
        const seen = new Set<number>();
        const walk = (axis: number, at: number): void => {
          if (axis === shape.length) { seen.add(at); return; }
          for (let i = 0; i < shape[axis]!; i++) walk(axis + 1, at + i * strides[axis]!);
        };
        walk(0, 0);
        expect(seen.size).toBe(sizeOf(shape));
        expect(Math.max(...seen)).toBe(sizeOf(shape) - 1);
      }),
      propertyOptions(100),
    );
  });
});
