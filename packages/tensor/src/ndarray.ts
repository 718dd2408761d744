import { ShapeError, fmtShape } from "./errors.js";
import { type Shape, checkShape, sizeOf, stridesOf } from "./shape.js";

export type DType = "float32" | "float64";
export type Storage = Float32Array | Float64Array;

/** Nested JavaScript arrays of numbers, as produced by `toArray()`. */
export type NestedArray = number | NestedArray[];

export function allocate(dtype: DType, size: number): Storage {
  return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
}

export function dtypeOf(data: Storage): DType {
  return data instanceof Float64Array ? "float64" : "float32";
}

/** float64 wins: an op on a float64 input computes in float64 (used by gradcheck). */
export function resultDType(...arrays: NDArray[]): DType {
  return arrays.some((a) => a.dtype === "float64") ? "float64" : "float32";
}

/**
 * An n-dimensional array: one flat typed array plus shape, strides and offset.
 * Views (reshape of a contiguous array, transpose, slice, broadcastTo) share `data`;
 * kernels call `contiguous()` to get a row-major copy when they need one.
 */
export class NDArray {
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
  readonly size: number;

  constructor(readonly data: Storage, shape: Shape, strides?: readonly number[], offset = 0) {
    checkShape("NDArray", shape);
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : stridesOf(shape));
    this.offset = offset;
    this.size = sizeOf(shape);
    if (this.strides.length !== this.shape.length) throw new Error(`internal: NDArray strides [${this.strides.join(",")}] do not match shape ${fmtShape(shape)}`);
    if (!strides && offset === 0 && data.length !== this.size) throw new ShapeError("NDArray", `data has ${data.length} elements but the shape needs ${this.size}`, [shape]);
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True when the elements are stored row-major with no gaps (size-1 axes may have any stride). */
  get isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      const d = this.shape[i]!;
      if (d !== 1 && this.strides[i] !== expected) return false;
      expected *= d;
    }
    return true;
  }

  /**
   * The elements as one row-major typed array of exactly `size` elements. Shares storage
   * when the array is already contiguous; copies otherwise. Do not write into the result.
   */
  flat(): Storage {
    if (this.isContiguous) {
      if (this.offset === 0 && this.data.length === this.size) return this.data;
      return this.data.subarray(this.offset, this.offset + this.size);
    }
    return this.copyData(this.dtype);
  }

  /** A contiguous array with the same values (itself when already contiguous and tight). */
  contiguous(): NDArray {
    if (this.isContiguous && this.offset === 0 && this.data.length === this.size) return this;
    return new NDArray(this.flat(), this.shape);
  }

  /** A fresh row-major copy of the elements in the given dtype. */
  copyData(dtype: DType = this.dtype): Storage {
    return this.copyInto(allocate(dtype, this.size));
  }

  /** Writes the elements row-major into `out` (of any dtype, at least `size` long) and returns it. */
  copyInto<S extends Storage>(out: S): S {
    if (out.length < this.size) throw new RangeError(`copyInto: the output holds ${out.length} elements, fewer than the ${this.size} to copy`);
    const rank = this.rank;
    if (this.size === 0) return out;
    if (this.isContiguous) {
      out.set(this.data.subarray(this.offset, this.offset + this.size));
      return out;
    }
    // Walk the index with an odometer; the innermost axis is a flat strided loop.
    const shape = this.shape, strides = this.strides, data = this.data;
    const inner = shape[rank - 1]!, innerStride = strides[rank - 1]!;
    const index = new Array<number>(rank).fill(0);
    let src = this.offset;
    for (let o = 0; o < this.size; o += inner) {
      for (let j = 0, s = src; j < inner; j++, s += innerStride) out[o + j] = data[s]!;
      for (let ax = rank - 2; ax >= 0; ax--) {
        index[ax]!++;
        src += strides[ax]!;
        if (index[ax]! < shape[ax]!) break;
        src -= strides[ax]! * shape[ax]!;
        index[ax] = 0;
      }
    }
    return out;
  }

  astype(dtype: DType): NDArray {
    return dtype === this.dtype ? this : new NDArray(this.copyData(dtype), this.shape);
  }

  /** The single value of a one-element array. */
  item(): number {
    if (this.size !== 1) throw new ShapeError("item", "only one-element arrays convert to a number", [this.shape]);
    return this.data[this.offset]!;
  }

  /** The element at a full index (negative indices count from the end). */
  get(...index: number[]): number {
    if (index.length !== this.rank) throw new ShapeError("get", `expected ${this.rank} indices, got ${index.length}`, [this.shape]);
    let at = this.offset;
    for (let i = 0; i < index.length; i++) {
      const d = this.shape[i]!;
      const k = index[i]! < 0 ? index[i]! + d : index[i]!;
      if (!Number.isInteger(k) || k < 0 || k >= d) throw new ShapeError("get", `index ${index[i]} out of range for axis ${i} of size ${d}`, [this.shape]);
      at += k * this.strides[i]!;
    }
    return this.data[at]!;
  }

  /** Nested arrays (a plain number for a scalar). */
  toArray(): NestedArray {
    const flat = this.flat();
    const build = (axis: number, start: number): NestedArray => {
      if (axis === this.rank) return flat[start]!;
      const d = this.shape[axis]!;
      const step = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: d }, (_, i) => build(axis + 1, start + i * step));
    };
    return build(0, 0);
  }

  toString(): string {
    return `NDArray(${fmtShape(this.shape)}, ${this.dtype}) ${JSON.stringify(this.toArray())}`;
  }
}
