/**
 * The arrays fit() works on, held as one "table": every array has the samples along axis 0, and
 * a batch, a shuffle or a validation split is the same list of row indices applied to all of them.
 */
import { Tensor } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { NDArray, ShapeError } from "@zerograd/tensor";

/** Flat values and their shape, e.g. `{ data: images, shape: [n, 8, 8, 1] }`. */
export interface FlatArray {
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
  shape: readonly number[];
}

/** An array of samples: an NDArray, a Tensor (its value), flat values with a shape, a typed array (one axis) or nested arrays. */
export type ArrayInput = NDArray | Tensor | FlatArray | Float32Array | Float64Array | Int32Array | Uint8Array | readonly number[] | readonly (readonly number[])[] | readonly unknown[];

/** A model's input: one array, or several by name (the model receives a record of tensors). */
export type Inputs = ArrayInput | { readonly [name: string]: ArrayInput };

/**
 * Training or evaluation data. `y` is one array for a single-output model, or one per output
 * name. Every array holds the samples along axis 0.
 */
export interface Data {
  x: Inputs;
  y?: ArrayInput | { readonly [output: string]: ArrayInput };
  /** A weight per sample ([n]), for every output, or per output name (Keras' sample_weight). */
  sampleWeight?: ArrayInput | { readonly [output: string]: ArrayInput };
  /** An integer group id per sample ([n]), shared by every output's loss (see fit's groupWeights). */
  groups?: ArrayInput;
}

/** The internal column store: every array has `n` rows. */
export interface Table {
  n: number;
  x: NDArray | Record<string, NDArray>;
  /** Targets by output name. */
  y: Record<string, NDArray>;
  /** [n] sample weights by output name (absent = none). */
  sampleWeight: Record<string, NDArray>;
  groups: NDArray | null;
  /** Per output: per-sample loss options (mask, weights, groups given with n rows), by option name. */
  options: Record<string, Record<string, NDArray>>;
}

function isFlatArray(v: unknown): v is FlatArray {
  if (typeof v !== "object" || v === null || Object.keys(v).length !== 2) return false;
  const { data, shape } = v as Partial<FlatArray>;
  return ArrayBuffer.isView(data) && Array.isArray(shape) && shape.every((d) => typeof d === "number");
}

export function isArrayInput(v: unknown): v is ArrayInput {
  return v instanceof NDArray || v instanceof Tensor || ArrayBuffer.isView(v) || Array.isArray(v) || isFlatArray(v);
}

/** Reads any array input as a contiguous NDArray (float32 unless it is float64). */
export function toNDArray(op: string, name: string, input: ArrayInput): NDArray {
  if (input instanceof Tensor) return input.value.contiguous();
  if (input instanceof NDArray) return input.contiguous();
  try {
    if (isFlatArray(input)) {
      const data = input.data instanceof Float32Array || input.data instanceof Float64Array ? input.data : Float32Array.from(input.data);
      return T.array(data, { shape: input.shape, dtype: data instanceof Float64Array ? "float64" : "float32" });
    }
    if (ArrayBuffer.isView(input) && !(input instanceof Float32Array) && !(input instanceof Float64Array)) {
      return T.array(Float64Array.from(input as unknown as ArrayLike<number>), { dtype: "float32" });
    }
    return T.array(input as T.ArrayInput);
  } catch (e) {
    if (e instanceof Error) throw new TypeError(`${op}: ${name}: ${e.message}`);
    throw e;
  }
}

/** The rows of `a` at `indices`, as a new contiguous array: tensor's `take` along axis 0. */
export function takeRows(a: NDArray, indices: ArrayLike<number>): NDArray {
  return T.take(a, new NDArray(Float64Array.from(indices), [indices.length]), 0);
}

function mapRecord<A, B>(r: Record<string, A>, f: (v: A, k: string) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, f(v, k)]));
}

/**
 * The same rows of every array of the table. With `inputs: false` the inputs are not copied
 * (x stays the whole table's): for computing losses and metrics from predictions already made.
 */
export function subset(t: Table, indices: Int32Array, options: { inputs?: boolean } = {}): Table {
  const x = options.inputs === false ? t.x : t.x instanceof NDArray ? takeRows(t.x, indices) : mapRecord(t.x, (a) => takeRows(a, indices));
  return {
    n: indices.length,
    x,
    y: mapRecord(t.y, (a) => takeRows(a, indices)),
    sampleWeight: mapRecord(t.sampleWeight, (a) => takeRows(a, indices)),
    groups: t.groups && takeRows(t.groups, indices),
    options: mapRecord(t.options, (o) => mapRecord(o, (a) => takeRows(a, indices))),
  };
}

/** 0, 1, …, n − 1. */
export function range(start: number, end: number): Int32Array {
  const out = new Int32Array(Math.max(0, end - start));
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

/** Checks that every array of a table has `n` rows. */
export function checkRows(op: string, name: string, a: NDArray, n: number): void {
  if (a.rank === 0 || a.shape[0] !== n) throw new ShapeError(op, `${name} must have ${n} samples along axis 0 (as x)`, [a.shape]);
}

/** The inputs as the model takes them: a Tensor, or a record of Tensors. */
export function asModelInput(x: NDArray | Record<string, NDArray>): Tensor | Record<string, Tensor> {
  return x instanceof NDArray ? new Tensor(x) : mapRecord(x, (a) => new Tensor(a));
}

/** The number of samples in the inputs (checked to agree between named inputs). */
export function readInputs(op: string, x: Inputs): { x: NDArray | Record<string, NDArray>; n: number } {
  if (isArrayInput(x)) {
    const a = toNDArray(op, "x", x);
    if (a.rank === 0) throw new ShapeError(op, "x must have the samples along axis 0", [a.shape]);
    return { x: a, n: a.shape[0]! };
  }
  if (typeof x !== "object" || x === null) throw new TypeError(`${op}: x must be an array of samples or a record of them`);
  const entries = Object.entries(x);
  if (entries.length === 0) throw new TypeError(`${op}: x is an empty record`);
  const arrays = Object.fromEntries(entries.map(([k, v]) => [k, toNDArray(op, `x.${k}`, v)]));
  const n = Object.values(arrays)[0]!.shape[0] ?? 0;
  for (const [k, a] of Object.entries(arrays)) checkRows(op, `x.${k}`, a, n);
  return { x: arrays, n };
}
