/// <reference types="node" />
/**
 * @zerograd/tensor/node — worker threads for the WebAssembly kernels, in Node only (the main entry
 * imports no `node:` module). `await enableThreads()` moves the kernels onto a shared memory and
 * starts worker threads; from then on large matmuls (≥ 256³ multiply-adds) split their rows across
 * the workers and the calling thread, which waits with Atomics.wait, so the API stays synchronous.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { KERNELS_SHARED_WASM } from "./module.generated.js";
import { type StagedView, type WasmRuntime, createRuntime, installRuntime } from "./runtime.js";

/**
 * Each worker's control block (Int32): 0 state (0 idle, 1 run, 2 exit), 1–9 gemm_packed's
 * arguments, 10 done (1 ok, −1 failed), 11–13 where A is staged and its strides.
 */
const CONTROL_INTS = 14;
const STACK_BYTES = 65536;

// The worker: its own instance of the kernels over the shared memory, with its own stack, running
// one row range (packing those rows of A, then gemm_packed) each time the main thread sets its state to 1.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { module, memory, control, stackTop } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
ex.__stack_pointer.value = stackTop;
const ctl = new Int32Array(control);
parentPort.postMessage("ready");
for (;;) {
  Atomics.wait(ctl, 0, 0);
  if (Atomics.load(ctl, 0) === 2) break;
  let done = 1;
  try {
    ex.pack_a_rows(ctl[2], ctl[11], ctl[12], ctl[13], ctl[5], ctl[6], ctl[8], ctl[9]);
    ex.gemm_packed(ctl[1], ctl[2], ctl[3], ctl[4], ctl[5], ctl[6], ctl[7], ctl[8], ctl[9]);
  } catch { done = -1; }
  Atomics.store(ctl, 0, 0);
  Atomics.store(ctl, 10, done);
  Atomics.notify(ctl, 10);
}
`;

interface Pool { workers: Worker[]; controls: Int32Array[] }
let pool: Pool | undefined;

/** Number of worker threads in use (0: the kernels run on the calling thread only). */
export function threadCount(): number {
  return pool?.workers.length ?? 0;
}

/**
 * Starts `workers` worker threads (default: one per core beyond the first, at least one) for the
 * WebAssembly matmul. Replaces any previous pool. Throws where SharedArrayBuffer or WebAssembly
 * SIMD is missing.
 */
export async function enableThreads(workers = Math.max(1, availableParallelism() - 1)): Promise<void> {
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`enableThreads: workers must be an integer in 1…64, got ${workers}`);
  if (typeof SharedArrayBuffer === "undefined") throw new Error("enableThreads: SharedArrayBuffer is not available");
  await disableThreads();
  const rt = createRuntime(KERNELS_SHARED_WASM, true, workers * STACK_BYTES);
  const heapBase = rt.exports.__heap_base.value;
  const controls = Array.from({ length: workers }, () => new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4)));
  const started = controls.map((ctl, i) => {
    const workerData = { module: rt.module, memory: rt.memory, control: ctl.buffer, stackTop: heapBase + (i + 1) * STACK_BYTES };
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    worker.unref(); // an idle pool never keeps the process alive
    return new Promise<Worker>((resolve, reject) => {
      worker.once("message", () => resolve(worker));
      worker.once("error", reject);
    });
  });
  const threads = await Promise.all(started);
  pool = { workers: threads, controls };
  rt.parallelGemm = (c, pa, a, b, ldb, M, K, N) => parallelGemm(rt, controls, c, pa, a, b, ldb, M, K, N);
  installRuntime(rt);
}

/** Stops the worker threads; the kernels go back to one thread over an ordinary memory. */
export async function disableThreads(): Promise<void> {
  if (!pool) return;
  const { workers, controls } = pool;
  pool = undefined;
  installRuntime(undefined);
  for (const ctl of controls) {
    Atomics.store(ctl, 0, 2);
    Atomics.notify(ctl, 0);
  }
  await Promise.all(workers.map((w) => w.terminate()));
}

/**
 * Splits rows 0…M into one range per thread (multiples of 4, the micro-tile's height); the caller
 * takes the last. Each thread packs its rows of A, then multiplies them by the packed B.
 */
function parallelGemm(rt: WasmRuntime, controls: Int32Array[], c: number, pa: number, a: StagedView, b: number, ldb: number, M: number, K: number, N: number): void {
  const parts = controls.length + 1;
  const step = Math.ceil(M / parts / 4) * 4;
  let begun = 0;
  for (const ctl of controls) {
    const i0 = Math.min(M, begun * step), i1 = Math.min(M, i0 + step);
    begun++;
    ctl.set([c, pa, b, ldb, M, K, N, i0, i1], 1);
    ctl.set([a.ptr, a.rs, a.cs], 11);
    Atomics.store(ctl, 10, 0);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  }
  const mine = Math.min(M, begun * step);
  rt.exports.pack_a_rows(pa, a.ptr, a.rs, a.cs, M, K, mine, M);
  rt.exports.gemm_packed(c, pa, b, ldb, M, K, N, mine, M);
  let failed = false;
  for (const ctl of controls) {
    while (Atomics.load(ctl, 10) === 0) Atomics.wait(ctl, 10, 0);
    failed ||= Atomics.load(ctl, 10) < 0;
  }
  if (failed) throw new Error("matmul: a worker thread failed while computing its rows");
}
