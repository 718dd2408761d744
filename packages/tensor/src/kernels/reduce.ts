import type { Storage } from "../ndarray.js";

/**
 * Axis reductions over a contiguous array viewed as [outer, k, inner] into out [outer, inner].
 * When inner = 1 the reduced axis is the last one and the loop runs down a row; otherwise the
 * innermost loop runs along `inner` with stride 1, accumulating whole rows at a time.
 * Sums accumulate in float64 whatever the storage.
 */
export type ReduceKernel = (out: Storage, x: Storage, outer: number, k: number, inner: number) => void;

export const reduceKernels = {
  sum(out, x, outer, k, inner) {
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        let s = 0;
        for (let j = 0, at = o * k; j < k; j++) s += x[at + j]!;
        out[o] = s;
      }
      return;
    }
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let j = 0; j < k; j++) {
        const row = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) acc[i]! += x[row + i]!;
      }
      out.set(acc, o * inner);
    }
  },
  prod(out, x, outer, k, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) out[o * inner + i] = 1;
      for (let j = 0; j < k; j++) {
        const row = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[o * inner + i]! *= x[row + i]!;
      }
    }
  },
  // max/min propagate NaN, as NumPy does.
  max(out, x, outer, k, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) out[o * inner + i] = -Infinity;
      for (let j = 0; j < k; j++) {
        const row = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[o * inner + i] = Math.max(out[o * inner + i]!, x[row + i]!);
      }
    }
  },
  min(out, x, outer, k, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) out[o * inner + i] = Infinity;
      for (let j = 0; j < k; j++) {
        const row = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out[o * inner + i] = Math.min(out[o * inner + i]!, x[row + i]!);
      }
    }
  },
  /** Index of the first maximum along k (a NaN counts as the maximum, as in NumPy). */
  argmax(out, x, outer, k, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = 0, bestVal = x[o * k * inner + i]!;
        for (let j = 1; j < k && bestVal === bestVal; j++) {
          const v = x[(o * k + j) * inner + i]!;
          if (v > bestVal || v !== v) { best = j; bestVal = v; }
        }
        out[o * inner + i] = best;
      }
    }
  },
  argmin(out, x, outer, k, inner) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = 0, bestVal = x[o * k * inner + i]!;
        for (let j = 1; j < k && bestVal === bestVal; j++) {
          const v = x[(o * k + j) * inner + i]!;
          if (v < bestVal || v !== v) { best = j; bestVal = v; }
        }
        out[o * inner + i] = best;
      }
    }
  },
} satisfies Record<string, ReduceKernel>;

export type ReduceOp = keyof typeof reduceKernels;

/**
 * Softmax along the k axis of [outer, k, inner], stable: subtract the maximum before exp.
 * With `log` it writes log-softmax: x − max − log Σ exp(x − max).
 */
export function softmaxInto(out: Storage, x: Storage, outer: number, k: number, inner: number, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * k * inner + i;
      let m = -Infinity;
      for (let j = 0; j < k; j++) m = Math.max(m, x[base + j * inner]!);
      if (m === -Infinity || m === Infinity) m = 0; // all −∞ gives NaN as in the reference; +∞ likewise
      if (log) {
        let s = 0;
        for (let j = 0; j < k; j++) s += Math.exp(x[base + j * inner]! - m);
        const lse = m + Math.log(s);
        for (let j = 0; j < k; j++) out[base + j * inner] = x[base + j * inner]! - lse;
      } else {
        // One exp per element: store e^(x − m) while summing, then scale by 1/Σ.
        let s = 0;
        for (let j = 0; j < k; j++) {
          const e = Math.exp(x[base + j * inner]! - m);
          out[base + j * inner] = e;
          s += e;
        }
        const scale = 1 / s;
        for (let j = 0; j < k; j++) out[base + j * inner]! *= scale;
      }
    }
  }
}
