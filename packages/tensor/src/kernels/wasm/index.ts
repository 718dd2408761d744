import type { Kernels } from "../index.js";
import { wasmMatmulInto } from "./matmul.js";

/**
 * The WebAssembly SIMD kernel set: the entries it replaces; every other entry stays the plain-JS
 * kernel. Each entry takes float32 arrays to WebAssembly and hands anything else (float64, used by
 * gradcheck) to the JS kernel, so the set is correct for every input.
 */
export const wasmKernels: Partial<Kernels> & { name: string } = {
  name: "wasm",
  matmul: wasmMatmulInto,
};

export { wasmSimdSupported, wasmRuntime } from "./runtime.js";
