/*
 * Packed, register-blocked single-precision GEMM for WebAssembly SIMD128 (f32x4).
 *
 *   C[M×N] = A[M×K] · B[K×N]
 *
 * The operands arrive in this module's memory as strided views (element (r, c) at r·rs + c·cs),
 * so a transposed operand is just a view with swapped strides. Packing copies them into the
 * order the micro-kernel reads, which makes every layout cost the same:
 *
 *   packed A: for each slab of KC values of k, panels of MR rows, each panel k-major (MR values per k);
 *   packed B: for each slab of KC values of k, panels of NR columns, each panel k-major (NR values per k).
 *
 * Rows and columns past M and N are packed as zeros, so the micro-kernel never branches on the edge;
 * only its final store does. The loops follow the BLIS order: a KC×NR panel of B stays in L1 while
 * the MC×KC block of A in L2 streams past it; an MR×NR tile of C lives in registers over the slab.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define MR 4  /* rows of C per micro-tile: MR × 2 accumulators of 4 lanes */
#define NR 8  /* columns of C per micro-tile: two f32x4 vectors */
#define KC 256
#define MC 64

static int round_up(int x, int m) { return (x + m - 1) / m * m; }
static int min_int(int a, int b) { return a < b ? a : b; }

/*
 * Packs the rows of an R×K view (element (r, k) at r·rs + k·cs) into panels of W rows: slab s,
 * panel p, step k, row r → dst[s·Rp·KC + p·kc·W + k·W + r], rows past R as zeros. Where the W
 * values of one step are adjacent in memory (rs = 1), they are copied as f32x4 vectors.
 */
static inline void pack_panels(float *dst, const float *x, int rs, int cs, int R, int K, int W) {
  int Rp = round_up(R, W);
  for (int k0 = 0; k0 < K; k0 += KC) {
    int kc = min_int(KC, K - k0);
    for (int i0 = 0; i0 < Rp; i0 += W)
      for (int k = 0; k < kc; k++, dst += W) {
        const float *col = x + (k0 + k) * cs + i0 * rs;
        if (rs == 1 && i0 + W <= R) {
          for (int v = 0; v < W; v += 4) wasm_v128_store(dst + v, wasm_v128_load(col + v));
          continue;
        }
        for (int r = 0; r < W; r++) dst[r] = i0 + r < R ? col[r * rs] : 0.0f;
      }
  }
}

/* Packs an M×K view of A into panels of MR rows. */
EXPORT(pack_a)
void pack_a(float *dst, const float *a, int rs, int cs, int M, int K) { pack_panels(dst, a, rs, cs, M, K, MR); }

/* Packs a K×N view of B into panels of NR columns: the rows of Bᵀ, whose strides are B's swapped. */
EXPORT(pack_b)
void pack_b(float *dst, const float *b, int rs, int cs, int K, int N) { pack_panels(dst, b, cs, rs, N, K, NR); }

/*
 * The MR×NR micro-kernel: acc = Σₖ a[k]ᵀ b[k] over one slab, then C (+)= acc on the rows/cols
 * inside. b[k] is NR floats at b + k·ldb: a packed panel (ldb = NR) or a row-major B read in place.
 */
static void micro_kernel(int kc, const float *a, const float *b, int ldb, float *c, int ldc, int rows, int cols, int add) {
  v128_t acc[MR][2];
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
  for (int k = 0; k < kc; k++, a += MR, b += ldb) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    for (int r = 0; r < MR; r++) {
      v128_t ar = wasm_v128_load32_splat(a + r);
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(ar, b0));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(ar, b1));
    }
  }
  if (rows == MR && cols == NR) {
    for (int r = 0; r < MR; r++, c += ldc) {
      if (add) {
        acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_v128_load(c));
        acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_v128_load(c + 4));
      }
      wasm_v128_store(c, acc[r][0]);
      wasm_v128_store(c + 4, acc[r][1]);
    }
    return;
  }
  float tile[MR * NR];
  for (int r = 0; r < MR; r++) {
    wasm_v128_store(tile + r * NR, acc[r][0]);
    wasm_v128_store(tile + r * NR + 4, acc[r][1]);
  }
  for (int r = 0; r < rows; r++, c += ldc)
    for (int j = 0; j < cols; j++) c[j] = add ? c[j] + tile[r * NR + j] : tile[r * NR + j];
}

/*
 * C = packedA · B for the rows i_begin…i_end of C (a multiple of MR apart, except at M), so that
 * threads can split the rows of one product. B is packed (ldb = 0) or, when its rows are
 * contiguous, read in place with row stride ldb: for a few rows of A, packing B would cost as
 * much as the product. (Reading in place may load up to NR − 1 floats past B's last row, into
 * lanes that are never stored.)
 */
EXPORT(gemm_packed)
void gemm_packed(float *c, const float *pa, const float *b, int ldb, int M, int K, int N, int i_begin, int i_end) {
  int Mp = round_up(M, MR), Np = round_up(N, NR);
  for (int k0 = 0; k0 < K; k0 += KC) {
    int kc = min_int(KC, K - k0);
    const float *slab_a = pa + (long)Mp * k0, *slab_b = ldb ? b + (long)ldb * k0 : b + (long)Np * k0;
    for (int m0 = i_begin; m0 < i_end; m0 += MC) {
      int m1 = min_int(m0 + MC, i_end);
      for (int j0 = 0; j0 < N; j0 += NR) {
        const float *panel_b = ldb ? slab_b + j0 : slab_b + j0 * kc;
        for (int i0 = m0; i0 < m1; i0 += MR)
          micro_kernel(kc, slab_a + i0 * kc, panel_b, ldb ? ldb : NR, c + i0 * N + j0, N, min_int(MR, M - i0), min_int(NR, N - j0), k0 > 0);
      }
    }
  }
}

/* Bytes of packed storage for an M×K left operand and a K×N right operand. */
EXPORT(packed_a_floats) int packed_a_floats(int M, int K) { return round_up(M, MR) * K; }
EXPORT(packed_b_floats) int packed_b_floats(int K, int N) { return round_up(N, NR) * K; }
