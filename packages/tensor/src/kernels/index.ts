import { binaryKernels, unaryKernels, whereRow } from "./elementwise.js";
import { matmulInto } from "./matmul.js";
import { col2imInto, im2colInto, maxPoolInto, maxPoolAdjointInto, avgPoolInto, avgPoolAdjointInto } from "./conv.js";
import { reduceKernels, softmaxInto } from "./reduce.js";
import { bceLogitsInto } from "./losses.js";
import { biasActivationGradInto, biasActivationInto } from "./bias.js";
import { adamInto, firstNonFiniteIn } from "./optim.js";
import { wasmKernels, wasmSimdSupported } from "./wasm/index.js";
import type { Storage } from "../ndarray.js";

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
  /** The fused masked BCE from logits (forward value and gradient in one pass). */
  bceLogits: typeof bceLogitsInto;
  /** Bias + activation of Dense and Conv2D, and its gradient (with the bias's). */
  biasActivation: typeof biasActivationInto;
  biasActivationGrad: typeof biasActivationGradInto;
  /** One Adam/AdamW update of a parameter and its moments, in place, from a strided gradient. */
  adam: typeof adamInto;
  /** The row-major index of the first NaN or ±Infinity of a strided view, or −1. */
  firstNonFinite: typeof firstNonFiniteIn;
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
  bceLogits: bceLogitsInto,
  biasActivation: biasActivationInto,
  biasActivationGrad: biasActivationGradInto,
  adam: adamInto,
  firstNonFinite: firstNonFiniteIn,
};

/** The kernel sets by name: "auto" is WebAssembly SIMD where the runtime has it, plain JS otherwise. */
export type KernelSetName = "js" | "wasm" | "auto";

function namedSet(name: KernelSetName): Kernels {
  if (name === "js") return jsKernels;
  if (name === "auto") return wasmSimdSupported() ? { ...jsKernels, ...wasmKernels } : jsKernels;
  if (name === "wasm") {
    if (!wasmSimdSupported()) throw new RangeError("useKernels: 'wasm' needs WebAssembly with SIMD128, which this runtime lacks (use 'js' or 'auto')");
    return { ...jsKernels, ...wasmKernels };
  }
  throw new RangeError(`useKernels: unknown kernel set '${String(name)}' (expected 'js', 'wasm' or 'auto')`);
}

/**
 * ZEROGRAD_KERNELS=js|wasm|auto forces a set, read only where a `process` global exists (Node,
 * Bun, Deno); a runtime that denies reading the environment (Deno without --allow-env) counts as unset.
 */
function fromEnvironment(): KernelSetName {
  let value: string | undefined;
  try {
    value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.ZEROGRAD_KERNELS;
  } catch {
    value = undefined;
  }
  if (value === undefined || value === "") return "auto";
  if (value === "js" || value === "wasm" || value === "auto") return value;
  throw new RangeError(`ZEROGRAD_KERNELS='${value}' is not a kernel set (expected 'js', 'wasm' or 'auto')`);
}

let active: Kernels = namedSet(fromEnvironment());

/** The kernel set in use. */
export function kernels(): Kernels {
  return active;
}

/** The index of the first NaN or ±Infinity of a flat array, or −1 (the active kernel set scans it). */
export const firstNonFiniteOf = (values: Storage): number => active.firstNonFinite({ data: values, off: 0, rs: 0, cs: 1 }, 1, values.length);

/**
 * Chooses the kernels: a set by name ("js", "wasm", "auto"), or some entries (those not given keep
 * the plain-JS version). Returns the previous set, so `useKernels(previous)` restores it.
 */
export function useKernels(set: KernelSetName | (Partial<Kernels> & { name: string })): Kernels {
  const previous = active;
  active = typeof set === "string" ? namedSet(set) : { ...jsKernels, ...set };
  return previous;
}
