import type { Storage } from "../../ndarray.js";
import { type BinaryKernel, type BinaryOp, binaryKernels } from "../elementwise.js";
import { reserve, wasmRuntime } from "./runtime.js";

/** Floats per staged operand: the three rows of a chunk stay in L2. */
const CHUNK = 1 << 14;
/** Below this many elements the copies and the call cost more than the JS kernel takes. */
const SMALL = 32;

/** The binary ops binary_rows in kernels.c computes, in the order of its op numbers. */
const ROW_OPS = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"] as const satisfies readonly BinaryOp[];

const float32Row = (x: Storage, stride: number): x is Float32Array => x instanceof Float32Array && (stride === 0 || stride === 1);

/**
 * A binary row kernel on WebAssembly SIMD for float32 rows that are contiguous or one broadcast
 * value (stride 1 or 0), chunk by chunk: the operands are copied into the module's memory (a
 * broadcast value filled across the chunk, the length padded to a multiple of 4), the f32x4 loop
 * runs, and the result is copied out. Anything else goes to the JS kernel.
 */
function wasmRow(op: (typeof ROW_OPS)[number], code: number): BinaryKernel {
  const js = binaryKernels[op];
  return (out, o, a, ia, sa, b, ib, sb, n) => {
    if (n < SMALL || !(out instanceof Float32Array) || !float32Row(a, sa) || !float32Row(b, sb)) return js(out, o, a, ia, sa, b, ib, sb, n);
    const rt = wasmRuntime(), chunk = Math.min(CHUNK, (n + 3) & ~3), heap = reserve(rt, 3 * chunk * 4);
    const aAt = rt.base, bAt = aAt + chunk * 4, outAt = bAt + chunk * 4;
    if (sa === 0) heap.fill(a[ia]!, aAt >> 2, (aAt >> 2) + chunk);
    if (sb === 0) heap.fill(b[ib]!, bAt >> 2, (bAt >> 2) + chunk);
    for (let lo = 0; lo < n; lo += chunk) {
      const len = Math.min(chunk, n - lo);
      if (sa === 1) heap.set(a.subarray(ia + lo, ia + lo + len), aAt >> 2);
      if (sb === 1) heap.set(b.subarray(ib + lo, ib + lo + len), bAt >> 2);
      rt.exports.binary_rows(code, outAt, aAt, bAt, (len + 3) & ~3); // the padding lanes' results are not copied out
      out.set(heap.subarray(outAt >> 2, (outAt >> 2) + len), o + lo);
    }
  };
}

/** The binary kernel table with the WebAssembly row kernels in place of the JS ones they cover. */
export const wasmBinaryKernels: typeof binaryKernels = { ...binaryKernels, ...Object.fromEntries(ROW_OPS.map((op, code) => [op, wasmRow(op, code)])) };
