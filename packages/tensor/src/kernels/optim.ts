/**
 * Optimizer kernels: one pass over a parameter that updates it and its state in place. The
 * gradient is read where it lies, as a strided rows×cols view (Dense's weight gradient is a
 * transposed view: no row-major copy is made of it).
 */
import type { Storage } from "../ndarray.js";
import type { MatrixView } from "./matmul.js";

/**
 * One Adam/AdamW update (the formulas are in @zerograd/nn's optimizers): p, m, v are rows·cols
 * elements, row-major, updated in place; the gradient's element (r, c) is at off + r·rs + c·cs.
 * l2 is λ added to the gradient as λ·p (Adam; 0 for AdamW), shrink the factor p is multiplied by
 * first (AdamW's 1 − lr·λ; 1 for Adam), c1 and c2 the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ.
 */
export interface AdamArgs {
  p: Storage; m: Storage; v: Storage; g: MatrixView; rows: number; cols: number;
  lr: number; beta1: number; beta2: number; eps: number; l2: number; shrink: number; c1: number; c2: number;
}

/** g ← g + λ·p,  m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²,  p ← p·shrink − lr·(m / c1) / (√(v / c2) + ε) */
export function adamInto(a: AdamArgs): void {
  const { p, m, v, g, lr, beta1, beta2, eps, l2, shrink, c1, c2 } = a;
  // k walks the parameter row-major; s walks the gradient's storage along row r.
  for (let r = 0, k = 0; r < a.rows; r++) for (let c = 0, s = g.off + r * g.rs; c < a.cols; c++, k++, s += g.cs) {
    const gk = g.data[s]! + l2 * p[k]!;
    m[k] = beta1 * m[k]! + (1 - beta1) * gk;
    v[k] = beta2 * v[k]! + (1 - beta2) * gk * gk;
    p[k] = p[k]! * shrink - (lr * (m[k]! / c1)) / (Math.sqrt(v[k]! / c2) + eps);
  }
}

/** The row-major index of the first NaN or ±Infinity of a rows×cols view, or −1. */
export function firstNonFiniteIn(g: MatrixView, rows: number, cols: number): number {
  for (let r = 0, k = 0; r < rows; r++) for (let c = 0, s = g.off + r * g.rs; c < cols; c++, k++, s += g.cs) if (!Number.isFinite(g.data[s])) return k;
  return -1;
}
