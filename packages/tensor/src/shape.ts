import { ShapeError, checkKind } from "./errors.js";
import { describeValue } from "./options.js";

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: the last axis moves by 1. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return Array.isArray(b) && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that a shape is a list of non-negative integers. */
export function checkShape(op: string, shape: Shape): void {
  checkKind(op, "a shape", shape, "an array");
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `dimensions must be non-negative integers`, [shape]);
}

/** Maps a possibly negative axis into [0, rank). */
export function normAxis(op: string, axis: number, rank: number): number {
  checkKind(op, "an axis", axis, "a number");
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new ShapeError(op, `axis ${axis} out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Normalises `axis` (a number, a list, or undefined = all axes) into sorted unique axes. */
export function normAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axis !== "number" && !Array.isArray(axis)) throw new TypeError(`${op}: axis must be an integer or an array of integers, got ${describeValue(axis)}`);
  const list: readonly number[] = typeof axis === "number" ? [axis] : axis;
  const axes = list.map((a) => normAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) throw new ShapeError(op, `repeated axis in [${list.join(",")}]`);
  return axes.sort((a, b) => a - b);
}

/** NumPy broadcasting: align on the right; each pair of dimensions must be equal or contain a 1. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else throw new ShapeError(op, "shapes cannot be broadcast", shapes);
    }
  }
  return out;
}

/**
 * The axes of `to` along which `from` was broadcast: the leading axes `from` lacks and the
 * axes where `from` has size 1 but `to` does not. Summing over them undoes the broadcast.
 */
export function broadcastAxes(from: Shape, to: Shape): number[] {
  const lead = to.length - from.length;
  const axes: number[] = [];
  for (let i = 0; i < to.length; i++) if (i < lead || (from[i - lead] === 1 && to[i] !== 1)) axes.push(i);
  return axes;
}
