import type { Kernels } from "../index.js";
import { wasmBinaryKernels } from "./elementwise.js";
import { wasmBiasActivationGradInto, wasmBiasActivationInto, wasmCol2imInto, wasmIm2colInto, wasmMaxPoolAdjointInto, wasmMaxPoolInto } from "./conv.js";
import { wasmBceLogitsInto } from "./losses.js";
import { wasmMatmulInto } from "./matmul.js";
import { wasmSoftmaxInto, wasmUnaryKernels } from "./unary.js";
import { wasmAdamInto, wasmFirstNonFinite } from "./optim.js";
import { currentRuntime } from "./runtime.js";

/**
 * The WebAssembly SIMD kernel set: the entries it replaces; every other entry stays the plain-JS
 * kernel. Each entry takes float32 arrays to WebAssembly and hands anything else (float64, used by
 * gradcheck) to the JS kernel, so the set is correct for every input.
 */
export const wasmKernels: Partial<Kernels> & { name: string } = {
  name: "wasm",
  unary: wasmUnaryKernels,
  binary: wasmBinaryKernels,
  softmax: wasmSoftmaxInto,
  matmul: wasmMatmulInto,
  bceLogits: wasmBceLogitsInto,
  im2col: wasmIm2colInto,
  col2im: wasmCol2imInto,
  maxPool: wasmMaxPoolInto,
  maxPoolAdjoint: wasmMaxPoolAdjointInto,
  biasActivation: wasmBiasActivationInto,
  biasActivationGrad: wasmBiasActivationGradInto,
  adam: wasmAdamInto,
  firstNonFinite: wasmFirstNonFinite,
};

export { wasmSimdSupported, wasmRuntime } from "./runtime.js";

/**
 * The WebAssembly kernels' state in this process, once they have run: the start-up cost (decoding
 * the bytes, synchronous compile and instantiation, in ms), the size of their memory, and whether a
 * thread pool shares the matmuls. undefined before first use.
 */
export function wasmKernelInfo(): { startupMs: number; memoryBytes: number; threaded: boolean } | undefined {
  const rt = currentRuntime();
  return rt && { startupMs: rt.startupMs, memoryBytes: rt.memory.buffer.byteLength, threaded: rt.parallelGemm !== undefined };
}
