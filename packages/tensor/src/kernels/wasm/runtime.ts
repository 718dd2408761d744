import { KERNELS_WASM } from "./module.generated.js";

/**
 * The WebAssembly side of the kernels: feature detection, the module (compiled synchronously on
 * first use) and its memory. Only what this file uses of the WebAssembly API is declared here, so
 * the package needs neither DOM nor Node typings and runs where WebAssembly is absent (QuickJS).
 */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmGlobal { readonly value: number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** The kernel module's exports (pointers and sizes are in bytes and floats of its memory). */
export interface KernelExports {
  __heap_base: WasmGlobal;
  /** Exported by the shared-memory variant only: each thread's instance gets its own stack. */
  __stack_pointer?: { value: number };
  pack_a_rows(dst: number, a: number, rs: number, cs: number, M: number, K: number, i0: number, i1: number): void;
  pack_b(dst: number, b: number, rs: number, cs: number, K: number, N: number): void;
  gemm_packed(c: number, pa: number, b: number, ldb: number, M: number, K: number, N: number, iBegin: number, iEnd: number): void;
  packed_a_floats(M: number, K: number): number;
  packed_b_floats(K: number, N: number): number;
  binary_rows(op: number, out: number, a: number, b: number, n: number): void;
  unary_rows(op: number, out: number, x: number, n: number): void;
  softmax_rows(out: number, x: number, rows: number, k: number, log: number): void;
  bce_logits(x: number, z: number, mask: number, c: number, cScalar: number, pw: number, pwScalar: number, zScale: number, zShift: number, grad: number, values: number, n: number): number;
  im2col(cols: number, image: number, window: number): void;
  col2im(image: number, cols: number, window: number): void;
  max_pool(out: number, argmax: number, image: number, window: number, indexBase: number): void;
  max_pool_adjoint(dImage: number, imageSize: number, dOut: number, argmax: number, n: number): void;
  bias_activation(out: number, y: number, bias: number, rows: number, C: number, relu: number): void;
  bias_activation_grad(gy: number, sums: number, g: number, out: number, rows: number, C: number, relu: number): void;
  adam_update(p: number, m: number, v: number, g: number, n: number, b1: number, ob1: number, b2: number, ob2: number, eps: number, l2: number, shrink: number, step: number, isc2: number): void;
  gather_rows(dst: number, x: number, rs: number, cs: number, rows: number, cols: number): void;
  any_non_finite(x: number, n: number): number;
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

// (module (func (result v128) i32.const 0 i8x16.splat)): validates only where SIMD128 is supported.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11]);

/** True where WebAssembly with SIMD128 is available (Node, Bun, Deno, browsers; not QuickJS). */
export function wasmSimdSupported(): boolean {
  try {
    return wasmApi !== undefined && wasmApi.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

const PAGE = 65536;
/**
 * Memory reserved up front: 64 MiB (pages are only touched when used). Growing detaches the old
 * ArrayBuffer, and after the first detach V8 adds a check to every typed-array access in the
 * process (10–20 % on the JS kernels), so the memory grows only for a product too large for it.
 */
const INITIAL_PAGES = 1024;
/** A shared memory needs a maximum: 1 GiB (address space only). */
const MAX_PAGES = 16384;

/** The instantiated module, its memory and a float view of it (refreshed after a growth). */
/** An operand copied into the module's memory: where its element (0, 0) is, and its strides there. */
export interface StagedView { ptr: number; rs: number; cs: number }

export interface WasmRuntime {
  module: object;
  exports: KernelExports;
  memory: WasmMemory;
  heap: Float32Array;
  /** First free byte after the module's stack and data. */
  base: number;
  /** Milliseconds spent decoding, compiling and instantiating (the start-up cost). */
  startupMs: number;
  /**
   * Set by a thread pool (`@zerograd/tensor/node`): computes rows 0…M of a packed product with
   * every thread, synchronously. Absent: one thread.
   */
  parallelGemm?: (c: number, pa: number, a: StagedView, b: number, ldb: number, M: number, K: number, N: number) => void;
}

let runtime: WasmRuntime | undefined;

/** The runtime, created on first use: `new WebAssembly.Module` is synchronous (the module is a few KB). */
export function wasmRuntime(): WasmRuntime {
  runtime ??= createRuntime(KERNELS_WASM, false, 0);
  return runtime;
}

/**
 * Compiles and instantiates a kernel module (its text as in module.generated.ts) over a fresh
 * memory: ordinary, or shared for the shared-memory variant (threads.ts, the Node entry, holds
 * it; `stackBytes` are reserved after the heap base for the other threads' stacks).
 */
export function createRuntime(moduleText: string, shared: boolean, stackBytes: number): WasmRuntime {
  if (!wasmSimdSupported()) throw new Error("WebAssembly kernels: this runtime has no WebAssembly SIMD128");
  const api = wasmApi!;
  const t0 = now();
  const module = new api.Module(bytesOf(moduleText));
  const memory = new api.Memory(shared ? { initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true } : { initial: INITIAL_PAGES });
  const instance = new api.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  const base = align(exports.__heap_base.value + stackBytes);
  return { module, exports, memory, heap: new Float32Array(memory.buffer), base, startupMs: now() - t0 };
}

/** The runtime if it has been created, without creating it. */
export function currentRuntime(): WasmRuntime | undefined {
  return runtime;
}

/** Makes `rt` the runtime of the WebAssembly kernels (a thread pool installs a shared-memory one); undefined resets. */
export function installRuntime(rt: WasmRuntime | undefined): void {
  runtime = rt;
}

/**
 * Makes sure `bytes` bytes from the heap base are addressable, growing the memory if needed (and
 * refreshing the float view). Returns the float view.
 */
export function reserve(rt: WasmRuntime, bytes: number): Float32Array {
  const needed = rt.base + bytes;
  if (needed > rt.memory.buffer.byteLength) {
    rt.memory.grow(Math.ceil((needed - rt.memory.buffer.byteLength) / PAGE)); // throws a RangeError past the maximum
    rt.heap = new Float32Array(rt.memory.buffer);
  }
  return rt.heap;
}

/** Rounds a byte offset up to 16 (one v128). */
export function align(bytes: number): number {
  return (bytes + 15) & ~15;
}

function now(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? perf.now() : Date.now();
}

/**
 * The module's bytes from their text form in module.generated.ts: one character (code 0–255) per
 * byte. A character above 255 means a tool re-encoded that file; it is refused here rather than
 * left for the compiler to misread.
 */
export function bytesOf(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 255) throw new Error(`WebAssembly kernels: the module's text holds U+${code.toString(16).toUpperCase().padStart(4, "0")} at ${i}, not a byte (0–255): module.generated.ts was re-encoded`);
    bytes[i] = code;
  }
  return bytes;
}
