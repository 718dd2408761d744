import { Tensor } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";

type TypedArray = Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** A value or arrays of arrays of it (`1`, `[1, 0]`, `[[true], [false]]`). */
export type Nested<V> = V | readonly Nested<V>[];

/**
 * Masks, weights, group ids and labels: a tensor (its value is read; no gradient flows into it),
 * an NDArray, a typed array (one axis) or nested arrays of numbers or booleans.
 */
export type MaskInput = Tensor | T.NDArray | TypedArray | Nested<number> | Nested<boolean>;

/** Targets take the same forms; a target Tensor may require grad. */
export type TargetInput = MaskInput;

/** Reads a constant input as an NDArray of `dtype`; bad input throws an error naming the loss. */
export function readArray(op: string, name: string, input: MaskInput, dtype: T.DType): T.NDArray {
  let x: T.NDArray;
  try {
    x = input instanceof Tensor ? input.value : T.array(input, { dtype });
  } catch (e) {
    if (e instanceof T.ShapeError) throw new T.ShapeError(op, `${name}: ${e.rule}`, e.shapes);
    if (e instanceof TypeError) throw new TypeError(`${op}: ${name}: ${e.message}`);
    throw e;
  }
  return x.astype(dtype);
}

/**
 * `x` broadcast to `shape` as a fresh contiguous array. Broadcasting follows NumPy (trailing
 * axes line up), and only `x` may be broadcast: the loss's shape never grows.
 */
export function expandTo(op: string, name: string, x: T.NDArray, shape: T.Shape): T.NDArray {
  const fits = x.rank <= shape.length && x.shape.every((d, i) => d === 1 || d === shape[shape.length - x.rank + i]);
  if (!fits) {
    const hint = x.rank === 1 && shape.length > 1 && x.shape[0] === shape[0] ? ` (per-sample values need shape [${shape[0]},1])` : "";
    throw new T.ShapeError(op, `${name} must broadcast to the elementwise loss's shape${hint}`, [x.shape, shape]);
  }
  return new T.NDArray(T.broadcastTo(x, shape).copyData(), shape);
}

export function checkPrediction(op: string, prediction: unknown): Tensor {
  if (!(prediction instanceof Tensor)) throw new TypeError(`${op}: prediction must be a Tensor, got ${describe(prediction)}`);
  return prediction;
}

/** The target as a Tensor in the prediction's dtype (a Tensor target is kept, with its graph). */
export function targetTensor(op: string, target: TargetInput, dtype: T.DType): Tensor {
  return target instanceof Tensor ? target : new Tensor(readArray(op, "target", target, dtype));
}

export function checkSameShape(op: string, prediction: Tensor, target: Tensor): void {
  if (!T.shapesEqual(prediction.shape, target.shape)) throw new T.ShapeError(op, "prediction and target must have the same shape", [prediction.shape, target.shape]);
}

/** A flat index written as a full index: 7 in [2,4] → [1,3]. */
export function indexOf(flat: number, shape: T.Shape): string {
  const index: number[] = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    index.unshift(flat % shape[a]!);
    flat = Math.floor(flat / shape[a]!);
  }
  return `[${index.join(",")}]`;
}

/**
 * Targets must be finite wherever they are not masked: a NaN label that nobody masked is a data
 * bug, reported here instead of surfacing later as a NaN loss.
 */
export function checkFiniteWhereKept(op: string, name: string, x: T.NDArray, keep: T.NDArray): void {
  const values = x.flat();
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i]! - values[i]!; // NaN as soon as one value is not finite
  if (probe === 0) return; // the common case, checked without a branch on the mask
  const kept = keptAt(keep, x.shape);
  for (let i = 0; i < values.length; i++) {
    if (kept[i] !== 0 && !Number.isFinite(values[i]!)) {
      throw new RangeError(`${op}: ${name} is ${values[i]} at unmasked element ${indexOf(i, x.shape)}; mask it (mask, or maskValue: ${values[i]}) or fix the data`);
    }
  }
}

/** The mask as flat values over `shape` (read in place when it has that shape already). */
const keptAt = (keep: T.NDArray, shape: T.Shape): T.Storage => (T.shapesEqual(keep.shape, shape) ? keep.flat() : T.broadcastTo(keep, shape).copyData());

/** Labels: the prediction's shape without the class axis, or with it of size 1 (Keras-style [N, 1]). */
export function readLabels(op: string, labels: MaskInput, shape: T.Shape, axis: number, dtype: T.DType): T.NDArray {
  const y = readArray(op, "labels", labels, dtype);
  const rowShape = shape.filter((_, i) => i !== axis);
  if (T.shapesEqual(y.shape, rowShape)) return y;
  if (T.shapesEqual(y.shape, shape.map((d, i) => (i === axis ? 1 : d)))) return T.reshape(y, rowShape);
  throw new T.ShapeError(op, "labels must have the prediction's shape without the class axis (or with it of size 1)", [y.shape, shape]);
}

/** Unmasked labels must be integers in [0, classes). */
export function checkLabels(op: string, y: T.NDArray, keep: T.NDArray, classes: number): void {
  const labels = y.flat(), kept = keep.flat();
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (kept[i] !== 0 && !(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new RangeError(`${op}: label ${v} at unmasked element ${indexOf(i, y.shape)} is not an integer in [0, ${classes}); mask it (mask, maskValue or ignoreIndex) or fix the data`);
    }
  }
}

/** Unmasked values must lie in [0, 1] (probabilities, binary targets). */
export function checkUnitInterval(op: string, name: string, x: T.NDArray, keep: T.NDArray, hint: string): void {
  const values = x.flat();
  let inside = true;
  for (let i = 0; i < values.length && inside; i++) inside = values[i]! >= 0 && values[i]! <= 1; // never mispredicted on good data
  if (inside) return;
  const kept = keptAt(keep, x.shape);
  for (let i = 0; i < values.length; i++) {
    if (kept[i] !== 0 && (values[i]! < 0 || values[i]! > 1)) throw new RangeError(`${op}: ${name} ${values[i]} at unmasked element ${indexOf(i, x.shape)} is outside [0, 1]${hint}`);
  }
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return x.constructor?.name ?? "object";
  return typeof x;
}
