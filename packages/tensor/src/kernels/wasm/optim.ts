import type { MatrixView } from "../matmul.js";
import { type AdamArgs, adamInto as jsAdamInto, firstNonFiniteIn as jsFirstNonFinite } from "../optim.js";
import { spanOf } from "./matmul.js";
import { reserve, wasmRuntime } from "./runtime.js";

/** Floats per chunk of each operand: four chunks (p, m, v, g) stay in L2 between copy-in, update and copy-out. */
const CHUNK = 1 << 14;
/** Below this many elements the copies and the calls cost more than the JS kernel takes. */
const SMALL = 256;
/** A strided gradient is staged whole (its span) when the span is at most this many floats; a larger one stays on JS. */
const MAX_SPAN = 1 << 24;

/**
 * True when the hyperparameters keep their meaning in float32: ε does not round to 0 (0/0 where
 * m = v = 0) and the step size and the decay stay finite. Others (ε < 1e-45, say) stay on JS.
 */
function float32Safe(a: AdamArgs): boolean {
  return Math.fround(a.eps) > 0 && [a.eps, a.lr / a.c1, a.l2, 1 / Math.sqrt(a.c2)].every((x) => Number.isFinite(Math.fround(x)));
}

/** True when the view's elements lie row-major one after another from g.off. */
function isRowMajor(g: MatrixView, rows: number, cols: number): boolean {
  return (g.cs === 1 || cols === 1) && (g.rs === cols || rows === 1);
}

/**
 * adamInto on WebAssembly SIMD (adam_update in kernels.c), chunk by chunk: the chunks of p, m, v
 * and of the gradient (gathered row-major inside the module from its staged span when it is a
 * strided view) are copied in, updated with f32x4 arithmetic, and p, m, v are copied back out.
 * float64 arrays, small parameters and hyperparameters float32 cannot hold stay on the JS kernel.
 */
export function wasmAdamInto(a: AdamArgs): void {
  const n = a.rows * a.cols, g = a.g;
  const f32 = a.p instanceof Float32Array && a.m instanceof Float32Array && a.v instanceof Float32Array && g.data instanceof Float32Array;
  const direct = isRowMajor(g, a.rows, a.cols), [lo, hi] = direct ? [0, 0] : spanOf(g, a.rows, a.cols);
  if (!f32 || n < SMALL || hi - lo > MAX_SPAN || !float32Safe(a)) return jsAdamInto(a);
  // Elements per chunk: a strided gradient is gathered a whole number of rows at a time (at least one).
  const step = direct ? Math.min(CHUNK, n) : Math.max(1, Math.floor(CHUNK / a.cols)) * a.cols, room = (step + 3) & ~3;
  const rt = wasmRuntime(), ex = rt.exports, spanAt = rt.base, pAt = spanAt + (((hi - lo + 3) & ~3) << 2);
  const [mAt, vAt, gAt] = [1, 2, 3].map((k) => pAt + k * room * 4) as [number, number, number];
  const heap = reserve(rt, gAt + room * 4 - rt.base);
  if (!direct) heap.set(g.data.subarray(lo, hi), spanAt >> 2);
  const { p, m, v, beta1, beta2 } = a;
  for (let k0 = 0; k0 < n; k0 += step) {
    const k1 = Math.min(n, k0 + step);
    heap.set(p.subarray(k0, k1), pAt >> 2);
    heap.set(m.subarray(k0, k1), mAt >> 2);
    heap.set(v.subarray(k0, k1), vAt >> 2);
    if (direct) heap.set(g.data.subarray(g.off + k0, g.off + k1), gAt >> 2);
    else ex.gather_rows(gAt, spanAt + ((g.off - lo + (k0 / a.cols) * g.rs) << 2), g.rs, g.cs, (k1 - k0) / a.cols, a.cols);
    ex.adam_update(pAt, mAt, vAt, gAt, (k1 - k0 + 3) & ~3, beta1, 1 - beta1, beta2, 1 - beta2, a.eps, a.l2, a.shrink, a.lr / a.c1, 1 / Math.sqrt(a.c2));
    p.set(heap.subarray(pAt >> 2, (pAt >> 2) + k1 - k0), k0);
    m.set(heap.subarray(mAt >> 2, (mAt >> 2) + k1 - k0), k0);
    v.set(heap.subarray(vAt >> 2, (vAt >> 2) + k1 - k0), k0);
  }
}

/**
 * firstNonFiniteIn with the scan on WebAssembly SIMD (any_non_finite): the view's span is copied
 * in chunk by chunk and tested for an exponent of all ones; only when one is found does the JS
 * kernel look for the first such element in row-major order (the span may hold elements outside
 * the view, so its answer may still be −1).
 */
export function wasmFirstNonFinite(g: MatrixView, rows: number, cols: number): number {
  const [lo, hi] = spanOf(g, rows, cols);
  if (!(g.data instanceof Float32Array) || rows * cols < SMALL || hi - lo > 2 * rows * cols) return jsFirstNonFinite(g, rows, cols);
  const rt = wasmRuntime(), chunk = Math.min(CHUNK, (hi - lo + 3) & ~3), at = rt.base, heap = reserve(rt, chunk * 4);
  for (let s = lo; s < hi; s += chunk) {
    const e = Math.min(hi, s + chunk), padded = (e - s + 3) & ~3;
    heap.set(g.data.subarray(s, e), at >> 2);
    heap.fill(0, (at >> 2) + e - s, (at >> 2) + padded);
    if (rt.exports.any_non_finite(at, padded)) return jsFirstNonFinite(g, rows, cols);
  }
  return -1;
}
