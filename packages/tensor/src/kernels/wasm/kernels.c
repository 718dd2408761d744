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
/*
 * The module is compiled without automatic unrolling or vectorization (build.mjs): every vector
 * loop here is written with f32x4 by hand, and the compiler's copies of the scalar tails made the
 * module 60 % larger for nothing. The loops over the MR rows of a micro-tile are the exception: they
 * must be unrolled, so that its accumulators live in registers (2× the speed of the GEMM), and so
 * must the loops over a panel's width in packing (W is MR or NR there).
 */
#define UNROLL _Pragma("clang loop unroll(full)")

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
          UNROLL for (int v = 0; v < W; v += 4) wasm_v128_store(dst + v, wasm_v128_load(col + v));
          continue;
        }
        UNROLL for (int r = 0; r < W; r++) dst[r] = i0 + r < R ? col[r * rs] : 0.0f;
      }
  }
}

/*
 * Packs rows i0…i1 of an M×K view of A (i0 a multiple of MR) into their places among all M rows'
 * panels, slab by slab: each thread of a split product packs the rows it multiplies.
 */
EXPORT(pack_a_rows)
void pack_a_rows(float *dst, const float *a, int rs, int cs, int M, int K, int i0, int i1) {
  int Mp = round_up(M, MR);
  for (int k0 = 0; k0 < K; k0 += KC) {
    int kc = min_int(KC, K - k0);
    pack_panels(dst + (long)Mp * k0 + (long)i0 * kc, a + (long)i0 * rs + (long)k0 * cs, rs, cs, min_int(i1, M) - i0, kc, MR);
  }
}

/* Packs a K×N view of B into panels of NR columns: the rows of Bᵀ, whose strides are B's swapped. */
EXPORT(pack_b)
void pack_b(float *dst, const float *b, int rs, int cs, int K, int N) { pack_panels(dst, b, cs, rs, N, K, NR); }

/*
 * The MR×NR micro-kernel: acc = Σₖ a[k]ᵀ b[k] over one slab, then C (+)= acc on the rows/cols
 * inside. b[k] is NR floats at b + k·ldb: a packed panel (ldb = NR) or a row-major B read in place.
 */
static void micro_kernel(int kc, const float *a, const float *b, int ldb, float *c, int ldc, int rows, int cols, int add) {
  v128_t acc[MR][2];
  UNROLL for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0.0f);
  for (int k = 0; k < kc; k++, a += MR, b += ldb) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    UNROLL for (int r = 0; r < MR; r++) {
      v128_t ar = wasm_v128_load32_splat(a + r);
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(ar, b0));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(ar, b1));
    }
  }
  if (rows == MR && cols == NR) {
    UNROLL for (int r = 0; r < MR; r++, c += ldc) {
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
  UNROLL for (int r = 0; r < MR; r++) {
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

/*
 * exp(t) over the whole float32 range: t = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series
 * to r⁷. n is rounded by adding 1.5·2²³ (the sum's low mantissa bits are then n, as an integer),
 * cheaper than nearest + trunc_sat. 2ⁿ is applied as 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋): both factors
 * are normal floats, so a result in the subnormal range is rounded once, by the last product.
 * t is clamped to [−104, 88.8] (below: the result rounds to 0; above: the product overflows to
 * ∞); pmin/pmax keep a NaN t as NaN.
 */
static inline v128_t exp_full(v128_t t) {
  t = wasm_f32x4_pmin(wasm_f32x4_pmax(t, wasm_f32x4_splat(-104.0f)), wasm_f32x4_splat(88.8f));
  v128_t shifted = wasm_f32x4_add(wasm_f32x4_mul(t, wasm_f32x4_splat(1.44269504f)), wasm_f32x4_splat(12582912.0f));
  v128_t n = wasm_f32x4_sub(shifted, wasm_f32x4_splat(12582912.0f));
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(t, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f))), wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.0f / 5040);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 720));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 120));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 24));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f / 6));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(0.5f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
  v128_t ni = wasm_i32x4_sub(shifted, wasm_i32x4_splat(0x4B400000)); /* n as an integer */
  v128_t half = wasm_i32x4_shr(ni, 1), rest = wasm_i32x4_sub(ni, half);
  v128_t bias = wasm_i32x4_splat(127);
  p = wasm_f32x4_mul(p, wasm_i32x4_shl(wasm_i32x4_add(half, bias), 23));
  return wasm_f32x4_mul(p, wasm_i32x4_shl(wasm_i32x4_add(rest, bias), 23));
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
 * mask 1 where kept and 0 where masked, c reduceLoss's coefficients (or null: c = mask·c_scalar),
 * pw the positive weights (or null: the scalar pw_scalar). Writes grad = c·dℓ/dx and, if values is
 * not null, values = c·ℓ; returns Σ c·ℓ, or NaN when a kept target lies outside [0, 1] (the
 * caller's checks then name it). z is label-smoothed as z·z_scale + z_shift.
 */
EXPORT(bce_logits)
double bce_logits(const v128_t *x, const v128_t *z, const v128_t *mask, const v128_t *c, float c_scalar, const v128_t *pw, float pw_scalar,
                  float z_scale, float z_shift, v128_t *grad, v128_t *values, int n) {
  v128_t total_lo = wasm_f64x2_splat(0.0), total_hi = total_lo, zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  v128_t outside = zero; /* lanes with a kept target outside [0, 1] (NaN included) */
  for (int i = 0; i < n / 4; i++) {
    v128_t k = wasm_f32x4_ne(wasm_v128_load(mask + i), zero); /* all ones where kept */
    v128_t xi = wasm_v128_and(wasm_v128_load(x + i), k), z_raw = wasm_v128_and(wasm_v128_load(z + i), k);
    outside = wasm_v128_or(outside, wasm_v128_andnot(k, wasm_v128_and(wasm_f32x4_ge(z_raw, zero), wasm_f32x4_le(z_raw, one))));
    v128_t zi = wasm_f32x4_add(wasm_f32x4_mul(z_raw, wasm_f32x4_splat(z_scale)), wasm_f32x4_splat(z_shift));
    v128_t pwi = pw ? wasm_v128_load(pw + i) : wasm_f32x4_splat(pw_scalar);
    v128_t ci = c ? wasm_v128_load(c + i) : wasm_v128_and(k, wasm_f32x4_splat(c_scalar)); /* c = mask·u */
    v128_t e = exp_full(wasm_f32x4_neg(wasm_f32x4_abs(xi))), log1p_e = log1p_unit(e);
    v128_t r = wasm_f32x4_div(one, wasm_f32x4_add(one, e)), er = wasm_f32x4_mul(e, r);
    v128_t negative = wasm_i32x4_shr(xi, 31); /* all ones where x's sign bit is set */
    v128_t s = wasm_v128_bitselect(er, r, negative), s_bar = wasm_v128_bitselect(r, er, negative);
    v128_t one_minus_z = wasm_f32x4_sub(one, zi), pwz = wasm_f32x4_mul(pwi, zi);
    v128_t l = wasm_f32x4_add(wasm_f32x4_mul(one_minus_z, wasm_f32x4_add(wasm_f32x4_pmax(xi, zero), log1p_e)),
                              wasm_f32x4_mul(pwz, wasm_f32x4_add(wasm_f32x4_pmax(wasm_f32x4_neg(xi), zero), log1p_e)));
    v128_t cl = wasm_f32x4_mul(ci, l);
    wasm_v128_store(grad + i, wasm_f32x4_mul(ci, wasm_f32x4_sub(wasm_f32x4_mul(one_minus_z, s), wasm_f32x4_mul(pwz, s_bar))));
    if (values) wasm_v128_store(values + i, cl);
    total_lo = wasm_f64x2_add(total_lo, wasm_f64x2_promote_low_f32x4(cl));
    total_hi = wasm_f64x2_add(total_hi, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(cl, cl, 2, 3, 2, 3)));
  }
  if (wasm_v128_any_true(outside)) return __builtin_nan("");
  v128_t t = wasm_f64x2_add(total_lo, total_hi);
  return wasm_f64x2_extract_lane(t, 0) + wasm_f64x2_extract_lane(t, 1);
}

/* ---- elementwise rows ---- */

/*
 * Binary kernels over contiguous rows: out[i] = a[i] ⊕ b[i] for i < n, n a multiple of 4 (the
 * caller pads, and fills a broadcast value across a row). Single-precision + − × ÷, min, max and the
 * comparisons give exactly what the JS kernels give (a double result rounded once to float32 is
 * the correctly rounded float32 result for + − × ÷), so the two sets agree bit for bit.
 * Comparisons write 1 or 0. One function with the op as a number (a predictable switch per
 * vector) keeps the module small; minsize stops clang from copying the loop once per op.
 */
enum { ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE };
static inline v128_t one_if(v128_t mask) { return wasm_v128_and(mask, wasm_f32x4_splat(1.0f)); }

EXPORT(binary_rows) __attribute__((minsize)) void binary_rows(int op, float *out, const float *a, const float *b, int n) {
  for (int i = 0; i < n; i += 4) {
    v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i), r;
    switch (op) {
      case ADD: r = wasm_f32x4_add(x, y); break;
      case SUB: r = wasm_f32x4_sub(x, y); break;
      case MUL: r = wasm_f32x4_mul(x, y); break;
      case DIV: r = wasm_f32x4_div(x, y); break;
      case MAXIMUM: r = wasm_f32x4_max(x, y); break;
      case MINIMUM: r = wasm_f32x4_min(x, y); break;
      case EQ: r = one_if(wasm_f32x4_eq(x, y)); break;
      case NE: r = one_if(wasm_f32x4_ne(x, y)); break;
      case LT: r = one_if(wasm_f32x4_lt(x, y)); break;
      case LE: r = one_if(wasm_f32x4_le(x, y)); break;
      case GT: r = one_if(wasm_f32x4_gt(x, y)); break;
      default: r = one_if(wasm_f32x4_ge(x, y)); break;
    }
    wasm_v128_store(out + i, r);
  }
}

/* ---- exp and softmax ---- */


/* relu as the JS kernel computes it, on the bits: where the sign bit is set (x >> 31 all ones), +0. */
static inline v128_t relu_bits(v128_t x) { return wasm_v128_andnot(x, wasm_i32x4_shr(x, 31)); }

/* Unary kernels: out[i] = f(x[i]) over n floats, n a multiple of 4 (the caller pads). */
enum { EXP, RELU };
EXPORT(unary_rows) __attribute__((minsize)) void unary_rows(int op, float *out, const float *x, int n) {
  for (int i = 0; i < n; i += 4) wasm_v128_store(out + i, op == EXP ? exp_full(wasm_v128_load(x + i)) : relu_bits(wasm_v128_load(x + i)));
}

/*
 * Four values of a row of k from index j, lanes at k and past it read as −∞ (they add nothing to
 * a maximum, and exp gives 0 for them). The caller leaves 16 bytes after the last row readable.
 */
static inline v128_t row_load(const float *x, int j, int k) {
  v128_t inside = wasm_i32x4_lt(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(k - j));
  return wasm_v128_bitselect(wasm_v128_load(x + j), wasm_f32x4_splat(-__builtin_inff()), inside);
}

/* The largest of a row's k values, NaN if any is NaN (f32x4.max propagates NaN). */
static float row_max(const float *x, int k) {
  v128_t m = wasm_f32x4_splat(-__builtin_inff());
  for (int j = 0; j < k; j += 4) m = wasm_f32x4_max(m, row_load(x, j, k));
  m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
  m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(m, 0);
}

/* log s in double for a row's Σ exp: s = 2ᵏ·m, m in [√½, √2), log m = 2·atanh(f), f = (m − 1)/(m + 1). */
static double log_of_sum(double s) {
  if (!(s > 0 && s < __builtin_inf())) return s == 0 ? -__builtin_inf() : s; /* 0 → −∞; ∞ and NaN stay */
  union { double d; unsigned long long u; } v = { s };
  int k = (int)((v.u >> 52) & 0x7ff) - 1023; /* s ≥ e⁻¹⁰⁴ here: never subnormal */
  v.u = (v.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m = v.d;
  if (m > 1.4142135623730951) { m *= 0.5; k++; }
  double f = (m - 1) / (m + 1), f2 = f * f, term = f, sum = 0;
  for (int i = 1; i < 30; i += 2, term *= f2) sum += term / i; /* |f| ≤ 0.172: 14 terms reach 1e-17 */
  return k * 0.6931471805599453 + 2 * sum;
}

/*
 * Softmax (or log-softmax) of `rows` contiguous rows of k values, stable: with m the row's maximum
 * (0 when it is ±∞, so such rows give NaN, as the JS kernel), e = exp(x − m) and s = Σe in double,
 * out = e·(1/s) with 1/s rounded to float32 (within a few ulps of the JS kernel's double), or
 * out = x − (m + log s) for log-softmax, rounded once from double. The caller leaves 16 bytes
 * after the rows readable and writable.
 */
EXPORT(softmax_rows) void softmax_rows(float *out, const float *x, int rows, int k, int log) {
  for (int row = 0; row < rows; row++, x += k, out += k) {
    float m = row_max(x, k);
    if (m == __builtin_inff() || m == -__builtin_inff()) m = 0;
    v128_t mv = wasm_f32x4_splat(m), s2 = wasm_f64x2_splat(0.0);
    for (int j = 0; j < k; j += 4) { /* the last vector may store up to 3 values past the row: the next row overwrites them */
      v128_t e = exp_full(wasm_f32x4_sub(row_load(x, j, k), mv));
      if (!log) wasm_v128_store(out + j, e);
      s2 = wasm_f64x2_add(s2, wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(e), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(e, e, 2, 3, 2, 3))));
    }
    double s = wasm_f64x2_extract_lane(s2, 0) + wasm_f64x2_extract_lane(s2, 1);
    if (log) { /* x − lse in double: rounding lse to float32 first would cost |lse|·2⁻²⁴ where x − lse is small */
      double lse = m + log_of_sum(s);
      _Pragma("clang loop vectorize(disable) unroll(disable)") for (int j = 0; j < k; j++) out[j] = (float)(x[j] - lse);
    } else { /* e·(1/s) in float32, whole vectors (up to 3 values past the row, overwritten by the next row) */
      v128_t scale = wasm_f32x4_splat((float)(1 / s));
      for (int j = 0; j < k; j += 4) wasm_v128_store(out + j, wasm_f32x4_mul(wasm_v128_load(out + j), scale));
    }
  }
}

/* ---- convolution, pooling, bias + activation ---- */

/*
 * The geometry of a window sliding over an NHWC image, as conv.ts's Window2D (14 int32s in this
 * module's memory): batch n, h×w pixels of c channels, a kh×kw window with strides (sh, sw),
 * dilations (dh, dw), pt/pl padding rows/columns above/left, an oh×ow output. The pixel a window
 * tap (i, j) of output (y, x) reads is (y·sh − pt + i·dh, x·sw − pl + j·dw).
 */
struct window { int n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow; };

static inline int max_int(int a, int b) { return a > b ? a : b; }
static inline int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); } /* b > 0 */

/* The taps [*lo, *hi) of one axis that fall inside [0, size) (conv.ts's firstInside / endInside). */
static inline void inside(int y, int stride, int pad, int dilation, int taps, int size, int *lo, int *hi) {
  int start = y * stride - pad;
  if (start >= 0 && start + (taps - 1) * dilation < size) { *lo = 0; *hi = taps; return; } /* all inside: no divisions */
  *lo = max_int(0, ceil_div(pad - y * stride, dilation));
  *hi = max_int(*lo, min_int(taps, ceil_div(size + pad - y * stride, dilation)));
}

/* dst[0…n) = src[0…n), or += when add: f32x4 over the run, then a scalar tail. */
static inline void copy_run(float *dst, const float *src, int n, int add) {
  int e = 0;
  if (add) {
    for (; e + 4 <= n; e += 4) wasm_v128_store(dst + e, wasm_f32x4_add(wasm_v128_load(dst + e), wasm_v128_load(src + e)));
    for (; e < n; e++) dst[e] += src[e];
    return;
  }
  for (; e + 4 <= n; e += 4) wasm_v128_store(dst + e, wasm_v128_load(src + e));
  for (; e < n; e++) dst[e] = src[e];
}

/*
 * im2col (cols = the windows as rows, zeros where a tap is in the padding) and, with adjoint set,
 * col2im (image += each column entry at the pixel it came from; the caller zeroes image). Both walk
 * the taps inside the image as runs of c adjacent channels, or of kw·c values when dw = 1; the
 * order of the sums is conv.ts's, so col2im equals the JS kernel exactly.
 */
static void window_rows(float *cols, float *image, const struct window *g, int adjoint) {
  int c = g->c, row_len = g->kh * g->kw * c;
  float *row = cols;
  for (int b = 0; b < g->n; b++)
    for (int y = 0; y < g->oh; y++) {
      int i0, i1;
      inside(y, g->sh, g->pt, g->dh, g->kh, g->h, &i0, &i1);
      for (int x = 0; x < g->ow; x++, row += row_len) {
        int j0, j1;
        inside(x, g->sw, g->pl, g->dw, g->kw, g->w, &j0, &j1);
        if (!adjoint && (i1 - i0) * (j1 - j0) < g->kh * g->kw) __builtin_memset(row, 0, (unsigned long)row_len * 4);
        for (int i = i0; i < i1; i++) {
          float *px = image + ((long)(b * g->h + y * g->sh - g->pt + i * g->dh) * g->w + x * g->sw - g->pl) * c;
          float *tap = row + i * g->kw * c;
          if (g->dw == 1) { /* the taps j0…j1 of this row are adjacent pixels */
            if (adjoint) copy_run(px + j0 * c, tap + j0 * c, (j1 - j0) * c, 1);
            else copy_run(tap + j0 * c, px + j0 * c, (j1 - j0) * c, 0);
            continue;
          }
          for (int j = j0; j < j1; j++) {
            if (adjoint) copy_run(px + j * g->dw * c, tap + j * c, c, 1);
            else copy_run(tap + j * c, px + j * g->dw * c, c, 0);
          }
        }
      }
    }
}

EXPORT(im2col) void im2col(float *cols, float *image, const struct window *g) { window_rows(cols, image, g, 0); }

EXPORT(col2im)
void col2im(float *image, float *cols, const struct window *g) {
  __builtin_memset(image, 0, (unsigned long)g->n * g->h * g->w * g->c * 4);
  window_rows(cols, image, g, 1);
}

/*
 * Max pooling with its argmax (the flat index of the input element that won), the rule of conv.ts:
 * the first tap inside the window starts, a later tap replaces it when greater or NaN (so the first
 * maximum wins, and the last NaN). Four channels at a time as f32x4 with a lane mask, then a
 * scalar tail. A window with no tap inside gives −∞ and −1; the indices start at index_base (the
 * offset of image in the whole batch, when the caller goes image by image).
 */
EXPORT(max_pool)
void max_pool(float *out, int *argmax, const float *image, const struct window *g, int index_base) {
  int c = g->c, tap_step = g->dw * c;
  for (int b = 0; b < g->n; b++)
    for (int y = 0; y < g->oh; y++) {
      int i0, i1;
      inside(y, g->sh, g->pt, g->dh, g->kh, g->h, &i0, &i1);
      for (int x = 0; x < g->ow; x++, out += c, argmax += c) {
        int j0, j1;
        inside(x, g->sw, g->pl, g->dw, g->kw, g->w, &j0, &j1);
        int first = ((b * g->h + y * g->sh - g->pt + i0 * g->dh) * g->w + x * g->sw - g->pl + j0 * g->dw) * c;
        int ch = 0;
        for (; ch + 4 <= c; ch += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff()), at = wasm_i32x4_splat(-1);
          for (int i = i0, started = 0; i < i1; i++)
            for (int j = j0, src = first + (i - i0) * g->dh * g->w * c + ch; j < j1; j++, src += tap_step) {
              v128_t v = wasm_v128_load(image + src), idx = wasm_i32x4_add(wasm_i32x4_splat(index_base + src), wasm_i32x4_make(0, 1, 2, 3));
              v128_t take = started ? wasm_v128_or(wasm_f32x4_gt(v, best), wasm_f32x4_ne(v, v)) : wasm_i32x4_splat(-1);
              best = wasm_v128_bitselect(v, best, take);
              at = wasm_v128_bitselect(idx, at, take);
              started = 1;
            }
          wasm_v128_store(out + ch, best);
          wasm_v128_store(argmax + ch, at);
        }
        for (; ch < c; ch++) {
          float best = -__builtin_inff();
          int at = -1;
          for (int i = i0; i < i1; i++)
            for (int j = j0, src = first + (i - i0) * g->dh * g->w * c + ch; j < j1; j++, src += tap_step) {
              float v = image[src];
              if (v > best || at == -1 || v != v) { best = v; at = index_base + src; }
            }
          out[ch] = best;
          argmax[ch] = at;
        }
      }
    }
}

/* The adjoint of max_pool: d_image = 0, then each output gradient added onto the element that won. */
EXPORT(max_pool_adjoint)
void max_pool_adjoint(float *d_image, int image_size, const float *d_out, const int *argmax, int n) {
  __builtin_memset(d_image, 0, (unsigned long)image_size * 4);
  for (int i = 0; i < n; i++)
    if (argmax[i] >= 0) d_image[argmax[i]] += d_out[i];
}

/*
 * Bias + activation (nn's Dense and Conv2D): out = act(y + b), b repeated along the rows of C
 * values; act is ReLU when relu is set (max with +0 through the sign bit, as the JS kernel: −0
 * and negative NaNs become +0), the identity otherwise.
 */
EXPORT(bias_activation)
void bias_activation(float *out, const float *y, const float *bias, int rows, int C, int relu) {
  for (int r = 0; r < rows; r++, out += C, y += C) {
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_v128_load(y + c), wasm_v128_load(bias + c));
      wasm_v128_store(out + c, relu ? wasm_v128_andnot(v, wasm_i32x4_shr(v, 31)) : v);
    }
    for (; c < C; c++) {
      float v = y[c] + bias[c];
      out[c] = relu && __builtin_signbit(v) ? 0.0f : v;
    }
  }
}

/*
 * Its gradient: gy = g·[out > 0] for ReLU (a product: −0 and NaN as in JS; g itself for the
 * identity), and sums[c] += Σ over rows of gy[row, c], accumulated in float64 row by row (the JS
 * kernel's order, so equal to it; the caller zeroes sums before the first block of rows).
 */
EXPORT(bias_activation_grad)
void bias_activation_grad(float *gy, double *sums, const float *g, const float *out, int rows, int C, int relu) {
  v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  for (int r = 0; r < rows; r++, gy += C, g += C, out += C) {
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_v128_load(g + c);
      if (relu) v = wasm_f32x4_mul(v, wasm_v128_and(one, wasm_f32x4_gt(wasm_v128_load(out + c), zero))); /* a product, as in JS: NaN·0 is NaN */
      wasm_v128_store(gy + c, v);
      wasm_v128_store(sums + c, wasm_f64x2_add(wasm_v128_load(sums + c), wasm_f64x2_promote_low_f32x4(v)));
      wasm_v128_store(sums + c + 2, wasm_f64x2_add(wasm_v128_load(sums + c + 2), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3))));
    }
    for (; c < C; c++) {
      float v = relu ? g[c] * (out[c] > 0 ? 1.0f : 0.0f) : g[c];
      gy[c] = v;
      sums[c] += v;
    }
  }
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
