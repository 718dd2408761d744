/**
 * TensorFlow.js as a peer: the CPU backend (plain JavaScript) and the WebAssembly backend
 * (XNNPACK, SIMD when available), both in this process. The .wasm binaries ship inside the npm
 * package and are read from node_modules; nothing is fetched.
 *
 * tfjs-core's Node build carries no gradient functions: the `@tensorflow/tfjs` bundle registers
 * them (tf.variableGrads needs them), and registers a WebGL backend too, removed below because
 * Node has no WebGL.
 */
import { createRequire } from "node:module";
import path from "node:path";
import "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";
import { version_cpu } from "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths, version_wasm } from "@tensorflow/tfjs-backend-wasm";

export { tf };
export type TfBackend = "cpu" | "wasm";

export interface TfjsInfo {
  core: string;
  cpu: string;
  wasm: string;
  /** Whether the WebAssembly backend runs its SIMD binary. */
  wasmSimd: boolean;
  /** Whether it runs threads (tfjs turns them off under Node, so both peers are single-threaded). */
  wasmThreads: boolean;
}

/** The folder holding tfjs-backend-wasm's .wasm binaries, with a trailing separator. */
export function wasmFolder(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm")) + path.sep;
}

let initialised: Promise<TfjsInfo> | null = null;

/** Registers the wasm binaries' location and initialises both backends once. */
export function initTfjs(): Promise<TfjsInfo> {
  initialised ??= (async () => {
    tf.enableProdMode(); // silences tfjs's console hints; it changes no computation
    if (tf.findBackendFactory("webgl")) tf.removeBackend("webgl");
    setWasmPaths(wasmFolder());
    for (const backend of ["wasm", "cpu"] as const) await useBackend(backend);
    return {
      core: tf.version_core,
      cpu: version_cpu,
      wasm: version_wasm,
      wasmSimd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
      wasmThreads: Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")),
    };
  })();
  return initialised;
}

/** Makes `backend` the active tfjs backend (tensors made before the switch stay on the old one). */
export async function useBackend(backend: TfBackend): Promise<void> {
  if (tf.getBackend() === backend) return;
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend '${backend}' failed to initialise`);
  await tf.ready();
}

/**
 * Runs `fn` inside tf.tidy and reads every result back into JavaScript with dataSync, so the
 * time includes the whole computation and the copy out, and no intermediate tensor leaks.
 * (tidy must not return the typed arrays itself: it would walk every element looking for tensors.)
 */
export function readTf(fn: () => tf.Tensor | tf.Tensor[]): Float32Array[] {
  let out: Float32Array[] = [];
  tf.tidy(() => {
    const result = fn();
    out = (Array.isArray(result) ? result : [result]).map((t) => t.dataSync() as Float32Array);
  });
  return out;
}
