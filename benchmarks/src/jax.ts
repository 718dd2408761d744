/**
 * jax-js as a peer: a zero-dependency TypeScript framework that generates WebAssembly kernels and
 * fuses a whole step with `jit`. Arrays are reference-counted: every call consumes its array
 * arguments, so persistent inputs are passed as `x.ref` and results are disposed after reading.
 */
import { init, jit, numpy as np, nn, valueAndGrad, defaultDevice } from "@jax-js/jax";

export { np, nn, jit, valueAndGrad };
export type JaxArray = np.Array;

let ready: Promise<string> | null = null;

/** Starts jax-js's WebAssembly device (the default); returns its name. */
export function initJax(): Promise<string> {
  ready ??= (async () => {
    const devices = await init("wasm");
    if (!devices.includes("wasm")) throw new Error("jax-js: the wasm device failed to start");
    defaultDevice("wasm");
    return "wasm";
  })();
  return ready;
}

/** A float32 jax-js array holding `values` with `shape`. */
export function jaxArray(values: Float32Array, shape: number[]): JaxArray {
  return np.array(values.slice()).reshape(shape);
}

/** Reads arrays back to JavaScript (a copy each) and releases them. */
export function readJax(arrays: JaxArray[]): Float32Array[] {
  return arrays.map((a) => {
    const out = Float32Array.from(a.dataSync() as ArrayLike<number>);
    return out;
  });
}
