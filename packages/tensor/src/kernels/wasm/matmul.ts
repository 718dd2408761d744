import type { Storage } from "../../ndarray.js";
import { type MatrixView, matmulInto as jsMatmulInto } from "../matmul.js";
import { type StagedView, align, reserve, wasmRuntime } from "./runtime.js";

/** Below this many multiply-adds the copies and the call cost more than the JS kernel takes. */
const SMALL_PRODUCT = 4096;
/** Below this many rows of A, a B with contiguous rows is read in place instead of packed (packing would cost as much as the product). */
const DIRECT_B_ROWS = 64;
/** From this many multiply-adds (a 256³ product) a thread pool, where installed, shares the work. */
const PARALLEL_PRODUCT = 256 ** 3;

/**
 * matmulInto on the WebAssembly GEMM (kernels.c): the operands are copied into the module's memory
 * (one memcpy each when the view covers its span densely, e.g. a transpose; gathered otherwise),
 * packed there, multiplied by the f32x4 micro-kernel, and the product is copied out. float64 and
 * tiny products stay on the JS kernel.
 */
export function wasmMatmulInto(out: Storage, o: number, A: MatrixView, B: MatrixView, M: number, K: number, N: number): void {
  if (!(out instanceof Float32Array) || !(A.data instanceof Float32Array) || !(B.data instanceof Float32Array) || M * K * N < SMALL_PRODUCT) {
    jsMatmulInto(out, o, A, B, M, K, N);
    return;
  }
  const rt = wasmRuntime(), ex = rt.exports;
  const aBytes = align(stagedFloats(A, M, K) * 4), bBytes = align(stagedFloats(B, K, N) * 4);
  // In place needs rows of B one after another (cs = 1, or a single column) at a positive stride.
  const direct = M < DIRECT_B_ROWS && (B.cs === 1 || N === 1) && B.rs >= N && copiesSpan(B, K, N);
  const paBytes = align(ex.packed_a_floats(M, K) * 4), pbBytes = direct ? 0 : align(ex.packed_b_floats(K, N) * 4);
  const heap = reserve(rt, aBytes + bBytes + paBytes + pbBytes + M * N * 4);
  const aAt = rt.base, bAt = aAt + aBytes, paAt = bAt + bBytes, pbAt = paAt + paBytes, cAt = pbAt + pbBytes;
  const a = stage(heap, aAt, A, M, K), b = stage(heap, bAt, B, K, N);
  if (!direct) ex.pack_b(pbAt, b.ptr, b.rs, b.cs, K, N);
  const [bAt2, ldb] = direct ? [b.ptr, b.rs] : [pbAt, 0];
  if (rt.parallelGemm && M * K * N >= PARALLEL_PRODUCT && M >= 8) {
    rt.parallelGemm(cAt, paAt, a, bAt2, ldb, M, K, N); // each thread packs the rows of A it multiplies
  } else {
    ex.pack_a_rows(paAt, a.ptr, a.rs, a.cs, M, K, 0, M);
    ex.gemm_packed(cAt, paAt, bAt2, ldb, M, K, N, 0, M);
  }
  out.set(heap.subarray(cAt >> 2, (cAt >> 2) + M * N), o);
}

/** The index range [lo, hi) of data a rows×cols view touches. */
export function spanOf(v: MatrixView, rows: number, cols: number): [number, number] {
  const r = (rows - 1) * v.rs, c = (cols - 1) * v.cs;
  return [v.off + Math.min(0, r) + Math.min(0, c), v.off + Math.max(0, r) + Math.max(0, c) + 1];
}

/** A view is copied whole when its span is at most twice its size (dense, transposed, broadcast rows). */
function copiesSpan(v: MatrixView, rows: number, cols: number): boolean {
  const [lo, hi] = spanOf(v, rows, cols);
  return hi - lo <= 2 * rows * cols;
}

function stagedFloats(v: MatrixView, rows: number, cols: number): number {
  if (!copiesSpan(v, rows, cols)) return rows * cols;
  const [lo, hi] = spanOf(v, rows, cols);
  return hi - lo;
}

/** Copies a view into the heap at byte `at`; returns where its element (0, 0) landed and its strides there. */
function stage(heap: Float32Array, at: number, v: MatrixView, rows: number, cols: number): StagedView {
  const data = v.data as Float32Array;
  if (copiesSpan(v, rows, cols)) {
    const [lo, hi] = spanOf(v, rows, cols);
    heap.set(data.subarray(lo, hi), at >> 2);
    return { ptr: at + (v.off - lo) * 4, rs: v.rs, cs: v.cs };
  }
  for (let r = 0, d = at >> 2; r < rows; r++) {
    for (let c = 0, s = v.off + r * v.rs; c < cols; c++, s += v.cs) heap[d++] = data[s]!;
  }
  return { ptr: at, rs: cols, cs: 1 };
}
