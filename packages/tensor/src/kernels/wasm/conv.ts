import type { Storage } from "../../ndarray.js";
import { biasActivationGradInto, biasActivationInto } from "../bias.js";
import { type Window2D, col2imInto, im2colInto, maxPoolAdjointInto, maxPoolInto } from "../conv.js";
import { type WasmRuntime, align, reserve, wasmRuntime } from "./runtime.js";

/**
 * The window, pooling and bias + activation kernels on WebAssembly SIMD (the last section of
 * kernels.c). The operands go through the module's memory in blocks (whole images, whole rows):
 * a block is copied in after the heap base, the kernel runs on it there, and its results are
 * copied out. float64 arrays (gradcheck) and tiny arrays stay on the JS kernel.
 */

/** Below this many elements (all operands together) the copies and the call cost more than the JS kernel takes. */
const SMALL = 256;
/**
 * About this many floats per block: a block's copies, its kernel and its copies out then stay in
 * the cache (bias + ReLU over 346 112 floats, measured: 4× faster than staging the whole arrays).
 */
const BLOCK = 1 << 14;

/** Lays out blocks of the given byte sizes from the heap base (each aligned to 16), reserving the memory. */
function layout(rt: WasmRuntime, ...bytes: number[]): { heap: Float32Array; at: number[] } {
  const at: number[] = [];
  let end = rt.base;
  for (const b of bytes) { at.push(end); end += align(b); }
  return { heap: reserve(rt, end - rt.base), at };
}

/** Calls fn(lo, hi) over [0, total) in steps of `step`. */
function blocks(total: number, step: number, fn: (lo: number, hi: number) => void): void {
  for (let lo = 0; lo < total; lo += step) fn(lo, Math.min(total, lo + step));
}

/** Writes the geometry, for images [b0, b1) of the batch, as kernels.c's struct window (14 int32s) at byte `at`. */
function writeWindow(heap: Float32Array, at: number, g: Window2D, b0: number, b1: number): void {
  new Int32Array(heap.buffer, at, 14).set([b1 - b0, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow]);
}

const isSmall = (...arrays: Storage[]) => arrays.some((a) => !(a instanceof Float32Array)) || arrays.reduce((n, a) => n + a.length, 0) < SMALL;

/** im2col (the windows as rows) and col2im (its adjoint), over the image and columns of conv.ts. */
export function wasmIm2colInto(cols: Storage, image: Storage, g: Window2D): void {
  if (isSmall(cols, image)) return im2colInto(cols, image, g);
  windowRows(cols as Float32Array, image as Float32Array, g, false);
}
export function wasmCol2imInto(image: Storage, cols: Storage, g: Window2D): void {
  if (isSmall(cols, image)) return col2imInto(image, cols, g);
  windowRows(cols as Float32Array, image as Float32Array, g, true);
}
function windowRows(cols: Float32Array, image: Float32Array, g: Window2D, adjoint: boolean): void {
  const pixels = g.h * g.w * g.c, patches = g.oh * g.ow * g.kh * g.kw * g.c, batch = Math.max(1, Math.floor(BLOCK / (pixels + patches)));
  const rt = wasmRuntime(), { heap, at: [w, img, col] } = layout(rt, 56, batch * pixels * 4, batch * patches * 4);
  blocks(g.n, batch, (b0, b1) => {
    writeWindow(heap, w!, g, b0, b1);
    if (adjoint) {
      heap.set(cols.subarray(b0 * patches, b1 * patches), col! >> 2);
      rt.exports.col2im(img!, col!, w!);
      image.set(heap.subarray(img! >> 2, (img! >> 2) + (b1 - b0) * pixels), b0 * pixels);
    } else {
      heap.set(image.subarray(b0 * pixels, b1 * pixels), img! >> 2);
      rt.exports.im2col(col!, img!, w!);
      cols.set(heap.subarray(col! >> 2, (col! >> 2) + (b1 - b0) * patches), b0 * patches);
    }
  });
}

/** Max pooling with its argmax (the JS kernel's tie rule exactly), four channels per f32x4. */
export function wasmMaxPoolInto(out: Storage, argmax: Int32Array, image: Storage, g: Window2D): void {
  if (isSmall(image, out)) return maxPoolInto(out, argmax, image, g);
  const pixels = g.h * g.w * g.c, outputs = g.oh * g.ow * g.c, batch = Math.max(1, Math.floor(BLOCK / pixels));
  const rt = wasmRuntime(), { heap, at: [w, img, o, arg] } = layout(rt, 56, batch * pixels * 4, batch * outputs * 4, batch * outputs * 4);
  blocks(g.n, batch, (b0, b1) => {
    writeWindow(heap, w!, g, b0, b1);
    heap.set((image as Float32Array).subarray(b0 * pixels, b1 * pixels), img! >> 2);
    rt.exports.max_pool(o!, arg!, img!, w!, b0 * pixels);
    out.set(heap.subarray(o! >> 2, (o! >> 2) + (b1 - b0) * outputs), b0 * outputs);
    argmax.set(new Int32Array(heap.buffer, arg!, (b1 - b0) * outputs), b0 * outputs);
  });
}

/** The scatter-add of max pooling's gradient. */
export function wasmMaxPoolAdjointInto(dImage: Storage, dOut: Storage, argmax: Int32Array): void {
  if (isSmall(dImage, dOut)) return maxPoolAdjointInto(dImage, dOut, argmax);
  const rt = wasmRuntime(), { heap, at: [d, arg, img] } = layout(rt, dOut.length * 4, argmax.length * 4, dImage.length * 4);
  heap.set(dOut, d! >> 2);
  new Int32Array(heap.buffer, arg!, argmax.length).set(argmax);
  rt.exports.max_pool_adjoint(img!, dImage.length, d!, arg!, dOut.length);
  dImage.set(heap.subarray(img! >> 2, (img! >> 2) + dImage.length));
}

/** out = act(y + b) over rows of b.length values, computed in place in the module's memory, block by block. */
export function wasmBiasActivationInto(out: Storage, y: Storage, b: Storage, relu: boolean): void {
  if (isSmall(y, out, b)) return biasActivationInto(out, y, b, relu);
  const C = b.length, rows = Math.max(1, Math.floor(BLOCK / C));
  const rt = wasmRuntime(), { heap, at: [bias, yAt] } = layout(rt, C * 4, rows * C * 4);
  heap.set(b, bias! >> 2);
  blocks(y.length / C, rows, (r0, r1) => {
    heap.set((y as Float32Array).subarray(r0 * C, r1 * C), yAt! >> 2);
    rt.exports.bias_activation(yAt!, yAt!, bias!, r1 - r0, C, relu ? 1 : 0);
    out.set(heap.subarray(yAt! >> 2, (yAt! >> 2) + (r1 - r0) * C), r0 * C);
  });
}

/** Its gradient: gy = g·act′ from the output, sums = the column sums of gy (float64), block by block. */
export function wasmBiasActivationGradInto(gy: Storage, sums: Float64Array, g: Storage, out: Storage, relu: boolean): void {
  if (isSmall(g, gy, out)) return biasActivationGradInto(gy, sums, g, out, relu);
  const C = sums.length, rows = Math.max(1, Math.floor(BLOCK / C));
  const rt = wasmRuntime(), { heap, at: [gAt, outAt, s] } = layout(rt, rows * C * 4, relu ? rows * C * 4 : 0, C * 8);
  const total = new Float64Array(heap.buffer, s!, C).fill(0);
  blocks(g.length / C, rows, (r0, r1) => {
    heap.set((g as Float32Array).subarray(r0 * C, r1 * C), gAt! >> 2);
    if (relu) heap.set((out as Float32Array).subarray(r0 * C, r1 * C), outAt! >> 2);
    rt.exports.bias_activation_grad(gAt!, s!, gAt!, outAt!, r1 - r0, C, relu ? 1 : 0);
    gy.set(heap.subarray(gAt! >> 2, (gAt! >> 2) + (r1 - r0) * C), r0 * C);
  });
  sums.set(total);
}
