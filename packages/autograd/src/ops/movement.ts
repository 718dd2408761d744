import * as T from "@zerograd/tensor";
import { type OpDef, type OpRule, Tensor, apply, named } from "../tensor.js";
import { add } from "./binary.js";

export type MovementName = "reshape" | "transpose" | "broadcastTo" | "sumToShape" | "slice" | "sliceAdjoint" | "take" | "scatterAdd";

/** Movement ops: they only rearrange elements, so each vjp is the inverse rearrangement of g. */
export const movementOps = named<MovementName, OpRule<any>>({
  reshape: { forward: ([x], shape: T.Shape) => T.reshape(x!, shape), vjp: (g, c) => [reshape(g, c.inputs[0]!.shape)] },
  transpose: {
    forward: ([x], perm: number[]) => T.transpose(x!, perm),
    vjp: (g, c) => [transpose(g, inversePermutation(c.attrs))],
  },
  // The adjoint of broadcasting is summing over the broadcast axes, and vice versa.
  broadcastTo: { forward: ([x], shape: T.Shape) => T.broadcastTo(x!, shape), vjp: (g, c) => [sumToShape(g, c.inputs[0]!.shape)] },
  sumToShape: { forward: ([x], shape: T.Shape) => T.sumToShape(x!, shape), vjp: (g, c) => [broadcastTo(g, c.inputs[0]!.shape)] },
  // slice and sliceAdjoint (zeros with g written into the sliced region) are each other's vjp.
  slice: {
    forward: ([x], ranges: (T.SliceRange | undefined)[]) => T.slice(x!, ranges),
    vjp: (g, c) => [sliceAdjoint(g, c.inputs[0]!.shape, c.attrs)],
    accumulate: (acc, g, c) => T.assign(T.slice(acc, c.attrs), T.add(T.slice(acc, c.attrs), g)), // acc[ranges] += g
  },
  sliceAdjoint: {
    forward: ([g], { shape, ranges }: { shape: T.Shape; ranges: (T.SliceRange | undefined)[] }) => {
      const out = T.zeros(shape, { dtype: g!.dtype });
      T.assign(T.slice(out, ranges), g!);
      return out;
    },
    vjp: (g, c) => [slice(g, c.attrs.ranges)],
  },
  // take and scatterAdd are each other's vjp.
  take: {
    forward: ([x], { indices, axis }: { indices: T.NDArray; axis: number }) => T.take(x!, indices, axis),
    vjp: (g, c) => [scatterAdd(g, c.attrs.indices, c.inputs[0]!.shape, c.attrs.axis)],
  },
  scatterAdd: {
    forward: ([v], { indices, axis, shape }: { indices: T.NDArray; axis: number; shape: T.Shape }) => T.scatterAdd(shape, indices, v!, axis),
    vjp: (g, c) => [take(g, c.attrs.indices, c.attrs.axis)],
  },
});

function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export function reshape(x: Tensor, shape: T.Shape): Tensor {
  return T.shapesEqual(x.shape, shape) ? x : apply(movementOps.reshape, [x], shape);
}

/** Reorders axes (default: reversed). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  if (perm !== undefined) T.checkKind("transpose", "perm", perm, "an array");
  const order = perm ? perm.map((a) => T.normAxis("transpose", a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i);
  return apply(movementOps.transpose, [x], order);
}

export const permute = transpose;

/** Swaps the last two axes (the matrix transpose of a batch of matrices). */
export function mT(x: Tensor): Tensor {
  if (x.rank < 2) throw new T.ShapeError("mT", "needs at least two axes", [x.shape]);
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[x.rank - 2]!];
  return transpose(x, perm);
}

export function expandDims(x: Tensor, axis: number): Tensor {
  return reshape(x, T.expandDims(x.value, axis).shape);
}

export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  return reshape(x, T.squeeze(x.value, axis).shape);
}

export function flatten(x: Tensor, startAxis = 1): Tensor {
  const a = T.normAxis("flatten", startAxis, x.rank);
  return reshape(x, [...x.shape.slice(0, a), T.sizeOf(x.shape.slice(a))]);
}

export function broadcastTo(x: Tensor, shape: T.Shape): Tensor {
  return T.shapesEqual(x.shape, shape) ? x : apply(movementOps.broadcastTo, [x], shape);
}

/** Sums x down to `shape` (undoes broadcasting). */
export function sumToShape(x: Tensor, shape: T.Shape): Tensor {
  return T.shapesEqual(x.shape, shape) ? x : apply(movementOps.sumToShape, [x], shape);
}

/** Python-style slicing per axis ({start, stop, step}; missing entries keep the axis). */
export function slice(x: Tensor, ranges: readonly (T.SliceRange | undefined)[]): Tensor {
  T.checkKind("slice", "ranges", ranges, "an array");
  return apply(movementOps.slice, [x], [...ranges]);
}

function sliceAdjoint(g: Tensor, shape: T.Shape, ranges: (T.SliceRange | undefined)[]): Tensor {
  return apply(movementOps.sliceAdjoint, [g], { shape, ranges });
}

/** Pads each axis with `value` ([before, after] per axis); composed from concatenations. */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  T.checkKind("pad", "pads", pads, "an array");
  if (pads.length !== x.rank) throw new T.ShapeError("pad", `expected ${x.rank} [before, after] pairs, got ${pads.length}`, [x.shape]);
  for (const p of pads) T.checkArg(Array.isArray(p) && p.length === 2 && p.every((w) => Number.isInteger(w) && w >= 0), "pad", `pad widths must be non-negative integers, got ${Array.isArray(p) ? `[${p.join(",")}]` : T.describeValue(p)}`);
  // The vjp of padding is slicing the interior back out: sliceAdjoint's forward is exactly padding with 0.
  const padded = sliceAdjoint(x, x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]), pads.map(([b], i) => ({ start: b, stop: b + x.shape[i]! })));
  if (value === 0) return padded;
  const border = T.pad(T.zeros(x.shape, { dtype: x.dtype }), pads, value);
  return add(padded, new Tensor(border));
}

/** Joins tensors along an existing axis; the vjp slices g back into pieces. */
export const concatOp: OpDef<number> & { readonly name: "concat" } = {
  name: "concat",
  forward: (xs, axis) => T.concat(xs, axis),
  vjp: (g, { inputs, attrs: axis }) => {
    let at = 0;
    return inputs.map((x) => {
      const part = slice(g, g.shape.map((_, i) => (i === axis ? { start: at, stop: at + x.shape[axis]! } : undefined)));
      at += x.shape[axis]!;
      return part;
    });
  },
};

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new T.ShapeError("concat", "needs at least one tensor");
  return apply(concatOp, [...xs], T.normAxis("concat", axis, xs[0]!.rank));
}

export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new T.ShapeError("stack", "needs at least one tensor");
  for (const x of xs) if (!T.shapesEqual(x.shape, xs[0]!.shape)) throw new T.ShapeError("stack", "all tensors must have the same shape", xs.map((t) => t.shape));
  const a = T.normAxis("stack", axis, xs[0]!.rank + 1);
  return concat(xs.map((x) => expandDims(x, a)), a);
}

/** Splits into equal sections or parts of the given sizes along an axis (slices, so differentiable). */
export function split(x: Tensor, sections: number | readonly number[], axis = 0): Tensor[] {
  const a = T.normAxis("split", axis, x.rank);
  const parts = T.split(x.value, sections, a);
  let at = 0;
  return parts.map((p) => {
    const s = slice(x, x.shape.map((_, i) => (i === a ? { start: at, stop: at + p.shape[a]! } : undefined)));
    at += p.shape[a]!;
    return s;
  });
}

function toIndices(op: string, indices: Tensor | T.NDArray | readonly number[] | Int32Array): T.NDArray {
  if (indices instanceof Tensor) return indices.value;
  if (indices instanceof T.NDArray) return indices;
  if (!(indices instanceof Int32Array)) T.checkKind(op, "indices", indices, "an array");
  for (const i of indices) T.checkKind(op, "an index", i, "a number");
  return T.array(Array.from(indices));
}

/** NumPy's take along an axis by integer indices; gradients scatter-add back. */
export function take(x: Tensor, indices: Tensor | T.NDArray | readonly number[] | Int32Array, axis = 0): Tensor {
  return apply(movementOps.take, [x], { indices: toIndices("take", indices), axis: T.normAxis("take", axis, x.rank) });
}

export function scatterAdd(values: Tensor, indices: Tensor | T.NDArray | readonly number[] | Int32Array, shape: T.Shape, axis = 0): Tensor {
  return apply(movementOps.scatterAdd, [values], { indices: toIndices("scatterAdd", indices), axis: T.normAxis("scatterAdd", axis, shape.length), shape });
}

/** One-hot encoding (no gradient); indices outside [0, depth), such as −1, give all-zero rows. */
export function oneHot(indices: Tensor | T.NDArray, depth: number): Tensor {
  return new Tensor(T.oneHot(indices instanceof Tensor ? indices.value : indices, depth));
}
