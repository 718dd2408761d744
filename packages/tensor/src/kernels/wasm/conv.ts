import type { Storage } from "../../ndarray.js";
import { biasActivationGradInto, biasActivationInto } from "../bias.js";
import { type Window2D, col2imInto, im2colInto, maxPoolAdjointInto, maxPoolInto } from "../conv.js";
import { type WasmRuntime, align, reserve, wasmRuntime } from "./runtime.js";

/**
 * The window, pooling and bias + activation kernels on WebAssembly SIMD (the last section of
 * kernels.c). Each call copies its operands into the module's memory one after another from the
 * heap base, runs the kernel there and copies the results out. float64 arrays (gradcheck) and
 * tiny arrays stay on the JS kernel.
 */

/** Below this many elements (all operands together) the copies and the call cost more than the JS kernel takes. */
const SMALL = 256;

/** Lays out blocks of the given byte sizes from the heap base (each aligned to 16), reserving the memory. */
function layout(rt: WasmRuntime, ...bytes: number[]): { heap: Float32Array; at: number[] } {
  const at: number[] = [];
  let end = rt.base;
  for (const b of bytes) { at.push(end); end += align(b); }
  return { heap: reserve(rt, end - rt.base), at };
}

/** Writes the geometry as kernels.c's struct window (14 int32s) at byte `at`. */
function writeWindow(heap: Float32Array, at: number, g: Window2D): void {
  new Int32Array(heap.buffer, at, 14).set([g.n, g.h, g.w, g.c, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow]);
}

const isSmall = (...arrays: Storage[]) => arrays.some((a) => !(a instanceof Float32Array)) || arrays.reduce((n, a) => n + a.length, 0) < SMALL;

/** im2col (the windows as rows) and col2im (its adjoint), over the image and columns of conv.ts. */
export function wasmIm2colInto(cols: Storage, image: Storage, g: Window2D): void {
  if (isSmall(cols, image)) return im2colInto(cols, image, g);
  windowRows(cols, image, g, false);
}
export function wasmCol2imInto(image: Storage, cols: Storage, g: Window2D): void {
  if (isSmall(cols, image)) return col2imInto(image, cols, g);
  windowRows(cols, image, g, true);
}
function windowRows(cols: Storage, image: Storage, g: Window2D, adjoint: boolean): void {
  const rt = wasmRuntime(), { heap, at: [w, img, col] } = layout(rt, 56, image.length * 4, cols.length * 4);
  writeWindow(heap, w!, g);
  if (adjoint) {
    heap.set(cols, col! >> 2);
    rt.exports.col2im(img!, col!, w!);
    image.set(heap.subarray(img! >> 2, (img! >> 2) + image.length));
  } else {
    heap.set(image, img! >> 2);
    rt.exports.im2col(col!, img!, w!);
    cols.set(heap.subarray(col! >> 2, (col! >> 2) + cols.length));
  }
}

/** Max pooling with its argmax (the JS kernel's tie rule exactly), four channels per f32x4. */
export function wasmMaxPoolInto(out: Storage, argmax: Int32Array, image: Storage, g: Window2D): void {
  if (isSmall(image, out)) return maxPoolInto(out, argmax, image, g);
  const rt = wasmRuntime(), { heap, at: [w, img, o, arg] } = layout(rt, 56, image.length * 4, out.length * 4, out.length * 4);
  writeWindow(heap, w!, g);
  heap.set(image, img! >> 2);
  rt.exports.max_pool(o!, arg!, img!, w!);
  out.set(heap.subarray(o! >> 2, (o! >> 2) + out.length));
  argmax.set(new Int32Array(heap.buffer, arg!, argmax.length));
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

/** out = act(y + b) over rows of b.length values, computed in place in the module's memory. */
export function wasmBiasActivationInto(out: Storage, y: Storage, b: Storage, relu: boolean): void {
  if (isSmall(y, out, b)) return biasActivationInto(out, y, b, relu);
  const rt = wasmRuntime(), { heap, at: [bias, yAt] } = layout(rt, b.length * 4, y.length * 4);
  heap.set(b, bias! >> 2);
  heap.set(y, yAt! >> 2);
  rt.exports.bias_activation(yAt!, yAt!, bias!, y.length / b.length, b.length, relu ? 1 : 0);
  out.set(heap.subarray(yAt! >> 2, (yAt! >> 2) + y.length));
}

/** Its gradient: gy = g·act′ from the output, sums = the column sums of gy (float64). */
export function wasmBiasActivationGradInto(gy: Storage, sums: Float64Array, g: Storage, out: Storage, relu: boolean): void {
  if (isSmall(g, gy, out)) return biasActivationGradInto(gy, sums, g, out, relu);
  const rt = wasmRuntime(), n = g.length, { heap, at: [gAt, outAt, s] } = layout(rt, n * 4, relu ? n * 4 : 0, sums.length * 8);
  heap.set(g, gAt! >> 2);
  if (relu) heap.set(out, outAt! >> 2);
  rt.exports.bias_activation_grad(gAt!, s!, gAt!, outAt!, n / sums.length, sums.length, relu ? 1 : 0);
  gy.set(heap.subarray(gAt! >> 2, (gAt! >> 2) + n));
  sums.set(new Float64Array(heap.buffer, s!, sums.length));
}
