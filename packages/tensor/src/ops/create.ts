import { ShapeError, checkArg } from "../errors.js";
import { type DType, NDArray, type NestedArray, type Storage, allocate } from "../ndarray.js";
import { describeValue } from "../options.js";
import { Random } from "../random.js";
import { type Shape, checkShape, sizeOf } from "../shape.js";

export interface CreateOptions {
  dtype?: DType;
}

/** Anything `array()` turns into an NDArray. */
export type ArrayInput = NDArray | NestedArray | boolean | boolean[] | boolean[][] | Storage | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | readonly number[];

/**
 * Builds an NDArray from a number, nested arrays (ragged ones are rejected) of numbers or booleans,
 * or a typed array (copied; give `shape` to reshape it).
 */
export function array(values: ArrayInput | unknown, options: CreateOptions & { shape?: Shape } = {}): NDArray {
  if (values instanceof NDArray) {
    const x = options.dtype ? values.astype(options.dtype) : values;
    return options.shape ? new NDArray(x.copyData(), options.shape) : x;
  }
  const dtype = options.dtype ?? (values instanceof Float64Array ? "float64" : "float32");
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    const src = values as unknown as ArrayLike<number>;
    const data = allocate(dtype, src.length);
    for (let i = 0; i < src.length; i++) data[i] = Number(src[i]);
    const shape = options.shape ?? [src.length];
    if (sizeOf(shape) !== src.length) throw new ShapeError("array", `${src.length} values do not fill the shape`, [shape]);
    return new NDArray(data, shape);
  }
  const shape: number[] = [];
  for (let v: unknown = values; Array.isArray(v); v = v[0]) shape.push(v.length);
  const data = allocate(dtype, sizeOf(shape));
  let at = 0;
  const fill = (v: unknown, axis: number): void => {
    if (axis === shape.length) {
      if (typeof v === "number") data[at++] = v;
      else if (typeof v === "boolean") data[at++] = v ? 1 : 0;
      else throw new TypeError(`array: expected numbers or booleans, found ${typeof v} (${typeof v === "string" ? v : describeValue(v)})`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) throw new ShapeError("array", `ragged nested array: axis ${axis} should have length ${shape[axis]}, found ${Array.isArray(v) ? v.length : typeof v}`);
    for (const item of v) fill(item, axis + 1);
  };
  fill(values, 0);
  const out = new NDArray(data, shape);
  if (options.shape) {
    if (sizeOf(options.shape) !== out.size) throw new ShapeError("array", `${out.size} values do not fill the shape`, [options.shape]);
    return new NDArray(data, options.shape);
  }
  return out;
}

/** A zero-rank array holding one number. */
export function scalar(value: number, dtype: DType = "float32"): NDArray {
  const data = allocate(dtype, 1);
  data[0] = value;
  return new NDArray(data, []);
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): NDArray {
  checkShape("full", shape);
  const data = allocate(options.dtype ?? "float32", sizeOf(shape));
  if (value !== 0) data.fill(value);
  return new NDArray(data, shape);
}

export const zeros = (shape: Shape, options: CreateOptions = {}): NDArray => full(shape, 0, options);
export const ones = (shape: Shape, options: CreateOptions = {}): NDArray => full(shape, 1, options);

export function zerosLike(x: NDArray): NDArray {
  return zeros(x.shape, { dtype: x.dtype });
}

export function onesLike(x: NDArray): NDArray {
  return ones(x.shape, { dtype: x.dtype });
}

/** start, start + step, … up to but excluding stop (NumPy's arange). `arange(n)` counts 0 … n−1. */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): NDArray {
  if (stop === undefined) [start, stop] = [0, start];
  checkArg(step !== 0 && Number.isFinite(step), "arange", `step must be a non-zero finite number, got ${step}`);
  checkArg(Number.isFinite(start) && Number.isFinite(stop), "arange", `start and stop must be finite, got ${start} and ${stop}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(options.dtype ?? "float32", n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new NDArray(data, [n]);
}

/** `num` evenly spaced values from start to stop, both included. */
export function linspace(start: number, stop: number, num: number, options: CreateOptions = {}): NDArray {
  checkArg(Number.isInteger(num) && num >= 0, "linspace", `num must be a non-negative integer, got ${num}`);
  const data = allocate(options.dtype ?? "float32", num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return new NDArray(data, [num]);
}

/** The n×m identity (ones on the main diagonal). */
export function eye(n: number, m = n, options: CreateOptions = {}): NDArray {
  const x = zeros([n, m], options);
  for (let i = 0; i < Math.min(n, m); i++) x.data[i * m + i] = 1;
  return x;
}

export interface RandomOptions extends CreateOptions {
  /** A seed, or a generator to draw from (its state advances). */
  seed?: number | Random;
}

function generator(seed: number | Random | undefined): Random {
  return seed instanceof Random ? seed : new Random(seed ?? 0);
}

/** Uniform samples in [low, high). */
export function randomUniform(shape: Shape, low = 0, high = 1, options: RandomOptions = {}): NDArray {
  const x = zeros(shape, options);
  const rng = generator(options.seed);
  for (let i = 0; i < x.size; i++) {
    x.data[i] = rng.uniform(low, high);
    // Storing in float32 can round a draw just below `high` up to `high`: draw again (p < 2⁻²⁴).
    while (x.data[i]! >= high && high > low) x.data[i] = rng.uniform(low, high);
  }
  return x;
}

/** Normal samples with the given mean and standard deviation. */
export function randomNormal(shape: Shape, mean = 0, std = 1, options: RandomOptions = {}): NDArray {
  const x = zeros(shape, options);
  const rng = generator(options.seed);
  for (let i = 0; i < x.size; i++) x.data[i] = mean + std * rng.normal();
  return x;
}
