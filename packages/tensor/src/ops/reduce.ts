import { ShapeError, checkKind } from "../errors.js";
import { kernels } from "../kernels/index.js";
import type { ReduceOp } from "../kernels/reduce.js";
import { NDArray, allocate } from "../ndarray.js";
import { type Shape, broadcastAxes, checkShape, normAxes, normAxis, shapesEqual, sizeOf } from "../shape.js";

export interface ReduceOptions {
  /** One axis, several, or (default) all of them. */
  axis?: number | readonly number[];
  /** Keep reduced axes with size 1 (so the result broadcasts against the input). */
  keepDims?: boolean;
}

/** Reduces one axis of a contiguous array, keeping it with size 1. */
function reduceAxis(op: ReduceOp, x: NDArray, axis: number): NDArray {
  const shape = x.shape;
  const outer = sizeOf(shape.slice(0, axis)), k = shape[axis]!, inner = sizeOf(shape.slice(axis + 1));
  const outShape = shape.map((d, i) => (i === axis ? 1 : d));
  const out = allocate(x.dtype, outer * inner);
  kernels().reduce[op](out, x.flat(), outer, k, inner);
  return new NDArray(out, outShape);
}

/** The shape after reducing `axes`, with or without the kept size-1 axes. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduce(op: ReduceOp, x: NDArray, options: ReduceOptions, emptyOk: boolean): NDArray {
  const axes = normAxes(op, options.axis, x.rank);
  if (!emptyOk && axes.some((a) => x.shape[a] === 0)) throw new ShapeError(op, "cannot reduce an empty axis", [x.shape]);
  let y = x;
  // Reduce the axes one at a time, last first; each step is a flat [outer, k, inner] kernel.
  for (let i = axes.length - 1; i >= 0; i--) y = reduceAxis(op, y, axes[i]!);
  if (axes.length === 0) y = new NDArray(x.copyData(), x.shape);
  return new NDArray(y.data, reducedShape(x.shape, axes, options.keepDims ?? false));
}

export const sum = (x: NDArray, options: ReduceOptions = {}): NDArray => reduce("sum", x, options, true);
export const prod = (x: NDArray, options: ReduceOptions = {}): NDArray => reduce("prod", x, options, true);
export const max = (x: NDArray, options: ReduceOptions = {}): NDArray => reduce("max", x, options, false);
export const min = (x: NDArray, options: ReduceOptions = {}): NDArray => reduce("min", x, options, false);

/** Number of elements folded into each output of a reduction over `axis`. */
export function reductionCount(shape: Shape, axis: number | readonly number[] | undefined): number {
  return normAxes("mean", axis, shape.length).reduce((n, a) => n * shape[a]!, 1);
}

/** Index of the maximum along one axis (or over the flattened array when axis is omitted). */
export function argmax(x: NDArray, options: { axis?: number; keepDims?: boolean } = {}): NDArray {
  return argReduce("argmax", x, options);
}

export function argmin(x: NDArray, options: { axis?: number; keepDims?: boolean } = {}): NDArray {
  return argReduce("argmin", x, options);
}

function argReduce(op: "argmax" | "argmin", x: NDArray, options: { axis?: number; keepDims?: boolean }): NDArray {
  checkKind(op, "options", options, "an object");
  if (options.axis === undefined) {
    if (x.size === 0) throw new ShapeError(op, "cannot reduce an empty array", [x.shape]);
    const flatX = new NDArray(x.flat(), [x.size]);
    const r = reduceAxis(op, flatX, 0);
    return new NDArray(r.data, options.keepDims ? x.shape.map(() => 1) : []);
  }
  const axis = normAxis(op, options.axis, x.rank);
  if (x.shape[axis] === 0) throw new ShapeError(op, "cannot reduce an empty axis", [x.shape]);
  const r = reduceAxis(op, x, axis);
  return new NDArray(r.data, reducedShape(x.shape, [axis], options.keepDims ?? false));
}

/**
 * Undoes broadcasting: sums `x` over the axes along which an array of `shape` was broadcast to
 * x's shape, and returns an array of exactly `shape`. The autograd engine applies it on every edge.
 */
export function sumToShape(x: NDArray, shape: Shape): NDArray {
  if (shapesEqual(x.shape, shape)) return x;
  checkShape("sumToShape", shape);
  if (shape.length > x.rank) throw new ShapeError("sumToShape", "target has more axes than the array", [x.shape, shape]);
  const lead = x.rank - shape.length;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1 && shape[i] !== x.shape[i + lead]) throw new ShapeError("sumToShape", "target is not broadcastable to the array", [x.shape, shape]);
  }
  const summed = sum(x, { axis: broadcastAxes(shape, x.shape), keepDims: true });
  return new NDArray(summed.data, shape);
}

