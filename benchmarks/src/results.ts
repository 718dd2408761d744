/**
 * The machine-readable results (benchmarks/results/latest.json) and the tables of ratios: every
 * implementation's median against zerograd's, and the speed targets of the project.
 */
import { LIBRARIES, type Library } from "./cases.js";
import type { Row } from "./measure.js";

export interface ResultRow {
  workload: string;
  implementation: Library;
  unit: "GFLOP/s" | "ms";
  median: number;
  min: number;
  max: number;
  samples: number;
}

const workloadOf = (r: Row): string => `${r.op} ${r.size}`;

/** One result row per measured row: matmuls in GFLOP/s (min and max from the slowest and fastest call), the rest in ms. */
export function resultRows(rows: readonly Row[]): ResultRow[] {
  return rows.map((r) => {
    const base = { workload: workloadOf(r), implementation: r.library, samples: r.samples };
    if (r.suite !== "matmul" || r.gflops === undefined) return { ...base, unit: "ms", median: r.median, min: r.min, max: r.max };
    const flops = r.gflops * r.mean * 1e6;
    return { ...base, unit: "GFLOP/s", median: flops / (r.median * 1e6), min: flops / (r.max * 1e6), max: flops / (r.min * 1e6) };
  });
}

function medianMs(rows: readonly Row[], workload: string, library: Library): number | undefined {
  return rows.find((r) => workloadOf(r) === workload && r.library === library)?.median;
}

/** How many times faster zerograd (default kernels) is than `library` on a workload: their median time ÷ zerograd's. */
export function speedup(rows: readonly Row[], workload: string, library: Library): number | undefined {
  const z = medianMs(rows, workload, "zerograd"), p = medianMs(rows, workload, library);
  return z === undefined || p === undefined ? undefined : p / z;
}

const fmtRatio = (x: number | undefined): string => (x === undefined ? "–" : x >= 10 ? x.toFixed(0) : x.toFixed(2));

/** Markdown: per workload, the median of each implementation and its time ÷ zerograd's (above 1: zerograd faster). */
export function ratioTable(rows: readonly Row[]): string {
  const workloads = [...new Set(rows.map(workloadOf))];
  const peers = LIBRARIES.filter((l) => l !== "zerograd");
  const lines = [
    `| workload | zerograd median ms | ${peers.map((p) => `${p} ÷ zerograd`).join(" | ")} |`,
    `| --- | ---: | ${peers.map(() => "---:").join(" | ")} |`,
  ];
  for (const w of workloads) {
    const z = medianMs(rows, w, "zerograd");
    lines.push(`| ${w} | ${z === undefined ? "–" : z.toPrecision(3)} | ${peers.map((p) => fmtRatio(speedup(rows, w, p))).join(" | ")} |`);
  }
  return lines.join("\n");
}

interface Target { what: string; workload: string; peer: Library; goal: number }

/** The speed targets, as ratios of medians in this run (zerograd faster by the given factor). */
export function targetTable(rows: readonly Row[]): string {
  const workloads = [...new Set(rows.map(workloadOf))];
  const find = (prefix: string) => workloads.filter((w) => w.startsWith(prefix));
  const targets: Target[] = [
    ...["256×256", "512×512", "1024×1024"].flatMap((n) => find(`matmul ${n}`).map((w) => ({ what: `matmul ${n}, one thread`, workload: w, peer: "tfjs-wasm" as const, goal: 1 }))),
    ...find("MLP step ").map((w) => ({ what: w, workload: w, peer: "tfjs-wasm" as const, goal: 6 })),
    ...find("CNN step").map((w) => ({ what: w, workload: w, peer: "tfjs-cpu" as const, goal: 300 })),
    ...find("masked BCE").flatMap((w) => [{ what: w, workload: w, peer: "tfjs-wasm" as const, goal: 3 }, { what: w, workload: w, peer: "jax-js" as const, goal: 2 }]),
  ];
  const lines = ["| target | peer | goal | measured | met |", "| --- | --- | ---: | ---: | --- |"];
  for (const w of find("matmul, 2 threads")) {
    const one = medianMs(rows, w.replace(", 2 threads", ""), "zerograd"), two = medianMs(rows, w, "zerograd");
    const s = one === undefined || two === undefined ? undefined : one / two;
    lines.push(`| ${w} | zerograd, one thread | ≥ 1.6× | ${s === undefined ? "–" : `${fmtRatio(s)}×`} | ${s === undefined ? "–" : s >= 1.6 ? "yes" : "no"} |`);
  }
  for (const w of find("MLP step, detectAnomaly")) {
    const plain = medianMs(rows, w.replace(", detectAnomaly", ""), "zerograd"), checked = medianMs(rows, w, "zerograd");
    const cost = plain === undefined || checked === undefined ? "–" : `${fmtRatio(checked / plain)}× the plain step's time`;
    lines.push(`| ${w} (anomaly mode's cost; none when off) | zerograd, mode off | – | ${cost} | – |`);
  }
  for (const t of targets) {
    const s = speedup(rows, t.workload, t.peer);
    lines.push(`| ${t.what} | ${t.peer} | ≥ ${t.goal}× | ${s === undefined ? "–" : `${fmtRatio(s)}×`} | ${s === undefined ? "–" : s >= t.goal ? "yes" : "no"} |`);
  }
  return lines.join("\n");
}
