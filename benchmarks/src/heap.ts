/**
 * Heap over many training steps with the default kernels: the MLP step of the benchmark (batch 16)
 * STEPS times (default 5000), printing the heap in use after a forced GC every tenth of the run.
 *
 *   node --expose-gc --import tsx --conditions=@zerograd/source benchmarks/src/heap.ts [STEPS]
 */
import { kernels } from "@zerograd/tensor";
import { mlpStepCase } from "./steps.js";

const steps = Number(process.argv[2] ?? 5000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("heap: run node with --expose-gc");
const runner = mlpStepCase(16, [784, 256, 128, 10], 1).zerograd();
const samples: number[] = [];
for (let i = 1; i <= steps; i++) {
  runner.run();
  if (i % Math.max(1, Math.floor(steps / 10)) === 0) {
    gc();
    samples.push(process.memoryUsage().heapUsed / 2 ** 20);
    process.stderr.write(`step ${i}: heap ${samples.at(-1)!.toFixed(1)} MiB\n`);
  }
}
const first = samples[0]!, last = samples.at(-1)!;
console.log(`kernels ${kernels().name}, ${steps} steps: heap ${first.toFixed(1)} → ${last.toFixed(1)} MiB (max ${Math.max(...samples).toFixed(1)})`);
