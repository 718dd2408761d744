import type { Storage } from "../ndarray.js";

/** How one matrix operand sits in memory: element (r, c) is at off + r·rs + c·cs. */
export interface MatrixView {
  data: Storage;
  off: number;
  rs: number;
  cs: number;
}

/** Depth of one pass over k: a packed [KC × N] slab of B stays in L2 while every row panel of A uses it. */
const KC = 128;

/**
 * out[o + i·N + j] = Σₖ A[i,k]·B[k,j] for an M×K A and a K×N B given as strided views (so
 * transposed operands need no copy), computed the way BLAS libraries do it:
 *
 * 1. for each slab of KC values of k, B's rows k0…k1 are packed into panels of 4 columns,
 *    panel p holding B[k, 4p…4p+3] contiguously for k = k0…k1 (zero-padded past N);
 * 2. for each group of 4 rows of A, the same slab of A is packed likewise (4 values per k);
 * 3. a 4×4 micro-kernel keeps 16 partial sums in local variables (registers) while it walks k,
 *    reading 4 + 4 packed values and doing 16 multiply-adds per step; the sums are added into
 *    out once per slab.
 *
 * Packing makes every inner read stride-1 whatever the operands' layout, and the register block
 * reuses each loaded value four times instead of reloading out[] on every multiply-add.
 */
export function matmulInto(out: Storage, o: number, A: MatrixView, B: MatrixView, M: number, K: number, N: number): void {
  out.fill(0, o, o + M * N);
  if (M === 0 || N === 0 || K === 0) return;
  const a = A.data, b = B.data;
  const panelsN = Math.ceil(N / 4);
  const packedB = new Float64Array(panelsN * KC * 4);
  const packedA = new Float64Array(KC * 4);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    // 1. Pack the slab of B: panel p, step k → packedB[(p·kc + k)·4 + c] = B[k0 + k, 4p + c].
    for (let p = 0; p < panelsN; p++) {
      for (let k = 0; k < kc; k++) {
        const dst = (p * kc + k) * 4, row = B.off + (k0 + k) * B.rs;
        for (let c = 0; c < 4; c++) {
          const j = p * 4 + c;
          packedB[dst + c] = j < N ? b[row + j * B.cs]! : 0;
        }
      }
    }
    for (let i0 = 0; i0 < M; i0 += 4) {
      // 2. Pack 4 rows of A for this slab: packedA[k·4 + r] = A[i0 + r, k0 + k].
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < 4; r++) {
          const i = i0 + r;
          packedA[k * 4 + r] = i < M ? a[A.off + i * A.rs + (k0 + k) * A.cs]! : 0;
        }
      }
      const rows = Math.min(4, M - i0);
      for (let p = 0; p < panelsN; p++) {
        // 3. The 4×4 micro-kernel.
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let k = 0, pb = p * kc * 4, pa = 0; k < kc; k++, pb += 4, pa += 4) {
          const b0 = packedB[pb]!, b1 = packedB[pb + 1]!, b2 = packedB[pb + 2]!, b3 = packedB[pb + 3]!;
          const a0 = packedA[pa]!, a1 = packedA[pa + 1]!, a2 = packedA[pa + 2]!, a3 = packedA[pa + 3]!;
          c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
          c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
          c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
          c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }
        const j0 = p * 4, cols = Math.min(4, N - j0);
        const at = o + i0 * N + j0;
        addRow(out, at, cols, c00, c01, c02, c03);
        if (rows > 1) addRow(out, at + N, cols, c10, c11, c12, c13);
        if (rows > 2) addRow(out, at + 2 * N, cols, c20, c21, c22, c23);
        if (rows > 3) addRow(out, at + 3 * N, cols, c30, c31, c32, c33);
      }
    }
  }
}

/** Adds one row of a micro-tile (its first `cols` columns) into out. */
function addRow(out: Storage, at: number, cols: number, v0: number, v1: number, v2: number, v3: number): void {
  out[at]! += v0;
  if (cols > 1) out[at + 1]! += v1;
  if (cols > 2) out[at + 2]! += v2;
  if (cols > 3) out[at + 3]! += v3;
}
