import type { Storage } from "../../ndarray.js";
import { unaryKernels } from "../elementwise.js";
import { softmaxInto as jsSoftmaxInto } from "../reduce.js";
import { reserve, wasmRuntime } from "./runtime.js";

/** Floats staged per call: input and output chunks stay in L2. */
const CHUNK = 1 << 14;
/** Below this many elements the copies and the call cost more than the JS kernel takes. */
const SMALL = 32;

/**
 * A unary kernel on WebAssembly SIMD (unary_rows in kernels.c) for float32 arrays, chunk by chunk;
 * other arrays go to the JS kernel. exp agrees with Math.exp within 2 ulps, relu bit for bit.
 */
function wasmUnary(op: "exp" | "relu", code: number): (out: Storage, x: Storage) => void {
  const js = unaryKernels[op];
  return (out, x) => {
    if (out.length < SMALL || !(out instanceof Float32Array) || !(x instanceof Float32Array)) return js(out, x);
    const rt = wasmRuntime(), chunk = Math.min(CHUNK, (out.length + 3) & ~3), heap = reserve(rt, 2 * chunk * 4), xAt = rt.base, outAt = xAt + chunk * 4;
    for (let lo = 0; lo < out.length; lo += chunk) {
      const len = Math.min(chunk, out.length - lo);
      heap.set(x.subarray(lo, lo + len), xAt >> 2);
      rt.exports.unary_rows(code, outAt, xAt, (len + 3) & ~3); // the padding lanes' results are not copied out
      out.set(heap.subarray(outAt >> 2, (outAt >> 2) + len), lo);
    }
  };
}

/** unary_rows in kernels.c: op 0 is exp, 1 relu. */
export const wasmUnaryKernels: typeof unaryKernels = { ...unaryKernels, exp: wasmUnary("exp", 0), relu: wasmUnary("relu", 1) };

/**
 * softmaxInto on WebAssembly SIMD (softmax_rows in kernels.c) for float32 along the last axis
 * (inner = 1), whole rows per call; other layouts and dtypes go to the JS kernel.
 */
export function wasmSoftmaxInto(out: Storage, x: Storage, outer: number, k: number, inner: number, log: boolean): void {
  if (inner !== 1 || outer * k < SMALL || !(out instanceof Float32Array) || !(x instanceof Float32Array)) return jsSoftmaxInto(out, x, outer, k, inner, log);
  const rt = wasmRuntime(), rows = Math.max(1, Math.floor(CHUNK / k)), floats = Math.min(outer, rows) * k;
  const heap = reserve(rt, 2 * floats * 4 + 32), xAt = rt.base, outAt = xAt + floats * 4 + 16; // 16 bytes after each area: softmax_rows reads and writes whole vectors
  for (let r = 0; r < outer; r += rows) {
    const lo = r * k, len = Math.min(rows, outer - r) * k;
    heap.set(x.subarray(lo, lo + len), xAt >> 2);
    rt.exports.softmax_rows(outAt, xAt, len / k, k, log ? 1 : 0);
    out.set(heap.subarray(outAt >> 2, (outAt >> 2) + len), lo);
  }
}
