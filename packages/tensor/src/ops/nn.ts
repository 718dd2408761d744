import { ShapeError, checkArg, checkKind } from "../errors.js";
import { kernels } from "../kernels/index.js";
import type { Window2D } from "../kernels/conv.js";
import { NDArray, allocate } from "../ndarray.js";
import { describeValue } from "../options.js";
import { type Shape, normAxis, sizeOf } from "../shape.js";

function softmaxAlong(op: string, x: NDArray, axis: number, log: boolean): NDArray {
  const a = normAxis(op, axis, x.rank);
  const outer = sizeOf(x.shape.slice(0, a)), k = x.shape[a]!, inner = sizeOf(x.shape.slice(a + 1));
  const out = allocate(x.dtype, x.size);
  kernels().softmax(out, x.flat(), outer, k, inner, log);
  return new NDArray(out, x.shape);
}

/** exp(x) / Σ exp(x) along `axis`, computed stably (the maximum is subtracted first). */
export const softmax = (x: NDArray, axis = -1): NDArray => softmaxAlong("softmax", x, axis, false);

/** x − logΣexp(x) along `axis`, stable for large |x|. */
export const logSoftmax = (x: NDArray, axis = -1): NDArray => softmaxAlong("logSoftmax", x, axis, true);

export type Padding = "same" | "valid" | number | readonly [readonly [number, number], readonly [number, number]];

export interface WindowOptions {
  /** Step of the window: one number for both axes or [rows, cols]. Default 1 (pooling: the window size). */
  strides?: number | readonly [number, number];
  /** 'valid' (no padding, default), 'same' (output = ceil(input / stride), as TensorFlow), a number, or [[top,bottom],[left,right]]. */
  padding?: Padding;
  /** Spacing between window taps. Default 1. */
  dilations?: number | readonly [number, number];
}

/** The most elements one array may hold here (2³¹ − 1, below every engine's typed-array limit). */
const MAX_ELEMENTS = 2 ** 31 - 1;

function pair(op: string, name: string, v: number | readonly [number, number]): [number, number] {
  if (typeof v !== "number" && !Array.isArray(v)) throw new TypeError(`${op}: ${name} must be a number or [rows, cols], got ${describeValue(v)}`);
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  checkArg(p.every((x) => Number.isInteger(x) && x >= 1), op, `${name} must be positive integers, got [${p.join(",")}]`);
  return p;
}

/**
 * Resolves the geometry of a kh×kw window over an NHWC input: output size and padding, with
 * TensorFlow's 'same' rule (total padding max((out−1)·s + (k−1)·d + 1 − in, 0), the extra
 * row/column at the bottom/right).
 */
export function window2d(op: string, inputShape: Shape, kh: number, kw: number, options: WindowOptions, defaultStride: [number, number] = [1, 1]): Window2D {
  checkKind(op, "options", options, "an object");
  if (inputShape.length !== 4) throw new ShapeError(op, "input must be NHWC (rank 4)", [inputShape]);
  const [n, h, w, c] = inputShape as [number, number, number, number];
  const [sh, sw] = options.strides === undefined ? defaultStride : pair(op, "strides", options.strides);
  const [dh, dw] = pair(op, "dilations", options.dilations ?? 1);
  const ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1; // effective (dilated) window
  const padding = options.padding ?? "valid";
  let pt: number, pb: number, pl: number, pr: number;
  if (padding === "valid") [pt, pb, pl, pr] = [0, 0, 0, 0];
  else if (padding === "same") {
    const oh = Math.ceil(h / sh), ow = Math.ceil(w / sw);
    const th = Math.max((oh - 1) * sh + ekh - h, 0), tw = Math.max((ow - 1) * sw + ekw - w, 0);
    [pt, pb, pl, pr] = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (typeof padding === "number") [pt, pb, pl, pr] = [padding, padding, padding, padding];
  else if (Array.isArray(padding) && padding.length === 2 && padding.every((p) => Array.isArray(p) && p.length === 2)) [[pt, pb], [pl, pr]] = padding as [[number, number], [number, number]];
  else throw new RangeError(`${op}: padding must be 'same', 'valid', a number or [[top,bottom],[left,right]], got ${describeValue(padding)}`);
  checkArg([pt, pb, pl, pr].every((p) => Number.isInteger(p) && p >= 0), op, `padding must be non-negative integers, got [${[pt, pb, pl, pr].join(",")}]`);
  const oh = Math.floor((h + pt + pb - ekh) / sh) + 1, ow = Math.floor((w + pl + pr - ekw) / sw) + 1;
  if (oh <= 0 || ow <= 0) throw new ShapeError(op, `window ${kh}x${kw} (dilated ${ekh}x${ekw}) does not fit the padded input`, [inputShape]);
  // The patches (im2col) are the largest array the op allocates: refuse sizes no typed array can hold.
  checkArg(n * oh * ow * kh * kw * c <= MAX_ELEMENTS, op, `padding [${[pt, pb, pl, pr].join(",")}] and strides [${sh},${sw}] give ${n}x${oh}x${ow} windows, too many elements for one array`);
  return { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow };
}

/** Patches of an NHWC image as rows: [n·oh·ow, kh·kw·c]. */
export function im2col(x: NDArray, g: Window2D): NDArray {
  const cols = allocate(x.dtype, g.n * g.oh * g.ow * g.kh * g.kw * g.c);
  kernels().im2col(cols, x.flat(), g);
  return new NDArray(cols, [g.n * g.oh * g.ow, g.kh * g.kw * g.c]);
}

/** The adjoint of im2col: sums patch rows back into an [n, h, w, c] image. */
export function col2im(cols: NDArray, g: Window2D): NDArray {
  const expected = [g.n * g.oh * g.ow, g.kh * g.kw * g.c];
  if (cols.rank !== 2 || cols.shape[0] !== expected[0] || cols.shape[1] !== expected[1]) throw new ShapeError("col2im", "columns do not match the window geometry", [cols.shape, expected]);
  const image = allocate(cols.dtype, g.n * g.h * g.w * g.c);
  kernels().col2im(image, cols.flat(), g);
  return new NDArray(image, [g.n, g.h, g.w, g.c]);
}

export interface PoolOptions extends WindowOptions {
  /** Window size: one number or [rows, cols]. */
  poolSize: number | readonly [number, number];
}

/**
 * Pooling windows. Explicit padding may be at most half the (dilated) window on each side, as in
 * PyTorch: a window lying wholly in the padding would have nothing to pool.
 */
function poolWindow(op: string, x: NDArray, options: PoolOptions): Window2D {
  if (options === undefined) throw new TypeError(`${op}: options with a poolSize are required`);
  checkKind(op, "options", options, "an object");
  const [kh, kw] = pair(op, "poolSize", options.poolSize);
  const g = window2d(op, x.shape, kh, kw, options, [kh, kw]);
  const p = options.padding;
  if (typeof p === "number" || Array.isArray(p)) {
    const [[pt, pb], [pl, pr]] = typeof p === "number" ? [[p, p], [p, p]] : (p as [[number, number], [number, number]]);
    const halfH = Math.floor(((kh - 1) * g.dh + 1) / 2), halfW = Math.floor(((kw - 1) * g.dw + 1) / 2);
    checkArg(pt <= halfH && pb <= halfH && pl <= halfW && pr <= halfW, op, `padding [[${pt},${pb}],[${pl},${pr}]] must be at most half the ${kh}x${kw} window (${halfH} rows, ${halfW} columns)`);
  }
  return g;
}

/** Max pooling over NHWC windows; also returns, per output, the flat input index that won. */
export function maxPool2dWithArgmax(x: NDArray, options: PoolOptions): { out: NDArray; argmax: Int32Array; window: Window2D } {
  const g = poolWindow("maxPool2d", x, options);
  const out = allocate(x.dtype, g.n * g.oh * g.ow * g.c);
  const argmax = new Int32Array(out.length);
  kernels().maxPool(out, argmax, x.flat(), g);
  return { out: new NDArray(out, [g.n, g.oh, g.ow, g.c]), argmax, window: g };
}

export function maxPool2d(x: NDArray, options: PoolOptions): NDArray {
  return maxPool2dWithArgmax(x, options).out;
}

/** Gradient of max pooling: each output gradient goes to the input element that won its window. */
export function maxPool2dAdjoint(dOut: NDArray, argmax: Int32Array, inputShape: Shape): NDArray {
  if (dOut.size !== argmax.length) throw new ShapeError("maxPool2dAdjoint", `gradient has ${dOut.size} elements, argmax ${argmax.length}`, [dOut.shape]);
  const dx = allocate(dOut.dtype, sizeOf(inputShape));
  kernels().maxPoolAdjoint(dx, dOut.flat(), argmax);
  return new NDArray(dx, inputShape);
}

/** Average pooling over NHWC windows (padding is not counted in the average). */
export function avgPool2d(x: NDArray, options: PoolOptions): NDArray {
  const g = poolWindow("avgPool2d", x, options);
  const out = allocate(x.dtype, g.n * g.oh * g.ow * g.c);
  kernels().avgPool(out, x.flat(), g);
  return new NDArray(out, [g.n, g.oh, g.ow, g.c]);
}

/** Gradient of average pooling (also its adjoint): spreads each output gradient over its window. */
export function avgPool2dAdjoint(dOut: NDArray, inputShape: Shape, options: PoolOptions): NDArray {
  const g = window2d("avgPool2dAdjoint", inputShape, ...pair("avgPool2dAdjoint", "poolSize", options.poolSize), options, pair("avgPool2dAdjoint", "poolSize", options.poolSize));
  if (dOut.size !== g.n * g.oh * g.ow * g.c) throw new ShapeError("avgPool2dAdjoint", "gradient does not match the pooled shape", [dOut.shape, [g.n, g.oh, g.ow, g.c]]);
  const dx = allocate(dOut.dtype, sizeOf(inputShape));
  kernels().avgPoolAdjoint(dx, dOut.flat(), g);
  return new NDArray(dx, inputShape);
}

