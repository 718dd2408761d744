import type { Storage } from "../ndarray.js";
import { erf, gelu, sigmoid, softplus } from "./math.js";

/**
 * Unary kernels: out[i] = f(x[i]) over contiguous arrays. One explicit loop per op, so the JIT
 * can inline the body and a WebAssembly SIMD kernel can replace any of them one-for-one.
 * `p` and `q` carry the op's parameters (leakyRelu's slope, clip's bounds, elu's alpha).
 */
export type UnaryKernel = (out: Storage, x: Storage, p: number, q: number) => void;

export const unaryKernels = {
  neg(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = -x[i]!; },
  abs(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.abs(x[i]!); },
  sign(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.sign(x[i]!); },
  exp(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.exp(x[i]!); },
  expm1(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.expm1(x[i]!); },
  log(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.log(x[i]!); },
  log1p(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.log1p(x[i]!); },
  sqrt(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.sqrt(x[i]!); },
  rsqrt(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = 1 / Math.sqrt(x[i]!); },
  square(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = x[i]! * x[i]!; },
  reciprocal(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = 1 / x[i]!; },
  sin(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.sin(x[i]!); },
  cos(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.cos(x[i]!); },
  tanh(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Math.tanh(x[i]!); },
  erf(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = erf(x[i]!); },
  sigmoid(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = sigmoid(x[i]!); },
  relu(out, x) {
    if (out instanceof Float32Array && x instanceof Float32Array) return reluFloat32(out, x);
    for (let i = 0, n = out.length; i < n; i++) out[i] = Math.max(x[i]!, 0); // NaN stays NaN, as in PyTorch
  },
  leakyRelu(out, x, slope) { for (let i = 0, n = out.length; i < n; i++) out[i] = x[i]! > 0 ? x[i]! : slope * x[i]!; },
  elu(out, x, alpha) { for (let i = 0, n = out.length; i < n; i++) out[i] = x[i]! > 0 ? x[i]! : alpha * Math.expm1(x[i]!); },
  gelu(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = gelu(x[i]!); },
  softplus(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = softplus(x[i]!); },
  clip(out, x, lo, hi) { for (let i = 0, n = out.length; i < n; i++) out[i] = x[i]! < lo ? lo : x[i]! > hi ? hi : x[i]!; },
  isNaN(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = x[i]! !== x[i]! ? 1 : 0; },
  isFinite(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = Number.isFinite(x[i]!) ? 1 : 0; },
  logicalNot(out, x) { for (let i = 0, n = out.length; i < n; i++) out[i] = x[i]! === 0 ? 1 : 0; },
} satisfies Record<string, UnaryKernel>;

export type UnaryOp = keyof typeof unaryKernels;

/**
 * relu on float32 without a branch: read the bits as int32, and where the sign bit is set
 * (b >> 31 is all ones) clear every bit, giving +0. Both compare-and-branch and Math.max
 * mispredict on inputs of random sign, which makes them several times slower (see benchmarks/).
 * Exact for every number and ±∞; a NaN keeps its value unless its sign bit is set.
 */
function reluFloat32(out: Float32Array, x: Float32Array): void {
  const o = new Int32Array(out.buffer, out.byteOffset, out.length);
  const b = new Int32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0, n = o.length; i < n; i++) o[i] = b[i]! & ~(b[i]! >> 31);
}

/**
 * Binary row kernels: out[o + i] = a[ia + i·sa] ⊕ b[ib + i·sb] for i < n. Broadcasting is
 * resolved outside, by the driver, which calls a kernel once per contiguous row (stride 0
 * repeats a broadcast value). Comparisons and logical ops write 0/1 as +(boolean), which V8
 * compiles without a branch (`c ? 1 : 0` is a branch, mispredicted on data of random order).
 */
export type BinaryKernel = (out: Storage, o: number, a: Storage, ia: number, sa: number, b: Storage, ib: number, sb: number, n: number) => void;

export const binaryKernels = {
  add(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia]! + b[ib]!; },
  sub(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia]! - b[ib]!; },
  mul(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia]! * b[ib]!; },
  div(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = a[ia]! / b[ib]!; },
  pow(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = Math.pow(a[ia]!, b[ib]!); },
  maximum(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = Math.max(a[ia]!, b[ib]!); },
  minimum(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = Math.min(a[ia]!, b[ib]!); },
  eq(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! === b[ib]!); },
  ne(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! !== b[ib]!); },
  lt(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! < b[ib]!); },
  le(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! <= b[ib]!); },
  gt(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! > b[ib]!); },
  ge(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! >= b[ib]!); },
  logicalAnd(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! !== 0) & +(b[ib]! !== 0); },
  logicalOr(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! !== 0) | +(b[ib]! !== 0); },
  logicalXor(out, o, a, ia, sa, b, ib, sb, n) { for (let i = 0; i < n; i++, ia += sa, ib += sb) out[o + i] = +(a[ia]! !== 0) ^ +(b[ib]! !== 0); },
} satisfies Record<string, BinaryKernel>;

export type BinaryOp = keyof typeof binaryKernels;

/**
 * where(cond, a, b) row kernel: cond ≠ 0 picks a (NaN counts as true, as in NumPy). On float32
 * rows it selects without a branch (a branch is mispredicted on random masks): the bits
 * of a and b are combined as (a & m) | (b & ~m) with m all ones where cond holds, so every value,
 * NaN and ±∞ included, is copied exactly.
 */
export function whereRow(out: Storage, o: number, c: Storage, ic: number, sc: number, a: Storage, ia: number, sa: number, b: Storage, ib: number, sb: number, n: number): void {
  if (n >= 16 && out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array) {
    const o32 = bitsOf(out), a32 = bitsOf(a), b32 = bitsOf(b);
    for (let i = 0; i < n; i++, ic += sc, ia += sa, ib += sb) {
      const m = -(+(c[ic]! !== 0));
      o32[o + i] = (a32[ia]! & m) | (b32[ib]! & ~m);
    }
    return;
  }
  for (let i = 0; i < n; i++, ic += sc, ia += sa, ib += sb) out[o + i] = c[ic]! !== 0 ? a[ia]! : b[ib]!;
}

function bitsOf(x: Float32Array): Int32Array {
  return new Int32Array(x.buffer, x.byteOffset, x.length);
}
