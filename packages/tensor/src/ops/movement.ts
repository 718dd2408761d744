import { ShapeError, checkArg, checkKind, fmtShape } from "../errors.js";
import { NDArray, allocate } from "../ndarray.js";
import { describeValue } from "../options.js";
import { type Shape, checkShape, normAxis, shapesEqual, sizeOf, stridesOf } from "../shape.js";
import { broadcastStrides, forEachRow } from "./elementwise.js";

/** A new shape for the same elements; one dimension may be −1 (inferred). A view when contiguous. */
export function reshape(x: NDArray, shape: Shape): NDArray {
  checkKind("reshape", "shape", shape, "an array");
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new ShapeError("reshape", "only one dimension can be -1", [x.shape, shape]);
  if (shape.some((d) => !Number.isInteger(d) || d < -1)) throw new ShapeError("reshape", "dimensions must be integers ≥ -1", [shape]);
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  let target = [...shape];
  if (inferred) {
    if (known === 0 || x.size % known !== 0) throw new ShapeError("reshape", `cannot infer -1: ${x.size} elements`, [x.shape, shape]);
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (sizeOf(target) !== x.size) throw new ShapeError("reshape", `cannot reshape ${x.size} elements`, [x.shape, target]);
  if (x.isContiguous) return new NDArray(x.data, target, stridesOf(target), x.offset);
  return new NDArray(x.copyData(), target);
}

/** Reorders the axes (default: reversed). Always a view. */
export function transpose(x: NDArray, perm?: readonly number[]): NDArray {
  const order = perm ? perm.map((a) => normAxis("transpose", a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i);
  if (order.length !== x.rank || new Set(order).size !== x.rank) throw new ShapeError("transpose", `permutation [${perm?.join(",")}] is not a permutation of ${x.rank} axes`, [x.shape]);
  return new NDArray(x.data, order.map((a) => x.shape[a]!), order.map((a) => x.strides[a]!), x.offset);
}

export const permute = transpose;

/** Inserts a size-1 axis at `axis` (which may be rank, to append). A view. */
export function expandDims(x: NDArray, axis: number): NDArray {
  const a = normAxis("expandDims", axis, x.rank + 1);
  const shape = [...x.shape], strides = [...x.strides];
  shape.splice(a, 0, 1);
  strides.splice(a, 0, 0);
  return new NDArray(x.data, shape, strides, x.offset);
}

/** Removes size-1 axes (the given ones, or all). A view. */
export function squeeze(x: NDArray, axis?: number | readonly number[]): NDArray {
  if (axis !== undefined && typeof axis !== "number") checkKind("squeeze", "axis", axis, "an array");
  const axes = axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : (typeof axis === "number" ? [axis] : axis).map((a) => normAxis("squeeze", a, x.rank));
  for (const a of axes) if (x.shape[a] !== 1) throw new ShapeError("squeeze", `axis ${a} has size ${x.shape[a]}, not 1`, [x.shape]);
  const keep = (_: number, i: number) => !axes.includes(i);
  return new NDArray(x.data, x.shape.filter(keep), x.strides.filter(keep), x.offset);
}

/** Repeats size-1 axes (and adds leading ones) to reach `shape`, without copying (stride 0). */
export function broadcastTo(x: NDArray, shape: Shape): NDArray {
  checkShape("broadcastTo", shape);
  if (shapesEqual(x.shape, shape)) return x;
  const lead = shape.length - x.rank;
  if (lead < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[i + lead])) throw new ShapeError("broadcastTo", "cannot broadcast", [x.shape, shape]);
  return new NDArray(x.data, shape, broadcastStrides(x, shape), x.offset);
}

/** A Python-style range along one axis: start/stop may be negative; step may be negative. */
export interface SliceRange {
  start?: number;
  stop?: number;
  step?: number;
}

/**
 * Slices every axis by a range (missing entries keep the whole axis), with Python's rules:
 * negative indices count from the end, out-of-range bounds are clamped. Always a view.
 */
export function slice(x: NDArray, ranges: readonly (SliceRange | undefined)[]): NDArray {
  if (ranges.length > x.rank) throw new ShapeError("slice", `${ranges.length} ranges for rank ${x.rank}`, [x.shape]);
  let offset = x.offset;
  const shape: number[] = [], strides: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const d = x.shape[i]!, r = ranges[i] ?? {};
    const step = r.step ?? 1;
    checkArg(Number.isInteger(step) && step !== 0, "slice", `step must be a non-zero integer, got ${step} on axis ${i}`);
    for (const bound of [r.start, r.stop]) checkArg(bound === undefined || Number.isInteger(bound), "slice", `start and stop must be integers, got ${bound} on axis ${i}`);
    const clampIdx = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const start = r.start === undefined ? (step > 0 ? 0 : d - 1) : clampIdx(r.start, step > 0 ? 0 : -1, step > 0 ? d : d - 1);
    const stop = r.stop === undefined ? (step > 0 ? d : -1) : clampIdx(r.stop, step > 0 ? 0 : -1, step > 0 ? d : d - 1);
    const len = Math.max(0, Math.ceil((stop - start) / step));
    shape.push(len);
    strides.push(x.strides[i]! * step);
    if (len > 0) offset += start * x.strides[i]!;
  }
  return new NDArray(x.data, shape, strides, offset);
}

/** Pads every axis with `value`: `pads[i] = [before, after]`. */
export function pad(x: NDArray, pads: readonly (readonly [number, number])[], value = 0): NDArray {
  if (pads.length !== x.rank) throw new ShapeError("pad", `expected ${x.rank} [before, after] pairs, got ${pads.length}`, [x.shape]);
  for (const [b, a] of pads) checkArg(Number.isInteger(b) && Number.isInteger(a) && b >= 0 && a >= 0, "pad", `pad widths must be non-negative integers, got [${b},${a}]`);
  const shape = x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  const out = new NDArray(allocate(x.dtype, sizeOf(shape)), shape);
  if (value !== 0) out.data.fill(value);
  assign(slice(out, pads.map(([b], i) => ({ start: b, stop: b + x.shape[i]! }))), x);
  return out;
}

/** Copies `src` into the (possibly strided) view `dst`, which must have the same shape. */
export function assign(dst: NDArray, src: NDArray): void {
  if (!shapesEqual(dst.shape, src.shape)) throw new ShapeError("assign", "shapes must be equal", [dst.shape, src.shape]);
  const values = src.flat();
  if (dst.isContiguous) {
    dst.data.set(values, dst.offset);
    return;
  }
  // Row by row (rows merged where dst is contiguous across them): a contiguous row is one copy.
  const out = dst.data;
  forEachRow(dst.shape, [{ offset: dst.offset, strides: [...dst.strides] }], (o, [at], n, [step]) => {
    if (step === 1) out.set(values.subarray(o, o + n), at);
    else for (let i = 0; i < n; i++) out[at! + i * step!] = values[o + i]!;
  });
}

/** Joins arrays along an existing axis; all other dimensions must agree. */
export function concat(xs: readonly NDArray[], axis = 0): NDArray {
  if (xs.length === 0) throw new ShapeError("concat", "needs at least one array");
  const first = xs[0]!;
  const a = normAxis("concat", axis, first.rank);
  for (const x of xs) {
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== a && d !== first.shape[i])) throw new ShapeError("concat", `shapes must match except on axis ${a}`, xs.map((t) => t.shape));
  }
  const shape = [...first.shape];
  shape[a] = xs.reduce((n, x) => n + x.shape[a]!, 0);
  const dtype = xs.some((x) => x.dtype === "float64") ? "float64" : "float32";
  const out = new NDArray(allocate(dtype, sizeOf(shape)), shape);
  let at = 0;
  for (const x of xs) {
    const ranges = shape.map((_, i) => (i === a ? { start: at, stop: at + x.shape[a]! } : undefined));
    assign(slice(out, ranges), x);
    at += x.shape[a]!;
  }
  return out;
}

/** Splits along an axis into `sections` equal parts, or into parts of the given sizes. Views. */
export function split(x: NDArray, sections: number | readonly number[], axis = 0): NDArray[] {
  const a = normAxis("split", axis, x.rank);
  const d = x.shape[a]!;
  let sizes: number[];
  if (typeof sections !== "number") checkKind("split", "sections", sections, "an array");
  if (typeof sections === "number") {
    if (!Number.isInteger(sections) || sections <= 0 || d % sections !== 0) throw new ShapeError("split", `axis ${a} of size ${d} does not divide into ${sections} equal parts`, [x.shape]);
    sizes = new Array<number>(sections).fill(d / sections);
  } else {
    sizes = [...sections];
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((p, s) => p + s, 0) !== d) throw new ShapeError("split", `sizes [${sizes.map(describeValue).join(",")}] do not add up to ${d} on axis ${a}`, [x.shape]);
  }
  let at = 0;
  return sizes.map((s) => {
    const part = slice(x, x.shape.map((_, i) => (i === a ? { start: at, stop: at + s } : undefined)));
    at += s;
    return part;
  });
}

function checkIndices(op: string, indices: NDArray, size: number, axis: number, shape: Shape): Int32Array {
  const flat = indices.flat();
  const out = new Int32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (!Number.isInteger(v) || v < -size || v >= size) throw new RangeError(`${op}: index ${v} is out of range for axis ${axis} of size ${size} in ${fmtShape(shape)}`);
    out[i] = v < 0 ? v + size : v;
  }
  return out;
}

/**
 * NumPy's take: picks entries along `axis` by integer indices (negative count from the end).
 * The result has shape x.shape[:axis] + indices.shape + x.shape[axis+1:].
 */
export function take(x: NDArray, indices: NDArray, axis = 0): NDArray {
  const a = normAxis("take", axis, x.rank);
  const d = x.shape[a]!;
  const idx = checkIndices("take", indices, d, a, x.shape);
  const outer = sizeOf(x.shape.slice(0, a)), inner = sizeOf(x.shape.slice(a + 1));
  const src = x.flat();
  const out = allocate(x.dtype, outer * idx.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idx.length; j++) {
      const from = (o * d + idx[j]!) * inner, to = (o * idx.length + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i] = src[from + i]!;
    }
  }
  return new NDArray(out, [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)]);
}

/**
 * The adjoint of take: an array of `shape` that is zero except that each slice of `values` is
 * added at the index it was taken from (repeated indices accumulate).
 */
export function scatterAdd(shape: Shape, indices: NDArray, values: NDArray, axis = 0): NDArray {
  const a = normAxis("scatterAdd", axis, shape.length);
  const d = shape[a]!;
  const idx = checkIndices("scatterAdd", indices, d, a, shape);
  const expected = [...shape.slice(0, a), ...indices.shape, ...shape.slice(a + 1)];
  if (!shapesEqual(values.shape, expected)) throw new ShapeError("scatterAdd", `values must have shape ${fmtShape(expected)}`, [values.shape]);
  const outer = sizeOf(shape.slice(0, a)), inner = sizeOf(shape.slice(a + 1));
  const src = values.flat();
  const out = allocate(values.dtype, sizeOf(shape));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < idx.length; j++) {
      const to = (o * d + idx[j]!) * inner, from = (o * idx.length + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i]! += src[from + i]!;
    }
  }
  return new NDArray(out, shape);
}

/**
 * One-hot encoding along a new last axis of size `depth`. As in TensorFlow, an index outside
 * [0, depth) (for example a −1 "missing" sentinel) gives an all-zero row; non-integers are errors.
 */
export function oneHot(indices: NDArray, depth: number): NDArray {
  checkArg(Number.isInteger(depth) && depth > 0, "oneHot", `depth must be a positive integer, got ${depth}`);
  const flat = indices.flat();
  const out = allocate(indices.dtype, flat.length * depth);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (Number.isNaN(v)) continue;
    if (!Number.isInteger(v)) throw new RangeError(`oneHot: indices must be integers, found ${v}`);
    if (v >= 0 && v < depth) out[i * depth + v] = 1;
  }
  return new NDArray(out, [...indices.shape, depth]);
}
