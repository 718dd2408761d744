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

/*
 * Fused binary cross-entropy from logits (the loss's one-pass forward; see losses/src/fused.ts).
 * Per element, with x and z read as +0 where masked (their bits ANDed with the mask's all-ones/zero):
 *   ℓ = (1 − z)·softplus(x) + pw·z·softplus(−x),   dℓ/dx = (1 − z)·s − pw·z·s̄
 * softplus(±x) = max(±x, 0) + log1p(e), e = exp(−|x|); s = σ(x), s̄ = σ(−x) are r = 1/(1 + e) and
 * e·r swapped by x's sign, a bit select (no branch).
 */

/* exp(t) for t ≤ 0: t = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r⁷, 2ⁿ built in the exponent bits. */
static inline v128_t exp_nonpositive(v128_t t) {
  t = wasm_f32x4_max(t, wasm_f32x4_splat(-87.0f)); /* 2ⁿ stays a normal float (NaN propagates) */
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(t, wasm_f32x4_splat(1.44269504f)));
  /* ln2 in two parts (the first has 9 significant bits, so n·ln2_hi is exact) */
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(t, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f))), wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.0f / 5040);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 720));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 120));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 24));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 6));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

/*
 * log1p(e) for 0 ≤ e ≤ 1, without cancellation: 1 + e = 2ᵏ·m with m in [√½, √2) (k = 1 when
 * e > √2 − 1), log m = 2·atanh(f) = 2f·(1 + f²/3 + f⁴/5 + f⁶/7 + f⁸/9), f = (m − 1)/(m + 1),
 * which is e/(e + 2) for k = 0 and (e − 1)/(e + 3) for k = 1: |f| ≤ 0.1716, taken from e directly.
 */
static inline v128_t log1p_unit(v128_t e) {
  v128_t k = wasm_f32x4_gt(e, wasm_f32x4_splat(0.41421356f));
  v128_t num = wasm_v128_bitselect(wasm_f32x4_sub(e, wasm_f32x4_splat(1.0f)), e, k);
  v128_t den = wasm_f32x4_add(e, wasm_v128_bitselect(wasm_f32x4_splat(3.0f), wasm_f32x4_splat(2.0f), k));
  v128_t f = wasm_f32x4_div(num, den), f2 = wasm_f32x4_mul(f, f);
  v128_t p = wasm_f32x4_splat(1.0f / 9);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f2), wasm_f32x4_splat(1.0f / 7));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f2), wasm_f32x4_splat(1.0f / 5));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f2), wasm_f32x4_splat(1.0f / 3));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, f2), wasm_f32x4_splat(1.0f));
  v128_t log_m = wasm_f32x4_mul(wasm_f32x4_add(f, f), p);
  return wasm_f32x4_add(log_m, wasm_v128_and(k, wasm_f32x4_splat(0.69314718f)));
}

/*
 * Over n elements (a multiple of 4: the caller pads with mask = 0, c = 0): x, z the raw bits,
 * mask 1 where kept and 0 where masked, c reduceLoss's coefficients, pw the positive weights (or null: the
 * scalar pw_scalar). Writes grad = c·dℓ/dx and, if values is not null, values = c·ℓ; returns Σ c·ℓ.
 * z is label-smoothed as z·z_scale + z_shift.
 */
EXPORT(bce_logits)
double bce_logits(const v128_t *x, const v128_t *z, const v128_t *mask, const v128_t *c, const v128_t *pw, float pw_scalar,
                  float z_scale, float z_shift, v128_t *grad, v128_t *values, int n) {
  v128_t total_lo = wasm_f64x2_splat(0.0), total_hi = total_lo, zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  for (int i = 0; i < n / 4; i++) {
    v128_t k = wasm_f32x4_ne(wasm_v128_load(mask + i), zero); /* all ones where kept */
    v128_t xi = wasm_v128_and(wasm_v128_load(x + i), k);
    v128_t zi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_and(wasm_v128_load(z + i), k), wasm_f32x4_splat(z_scale)), wasm_f32x4_splat(z_shift));
    v128_t pwi = pw ? wasm_v128_load(pw + i) : wasm_f32x4_splat(pw_scalar), ci = wasm_v128_load(c + i);
    v128_t e = exp_nonpositive(wasm_f32x4_neg(wasm_f32x4_abs(xi))), log1p_e = log1p_unit(e);
    v128_t r = wasm_f32x4_div(one, wasm_f32x4_add(one, e)), er = wasm_f32x4_mul(e, r);
    v128_t negative = wasm_i32x4_shr(xi, 31); /* all ones where x's sign bit is set */
    v128_t s = wasm_v128_bitselect(er, r, negative), s_bar = wasm_v128_bitselect(r, er, negative);
    v128_t one_minus_z = wasm_f32x4_sub(one, zi), pwz = wasm_f32x4_mul(pwi, zi);
    v128_t l = wasm_f32x4_add(wasm_f32x4_mul(one_minus_z, wasm_f32x4_add(wasm_f32x4_max(xi, zero), log1p_e)),
                              wasm_f32x4_mul(pwz, wasm_f32x4_add(wasm_f32x4_max(wasm_f32x4_neg(xi), zero), log1p_e)));
    v128_t cl = wasm_f32x4_mul(ci, l);
    wasm_v128_store(grad + i, wasm_f32x4_mul(ci, wasm_f32x4_sub(wasm_f32x4_mul(one_minus_z, s), wasm_f32x4_mul(pwz, s_bar))));
    if (values) wasm_v128_store(values + i, cl);
    total_lo = wasm_f64x2_add(total_lo, wasm_f64x2_promote_low_f32x4(cl));
    total_hi = wasm_f64x2_add(total_hi, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(cl, cl, 2, 3, 2, 3)));
  }
  v128_t t = wasm_f64x2_add(total_lo, total_hi);
  return wasm_f64x2_extract_lane(t, 0) + wasm_f64x2_extract_lane(t, 1);
}

/* ---- optimizer updates ---- */

/*
 * Adam / AdamW over n elements (a multiple of 4: the caller pads its chunks; the padding lanes
 * are computed and never copied out), in place, in float32, with the bias corrections folded
 * into two constants as PyTorch does — step = lr / (1 − β₁ᵗ), isc2 = 1 / √(1 − β₂ᵗ):
 *   g ← g + l2·p,  m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²
 *   p ← p·shrink − step·m / (√v·isc2 + ε)          (= p·shrink − lr·m̂ / (√v̂ + ε))
 * one division and one square root per element.
 */
EXPORT(adam_update)
void adam_update(v128_t *p, v128_t *m, v128_t *v, const v128_t *g, int n, float b1, float ob1, float b2, float ob2, float eps,
                 float l2, float shrink, float step, float isc2) {
  for (int i = 0; i < n / 4; i++) {
    v128_t pi = wasm_v128_load(p + i);
    v128_t gi = wasm_f32x4_add(wasm_v128_load(g + i), wasm_f32x4_mul(wasm_f32x4_splat(l2), pi));
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(b1), wasm_v128_load(m + i)), wasm_f32x4_mul(wasm_f32x4_splat(ob1), gi));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(b2), wasm_v128_load(v + i)), wasm_f32x4_mul(wasm_f32x4_splat(ob2), wasm_f32x4_mul(gi, gi)));
    v128_t denom = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vi), wasm_f32x4_splat(isc2)), wasm_f32x4_splat(eps));
    wasm_v128_store(m + i, mi);
    wasm_v128_store(v + i, vi);
    wasm_v128_store(p + i, wasm_f32x4_sub(wasm_f32x4_mul(pi, wasm_f32x4_splat(shrink)), wasm_f32x4_div(wasm_f32x4_mul(wasm_f32x4_splat(step), mi), denom)));
  }
}

/*
 * A 4×4 block of a view whose columns are contiguous (rs = 1: a transposed matrix), copied
 * row-major: four column vectors are loaded and transposed with shuffles into four row vectors.
 */
static inline void transpose_4x4(float *dst, int ld, const float *x, int cs) {
  v128_t a = wasm_v128_load(x), b = wasm_v128_load(x + cs), c = wasm_v128_load(x + 2 * cs), d = wasm_v128_load(x + 3 * cs);
  v128_t ab_lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), ab_hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
  v128_t cd_lo = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), cd_hi = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
  wasm_v128_store(dst, wasm_i32x4_shuffle(ab_lo, cd_lo, 0, 1, 4, 5));
  wasm_v128_store(dst + ld, wasm_i32x4_shuffle(ab_lo, cd_lo, 2, 3, 6, 7));
  wasm_v128_store(dst + 2 * ld, wasm_i32x4_shuffle(ab_hi, cd_hi, 0, 1, 4, 5));
  wasm_v128_store(dst + 3 * ld, wasm_i32x4_shuffle(ab_hi, cd_hi, 2, 3, 6, 7));
}

/*
 * Copies a rows×cols strided view — element (r, c) at x[r·rs + c·cs] — into dst row-major: a
 * transposed gradient read in its parameter's order. In 16×16 tiles, so that both the reads and
 * the writes stay within 16 cache lines per tile; within a tile, 4×4 blocks of a view with rs = 1
 * are transposed as vectors, any other block element by element.
 */
EXPORT(gather_rows)
void gather_rows(float *dst, const float *x, int rs, int cs, int rows, int cols) {
  for (int r0 = 0; r0 < rows; r0 += 16)
    for (int c0 = 0; c0 < cols; c0 += 16) {
      int r1 = min_int(r0 + 16, rows), c1 = min_int(c0 + 16, cols);
      for (int r = r0; r < r1; r += 4)
        for (int c = c0; c < c1; c += 4) {
          if (rs == 1 && r + 4 <= r1 && c + 4 <= c1) {
            transpose_4x4(dst + r * cols + c, cols, x + r + c * cs, cs);
            continue;
          }
          for (int i = r; i < min_int(r + 4, r1); i++)
            for (int j = c; j < min_int(c + 4, c1); j++) dst[i * cols + j] = x[i * rs + j * cs];
        }
    }
}

/* 1 if any of n floats (a multiple of 4; pad with 0) is NaN or ±Infinity (all exponent bits set), else 0. */
EXPORT(any_non_finite)
int any_non_finite(const v128_t *x, int n) {
  v128_t exponent = wasm_i32x4_splat(0x7f800000), found = wasm_i32x4_splat(0);
  for (int i = 0; i < n / 4; i++) found = wasm_v128_or(found, wasm_i32x4_eq(wasm_v128_and(wasm_v128_load(x + i), exponent), exponent));
  return wasm_v128_any_true(found);
}
