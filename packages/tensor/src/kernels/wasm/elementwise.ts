import type { Storage } from "../../ndarray.js";
import { type BinaryKernel, type BinaryOp, binaryKernels } from "../elementwise.js";
import { reserve, wasmRuntime } from "./runtime.js";

/** Floats per staged operand: the three rows of a chunk stay in L2. */
const CHUNK = 1 << 14;
/** Below this many elements the copies and the call cost more than the JS kernel takes. */
const SMALL = 32;

/** The binary ops with a WebAssembly row kernel (BINARY_ROW in kernels.c). */
const ROW_OPS = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"] as const satisfies readonly BinaryOp[];
type RowOp = (typeof ROW_OPS)[number];

const float32Row = (x: Storage, stride: number): x is Float32Array => x instanceof Float32Array && (stride === 0 || stride === 1);

/**
 * A binary row kernel on WebAssembly SIMD for float32 rows that are contiguous or one broadcast
 * value (stride 1 or 0), chunk by chunk: the operands are copied into the module's memory, the
 * f32x4 loop runs, and the result is copied out. Anything else goes to the JS kernel.
 */
function wasmRow(op: RowOp): BinaryKernel {
  const js = binaryKernels[op];
  return (out, o, a, ia, sa, b, ib, sb, n) => {
    if (n < SMALL || !(out instanceof Float32Array) || !float32Row(a, sa) || !float32Row(b, sb)) return js(out, o, a, ia, sa, b, ib, sb, n);
    const rt = wasmRuntime(), kernel = rt.exports[`row_${op}`], chunk = Math.min(CHUNK, n);
    const heap = reserve(rt, 3 * chunk * 4), aAt = rt.base, bAt = aAt + chunk * 4, outAt = bAt + chunk * 4;
    if (sa === 0) heap[aAt >> 2] = a[ia]!;
    if (sb === 0) heap[bAt >> 2] = b[ib]!;
    for (let lo = 0; lo < n; lo += chunk) {
      const len = Math.min(chunk, n - lo);
      if (sa === 1) heap.set(a.subarray(ia + lo, ia + lo + len), aAt >> 2);
      if (sb === 1) heap.set(b.subarray(ib + lo, ib + lo + len), bAt >> 2);
      kernel(outAt, aAt, sa, bAt, sb, len);
      out.set(heap.subarray(outAt >> 2, (outAt >> 2) + len), o + lo);
    }
  };
}

/** The binary kernel table with the WebAssembly row kernels in place of the JS ones they cover. */
export const wasmBinaryKernels: typeof binaryKernels = { ...binaryKernels, ...Object.fromEntries(ROW_OPS.map((op) => [op, wasmRow(op)])) };
