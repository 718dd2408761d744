/**
 * The shipped WebAssembly kernels against the same kernels.c compiled with other optimisation
 * flags, in one process: each zerograd workload runs once with each module installed, in turn,
 * and the table gives the candidate's median time ÷ the shipped one's, with both modules' sizes.
 * It needs clang (as build.mjs does).
 *
 *   tsx --conditions=@zerograd/source benchmarks/src/kernel-flags.ts -O3 -fno-unroll-loops
 *   … --filter cnn -O2        (only the cases whose suite or op contains "cnn")
 */
import { gzipSync } from "node:zlib";
import { Bench } from "tinybench";
import { useKernels } from "@zerograd/tensor";
import { createRuntime, installRuntime } from "../../packages/tensor/src/kernels/wasm/runtime.js";
import { KERNELS_WASM } from "../../packages/tensor/src/kernels/wasm/module.generated.js";
// @ts-expect-error: a plain JavaScript build script without type declarations
import { compile } from "../../packages/tensor/src/kernels/wasm/build.mjs";
import { FULL_SIZES, buildCases, filterCases } from "./cases.js";

const args = process.argv.slice(2);
const at = args.indexOf("--filter");
const filter = at >= 0 ? args.splice(at, 2)[1] : undefined;
if (args.length === 0) throw new RangeError("kernel-flags: give the candidate's optimisation flags, e.g. -O3 -fno-unroll-loops");

// Both modules as text, as module.generated.ts holds them (one character per byte).
const shipped = KERNELS_WASM, candidate = (compile([], args) as Buffer).toString("latin1");
const size = (text: string) => `${text.length} B (${gzipSync(Buffer.from(text, "latin1"), { level: 9 }).length} B gzipped)`;
console.log(`shipped module ${size(shipped)}; candidate ${args.join(" ")}: ${size(candidate)}`);

const runtimes = { shipped: createRuntime(shipped, false, 0), candidate: createRuntime(candidate, false, 0) };
// The one-thread cases (the reduction runs JS kernels only).
const cases = filterCases(buildCases(FULL_SIZES), filter).filter((c) => !c.threads && c.suite !== "reduction");
useKernels("wasm");
console.log("| workload | shipped ms (two rounds) | candidate ms | candidate ÷ shipped |\n| --- | --- | --- | --- |");
for (const c of cases) {
  const runner = c.zerograd();
  const bench = new Bench({ time: 500, iterations: 5, warmupTime: 100, warmupIterations: 2, throws: true });
  // Tinybench runs its tasks one after another: shipped, candidate, shipped, candidate, so that a
  // change in the machine's load between them shows as a difference between the two rounds.
  for (const round of [1, 2]) for (const [name, rt] of Object.entries(runtimes)) bench.add(`${name} ${round}`, () => { installRuntime(rt); runner.run(); });
  const medians = (await bench.run()).map((t) => (t.result.state === "completed" ? (t.result.latency.p50 ?? t.result.latency.mean) : NaN));
  const [s1, c1, s2, c2] = medians as [number, number, number, number];
  const ms = (a: number, b: number) => `${a.toFixed(3)}, ${b.toFixed(3)}`;
  console.log(`| ${c.op} ${c.size} | ${ms(s1, s2)} | ${ms(c1, c2)} | ${(c1 / s1).toFixed(2)}, ${(c2 / s2).toFixed(2)} |`);
  runner.dispose();
}
installRuntime(undefined);
