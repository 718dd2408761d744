import type { Storage } from "../ndarray.js";

/** How one matrix operand sits in memory: element (r, c) is at off + r·rs + c·cs. */
export interface MatrixView {
  data: Storage;
  off: number;
  rs: number;
  cs: number;
}

// Block sizes: a 64×256 panel of B (64 KiB in float32) and a row of the output stay in L2.
const BLOCK_K = 64;
const BLOCK_N = 256;

/**
 * out[o + i·N + j] = Σₖ A[i,k]·B[k,j], for an M×K A and a K×N B given as strided views, so that
 * transposed operands need no copy.
 * - B with unit column stride: blocked i-k-j order; the innermost loop walks a row of B and a
 *   row of the output with stride 1 (a SIMD kernel replaces exactly this loop).
 * - B with unit row stride (B is a transposed row-major matrix): each output is a dot product
 *   of a row of A and a row of Bᵀ, both read with stride 1 when A is row-major.
 * - any other layout: B is first copied into a row-major scratch.
 */
export function matmulInto(out: Storage, o: number, A: MatrixView, B: MatrixView, M: number, K: number, N: number): void {
  const a = A.data, b = B.data;
  if (B.cs !== 1 && B.rs === 1 && A.cs === 1) {
    for (let i = 0; i < M; i++) {
      const ai = A.off + i * A.rs;
      for (let j = 0; j < N; j++) {
        const bj = B.off + j * B.cs;
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ai + k]! * b[bj + k]!;
        out[o + i * N + j] = s;
      }
    }
    return;
  }
  let bOff = B.off, bRs = B.rs;
  let bData = b;
  if (B.cs !== 1) {
    bData = new (b.constructor as Float32ArrayConstructor)(K * N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bData[k * N + j] = b[B.off + k * B.rs + j * B.cs]!;
    bOff = 0;
    bRs = N;
  }
  out.fill(0, o, o + M * N);
  for (let j0 = 0; j0 < N; j0 += BLOCK_N) {
    const j1 = Math.min(j0 + BLOCK_N, N);
    for (let k0 = 0; k0 < K; k0 += BLOCK_K) {
      const k1 = Math.min(k0 + BLOCK_K, K);
      for (let i = 0; i < M; i++) {
        const oi = o + i * N;
        const ai = A.off + i * A.rs;
        for (let k = k0; k < k1; k++) {
          const aik = a[ai + k * A.cs]!;
          const bk = bOff + k * bRs;
          for (let j = j0; j < j1; j++) out[oi + j]! += aik * bData[bk + j]!;
        }
      }
    }
  }
}
