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

/* Packs an M×K view of A: slab s, panel p, step k, row r → dst[s·Mp·KC + p·kc·MR + k·MR + r]. */
EXPORT(pack_a)
void pack_a(float *dst, const float *a, int rs, int cs, int M, int K) {
  int Mp = round_up(M, MR);
  for (int k0 = 0; k0 < K; k0 += KC) {
    int kc = min_int(KC, K - k0);
    for (int i0 = 0; i0 < Mp; i0 += MR)
      for (int k = 0; k < kc; k++)
        for (int r = 0; r < MR; r++, dst++)
          *dst = i0 + r < M ? a[(i0 + r) * rs + (k0 + k) * cs] : 0.0f;
  }
}

/* Packs a K×N view of B: slab s, panel p, step k, column c → dst[s·Np·KC + p·kc·NR + k·NR + c]. */
EXPORT(pack_b)
void pack_b(float *dst, const float *b, int rs, int cs, int K, int N) {
  int Np = round_up(N, NR);
  for (int k0 = 0; k0 < K; k0 += KC) {
    int kc = min_int(KC, K - k0);
    for (int j0 = 0; j0 < Np; j0 += NR)
      for (int k = 0; k < kc; k++) {
        const float *row = b + (k0 + k) * rs;
        if (cs == 1 && j0 + NR <= N) {
          wasm_v128_store(dst, wasm_v128_load(row + j0));
          wasm_v128_store(dst + 4, wasm_v128_load(row + j0 + 4));
          dst += NR;
          continue;
        }
        for (int c = 0; c < NR; c++, dst++) *dst = j0 + c < N ? row[(j0 + c) * cs] : 0.0f;
      }
  }
}

/* The MR×NR micro-kernel: acc = Σₖ a[k]ᵀ b[k] over one slab, then C (+)= acc on the rows/cols inside. */
static void micro_kernel(int kc, const float *a, const float *b, float *c, int ldc, int rows, int cols, int add) {
  v128_t acc[MR][2];
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
  for (int k = 0; k < kc; k++, a += MR, b += NR) {
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
 * C = packedA · packedB for the rows i_begin…i_end of C (a multiple of MR apart, except at M), so
 * that threads can split the rows of one product.
 */
EXPORT(gemm_packed)
void gemm_packed(float *c, const float *pa, const float *pb, int M, int K, int N, int i_begin, int i_end) {
  int Mp = round_up(M, MR), Np = round_up(N, NR);
  for (int k0 = 0; k0 < K; k0 += KC) {
    int kc = min_int(KC, K - k0);
    const float *slab_a = pa + (long)Mp * k0, *slab_b = pb + (long)Np * k0;
    for (int m0 = i_begin; m0 < i_end; m0 += MC) {
      int m1 = min_int(m0 + MC, i_end);
      for (int j0 = 0; j0 < N; j0 += NR) {
        const float *panel_b = slab_b + j0 * kc;
        for (int i0 = m0; i0 < m1; i0 += MR)
          micro_kernel(kc, slab_a + i0 * kc, panel_b, c + i0 * N + j0, N, min_int(MR, M - i0), min_int(NR, N - j0), k0 > 0);
      }
    }
  }
}

/* Bytes of packed storage for an M×K left operand and a K×N right operand. */
EXPORT(packed_a_floats) int packed_a_floats(int M, int K) { return round_up(M, MR) * K; }
EXPORT(packed_b_floats) int packed_b_floats(int K, int N) { return round_up(N, NR) * K; }
