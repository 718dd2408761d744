import { binaryKernels, unaryKernels, whereRow } from "./elementwise.js";
import { matmulInto } from "./matmul.js";
import { col2imInto, im2colInto, maxPoolInto, maxPoolAdjointInto, avgPoolInto, avgPoolAdjointInto } from "./conv.js";
import { reduceKernels, softmaxInto } from "./reduce.js";

/**
 * The kernel interface: every hot loop the ops call goes through this object. A faster set
 * (e.g. WebAssembly SIMD) replaces entries one-for-one with `useKernels`; the plain-JS set below
 * is always the fallback and the reference the faster sets are tested against.
 */
export interface Kernels {
  name: string;
  unary: typeof unaryKernels;
  binary: typeof binaryKernels;
  where: typeof whereRow;
  reduce: typeof reduceKernels;
  softmax: typeof softmaxInto;
  matmul: typeof matmulInto;
  im2col: typeof im2colInto;
  col2im: typeof col2imInto;
  maxPool: typeof maxPoolInto;
  maxPoolAdjoint: typeof maxPoolAdjointInto;
  avgPool: typeof avgPoolInto;
  avgPoolAdjoint: typeof avgPoolAdjointInto;
}

export const jsKernels: Kernels = {
  name: "js",
  unary: unaryKernels,
  binary: binaryKernels,
  where: whereRow,
  reduce: reduceKernels,
  softmax: softmaxInto,
  matmul: matmulInto,
  im2col: im2colInto,
  col2im: col2imInto,
  maxPool: maxPoolInto,
  maxPoolAdjoint: maxPoolAdjointInto,
  avgPool: avgPoolInto,
  avgPoolAdjoint: avgPoolAdjointInto,
};

let active: Kernels = jsKernels;

/** The kernel set in use. */
export function kernels(): Kernels {
  return active;
}

/** Replaces some or all kernels (entries not given keep the plain-JS version). Returns the previous set. */
export function useKernels(set: Partial<Kernels> & { name: string }): Kernels {
  const previous = active;
  active = { ...jsKernels, ...set };
  return previous;
}
