/**
 * Runs every case on every library with tinybench, one task at a time, and checks on the way
 * that each library's outputs agree with zerograd's.
 */
import { Bench } from "tinybench";
import { type BenchCase, LIBRARIES, type Library, type Runner } from "./cases.js";
import { useKernels } from "@zerograd/tensor";
import { disableThreads, enableThreads } from "@zerograd/tensor/node";
import { initJax } from "./jax.js";
import { useBackend } from "./tfjs.js";

export interface Timing {
  /** Per-task time budget and minimum sample count (tinybench's `time` and `iterations`). */
  time: number;
  iterations: number;
  warmupTime: number;
  warmupIterations: number;
}

export const FULL_TIMING: Timing = { time: 700, iterations: 5, warmupTime: 150, warmupIterations: 2 };
export const QUICK_TIMING: Timing = { time: 20, iterations: 3, warmupTime: 5, warmupIterations: 1 };

export interface Row {
  suite: string;
  op: string;
  size: string;
  library: Library;
  /** Mean time per call, milliseconds. */
  mean: number;
  /** Relative margin of error of the mean, percent (95%). */
  rme: number;
  /** Median, fastest and slowest call, milliseconds. */
  median: number;
  min: number;
  max: number;
  samples: number;
  /** Calls per second (1000 / mean). */
  opsPerSec: number;
  /** Floating-point throughput, where the case counts its flops. */
  gflops?: number;
  /** Largest |this − zerograd| over all outputs, divided by max(1, largest |zerograd|). */
  maxRelDiff: number;
}

/**
 * The largest elementwise difference between two lists of outputs, relative to the reference's
 * scale: max |a − b| / max(1, max |b|). Infinity when the lists differ in count or length, or
 * when a NaN or an infinity on one side is not matched on the other.
 */
export function maxRelativeDifference(actual: readonly ArrayLike<number>[], reference: readonly ArrayLike<number>[]): number {
  if (actual.length !== reference.length) return Infinity;
  let worst = 0;
  for (let k = 0; k < reference.length; k++) {
    const a = actual[k]!, b = reference[k]!;
    if (a.length !== b.length) return Infinity;
    let scale = 1, diff = 0;
    for (let i = 0; i < b.length; i++) {
      const bi = b[i]!, ai = a[i]!;
      if (Number.isFinite(bi)) scale = Math.max(scale, Math.abs(bi));
      if (ai === bi || (Number.isNaN(ai) && Number.isNaN(bi))) continue; // equal infinities and NaNs agree
      if (!Number.isFinite(ai) || !Number.isFinite(bi)) return Infinity;
      diff = Math.max(diff, Math.abs(ai - bi));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

/** Whether `library` has a version of the case. */
export function runs(c: BenchCase, library: Library): boolean {
  return !c.skip?.includes(library) && (library !== "jax-js" || c.jax !== undefined);
}

/**
 * Builds the runner of `library` for a case: zerograd with its default kernels or with the JS
 * kernels forced (restored by dispose), tfjs after switching its backend, or jax-js.
 */
export async function prepare(c: BenchCase, library: Library): Promise<Runner> {
  if (library === "zerograd" || library === "zerograd-js") {
    const previous = useKernels(library === "zerograd-js" ? "js" : "auto");
    if (c.threads) await enableThreads(c.threads - 1);
    const runner = c.zerograd();
    return {
      run: runner.run,
      dispose() {
        runner.dispose();
        useKernels(previous);
        if (c.threads) void disableThreads();
      },
    };
  }
  if (library === "jax-js") {
    await initJax();
    return c.jax!();
  }
  await useBackend(library === "tfjs-cpu" ? "cpu" : "wasm");
  return c.tfjs();
}

async function time(name: string, fn: () => unknown, timing: Timing): Promise<{ mean: number; rme: number; samples: number; median: number; min: number; max: number }> {
  const bench = new Bench({ ...timing, throws: true });
  bench.add(name, fn);
  const [task] = await bench.run();
  const result = task!.result;
  if (result.state !== "completed") throw new Error(`benchmark ${name}: ${result.state === "errored" ? result.error.message : result.state}`);
  const l = result.latency;
  return { mean: l.mean, rme: l.rme, samples: l.samplesCount, median: l.p50 ?? l.mean, min: l.min, max: l.max };
}

/**
 * Times every case on every library in turn (sequentially, never two at once) and returns one
 * row per pair. `onRow` sees each row as soon as it is measured.
 */
export async function measure(cases: readonly BenchCase[], timing: Timing, onRow: (row: Row) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of cases) {
    let reference: ArrayLike<number>[] | null = null;
    for (const library of LIBRARIES.filter((l) => runs(c, l))) {
      const runner = await prepare(c, library);
      try {
        const outputs = runner.run();
        reference ??= outputs;
        let sink: unknown;
        const t = await time(`${c.op} ${c.size} ${library}`, () => (sink = runner.run()), timing);
        void sink;
        const row: Row = {
          suite: c.suite,
          op: c.op,
          size: c.size,
          library,
          ...t,
          opsPerSec: 1000 / t.mean,
          gflops: c.flops === undefined ? undefined : c.flops / (t.mean * 1e6),
          maxRelDiff: maxRelativeDifference(outputs, reference),
        };
        rows.push(row);
        onRow(row);
      } finally {
        runner.dispose();
      }
    }
  }
  return rows;
}
