/**
 * zerograd (default kernels and plain-JS kernels forced) against TensorFlow.js (CPU and WebAssembly
 * backends) and jax-js (WebAssembly, jitted), interleaved in one process.
 *
 *   pnpm bench                      every suite at full size; writes benchmarks/results/latest.md and latest.json
 *   pnpm bench --quick              tiny sizes and a few iterations (a smoke test)
 *   pnpm bench --filter matmul      only cases whose suite or op contains "matmul"
 *   pnpm bench --out FILE           write the report to FILE (quick and filtered runs write nothing by default)
 *
 * Progress goes to stderr, the report (Markdown) to stdout.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FULL_SIZES, QUICK_SIZES, buildCases, filterCases } from "./cases.js";
import { describeMachine, machineMarkdown } from "./machine.js";
import { FULL_TIMING, QUICK_TIMING, measure } from "./measure.js";
import { fmtNumber, report } from "./report.js";
import { wasmKernelInfo } from "@zerograd/tensor";
import { ratioTable, resultRows, targetTable } from "./results.js";
import { initTfjs } from "./tfjs.js";

interface Args {
  quick: boolean;
  filter: string | undefined;
  out: string | undefined;
}

const USAGE = "usage: bench [--quick] [--filter NAME] [--out FILE]";

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, filter: undefined, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith("--")) throw new RangeError(`bench: ${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === "--quick") args.quick = true;
    else if (flag === "--filter") args.filter = value();
    else if (flag === "--out") args.out = value();
    else if (flag === "--help" || flag === "-h") { console.log(USAGE); process.exit(0); }
    else if (flag === "--") continue; // pnpm passes this through
    else throw new RangeError(`bench: unknown argument '${a}'\n${USAGE}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cases = filterCases(buildCases(args.quick ? QUICK_SIZES : FULL_SIZES), args.filter);
  if (cases.length === 0) throw new RangeError(`bench: no case matches --filter '${args.filter}'`);
  const timing = args.quick ? QUICK_TIMING : FULL_TIMING;
  const tfjs = await initTfjs();
  const started = performance.now();
  const rows = await measure(cases, timing, (r) => {
    const flops = r.gflops === undefined ? "" : `, ${r.gflops.toFixed(2)} GFLOP/s`;
    process.stderr.write(`${r.suite.padEnd(12)} ${r.op} ${r.size} ${r.library}: ${fmtNumber(r.mean)} ms ±${r.rme.toFixed(1)}%${flops}\n`);
  });
  const seconds = (performance.now() - started) / 1000;
  const settings: string[] = [
    `Run: ${args.quick ? "quick (tiny sizes)" : "full"}${args.filter ? `, filter '${args.filter}'` : ""}; ` +
      `tinybench time ${timing.time} ms and at least ${timing.iterations} samples per task, ` +
      `warm-up ${timing.warmupTime} ms / ${timing.warmupIterations} calls; ${cases.length} cases, ${rows.length} rows in ${seconds.toFixed(0)} s.`,
  ];
  const machine = describeMachine();
  const wasm = wasmKernelInfo();
  if (wasm) settings.push(`zerograd's WebAssembly kernels: start-up (decode, compile, instantiate) ${wasm.startupMs.toFixed(1)} ms; memory ${(wasm.memoryBytes / 2 ** 20).toFixed(0)} MiB.`);
  const ratios = ["## Targets (ratios of medians: the peer's time ÷ zerograd's)", "", targetTable(rows), "", "## Every workload (the peer's median time ÷ zerograd's; above 1: zerograd faster)", "", ratioTable(rows)].join("\n");
  const text = report(rows, { machine: machineMarkdown(machine, tfjs), settings: settings.join("\n\n"), ratios });
  process.stdout.write(text);
  const defaultOut = args.quick || args.filter ? undefined : fileURLToPath(new URL("../results/latest.md", import.meta.url));
  const out = args.out ?? defaultOut;
  if (out) {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, text);
    const json = out.replace(/\.md$/, "") + ".json";
    writeFileSync(json, JSON.stringify({ machine: { ...machine, peers: tfjs }, rows: resultRows(rows) }, null, 1) + "\n");
    process.stderr.write(`wrote ${path.relative(process.cwd(), path.resolve(out))} and ${path.relative(process.cwd(), path.resolve(json))}\n`);
  }
  const disagreeing = rows.filter((r) => !(r.maxRelDiff <= 1e-3));
  if (disagreeing.length) {
    process.stderr.write(`bench: results disagree with zerograd's: ${disagreeing.map((r) => `${r.op} ${r.size} ${r.library} (${r.maxRelDiff})`).join("; ")}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
