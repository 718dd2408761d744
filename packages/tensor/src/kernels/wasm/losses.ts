import { type BceLogitsArgs, bceLogitsInto as jsBceLogitsInto } from "../losses.js";
import { reserve, wasmRuntime } from "./runtime.js";

/** Elements per call into WebAssembly: the staged operands stay a few MB, far inside the reserved memory. */
const CHUNK = 1 << 16;
/** Below this many elements the copies and the call cost more than the JS kernel takes. */
const SMALL = 64;

/**
 * bceLogitsInto on WebAssembly SIMD (bce_logits in kernels.c), chunk by chunk: the operands are
 * copied into the module's memory (an array c converted to float32, each chunk padded to a
 * multiple of 4 with masked lanes), the f32x4 kernel runs, and the gradient (and values) are
 * copied out. A kept target outside [0, 1] in any chunk makes the result NaN, as in the JS kernel.
 */
export function wasmBceLogitsInto(a: BceLogitsArgs): number {
  const n = a.x.length;
  if (n < SMALL) return jsBceLogitsInto(a);
  const rt = wasmRuntime(), chunk = Math.min(CHUNK, (n + 3) & ~3), bytes = chunk * 4;
  const heap = reserve(rt, 7 * bytes), bits = new Uint32Array(heap.buffer);
  const [xAt, zAt, maskAt, cAt, pwAt, gradAt, valuesAt] = [0, 1, 2, 3, 4, 5, 6].map((k) => rt.base + k * bytes) as [number, number, number, number, number, number, number];
  const cAll = typeof a.c === "number" ? null : a.c, cScalar = typeof a.c === "number" ? a.c : 0;
  let total = 0;
  for (let lo = 0; lo < n; lo += chunk) {
    const hi = Math.min(n, lo + chunk), len = hi - lo, padded = (len + 3) & ~3;
    bits.set(a.x.subarray(lo, hi), xAt >> 2);
    bits.set(a.z.subarray(lo, hi), zAt >> 2);
    heap.set(a.mask.subarray(lo, hi), maskAt >> 2);
    heap.fill(0, (maskAt >> 2) + len, (maskAt >> 2) + padded); // the padding lanes are masked,
    if (cAll) heap.set(cAll.subarray(lo, hi), cAt >> 2);
    if (cAll) heap.fill(0, (cAt >> 2) + len, (cAt >> 2) + padded); // with coefficient 0
    if (a.pwAll) heap.set(a.pwAll.subarray(lo, hi), pwAt >> 2);
    if (a.pwAll) heap.fill(0, (pwAt >> 2) + len, (pwAt >> 2) + padded); // and finite weights (0·NaN would be NaN)
    total += rt.exports.bce_logits(xAt, zAt, maskAt, cAll ? cAt : 0, cScalar, a.pwAll ? pwAt : 0, a.pw, 1 - a.alpha, a.alpha / 2, gradAt, a.values ? valuesAt : 0, padded);
    a.grad.set(heap.subarray(gradAt >> 2, (gradAt >> 2) + len), lo);
    if (a.values) a.values.set(heap.subarray(valuesAt >> 2, (valuesAt >> 2) + len), lo);
  }
  return total;
}
