/** Markdown tables of the measured rows: one table per suite, and a short summary. */
import type { Library } from "./cases.js";
import type { Row } from "./measure.js";

/** Three significant digits, without exponent notation for the sizes we see. */
export function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return "0";
  return v.toPrecision(3);
}

/** How a library compares with zerograd on the same case: "2.10× faster" or "3.40× slower". */
export function relative(row: Row, zerograd: Row | undefined): string {
  if (row.library === "zerograd") return "baseline";
  if (!zerograd) return "–";
  const speedup = zerograd.mean / row.mean;
  return speedup >= 1 ? `${speedup.toFixed(2)}× faster` : `${(1 / speedup).toFixed(2)}× slower`;
}

function fmtDiff(d: number): string {
  return d === 0 ? "0" : Number.isFinite(d) ? d.toExponential(1) : "**DISAGREE**";
}

const zerogradOf = (rows: readonly Row[], r: Row): Row | undefined =>
  rows.find((z) => z.library === "zerograd" && z.op === r.op && z.size === r.size && z.suite === r.suite);

/** One Markdown table for the rows of one suite. */
export function suiteTable(rows: readonly Row[]): string {
  const hasFlops = rows.some((r) => r.gflops !== undefined);
  const header = ["op", "size", "library", "mean ms", "±rme", "ops/s", ...(hasFlops ? ["GFLOP/s"] : []), "vs zerograd", "max rel Δ"];
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map((h, i) => (i < 3 ? "---" : "---:")).join(" | ")} |`];
  for (const r of rows) {
    const cells = [
      r.op,
      r.size,
      r.library,
      fmtNumber(r.mean),
      `±${r.rme.toFixed(1)}%`,
      fmtNumber(r.opsPerSec),
      ...(hasFlops ? [r.gflops === undefined ? "" : r.gflops.toFixed(2)] : []),
      relative(r, zerogradOf(rows, r)),
      fmtDiff(r.maxRelDiff),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Rows grouped by suite, in the order the suites first appear. */
export function bySuite(rows: readonly Row[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(r.suite, [...(groups.get(r.suite) ?? []), r]);
  return groups;
}

/**
 * Per suite and peer: the geometric mean, over the suite's cases, of zerograd's time divided by
 * the peer's (above 1: the peer is faster).
 */
export function summary(rows: readonly Row[]): string {
  const peers: Library[] = ["zerograd-js", "tfjs-cpu", "tfjs-wasm", "jax-js"];
  const header = `| suite | ${peers.map((p) => `${p} vs zerograd`).join(" | ")} |`;
  const lines = [header, `| --- | ${peers.map(() => "---:").join(" | ")} |`];
  for (const [suite, group] of bySuite(rows)) {
    const cells = peers.map((p) => {
      const logs = group.filter((r) => r.library === p).flatMap((r) => {
        const z = zerogradOf(group, r);
        return z ? [Math.log(z.mean / r.mean)] : [];
      });
      if (logs.length === 0) return "–";
      const g = Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length);
      return g >= 1 ? `${g.toFixed(2)}× faster` : `${(1 / g).toFixed(2)}× slower`;
    });
    lines.push(`| ${suite} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

export interface ReportContext {
  machine: string;
  settings: string;
  /** Markdown tables of ratios, placed before the detailed tables. */
  ratios?: string;
}

export function report(rows: readonly Row[], ctx: ReportContext): string {
  const parts = [
    "# zerograd benchmarks",
    "",
    ctx.machine,
    "",
    ctx.settings,
    "",
    "## Method",
    "",
    "- One Node process, one thread each, interleaved case by case: zerograd (float32) with the kernels it picks by default (WebAssembly SIMD here) and with the plain-JS kernels forced (`zerograd-js`, what QuickJS runs), TensorFlow.js on its CPU backend (JavaScript) and on its WebAssembly backend (XNNPACK; tfjs runs it without threads under Node), and jax-js on its WebAssembly device with `jit` (where the case has a jax-js version).",
    "- The machine is shared and noisy: compare ratios within one run, not absolute times across runs.",
    "- Every library gets the same seeded float32 inputs. Each timed call computes the whole result and hands it back as JavaScript typed arrays: tfjs results are read with `dataSync()` inside the timed function and every intermediate tensor is disposed by `tf.tidy`; zerograd's results are already `Float32Array`s.",
    "- `max rel Δ` = max |output − zerograd's output| / max(1, max |zerograd's output|) over every output of the timed function (for the training step: the loss and all four gradients). It shows that the libraries computed the same thing.",
    "- `vs zerograd` compares mean times on the same case; GFLOP/s counts a multiply and an add as two operations (training step: the forward matmuls plus the two matmuls per layer of the backward pass).",
    "",
    ...(ctx.ratios ? [ctx.ratios, ""] : []),
    "## Summary (geometric mean over each suite's cases)",
    "",
    summary(rows),
  ];
  for (const [suite, group] of bySuite(rows)) parts.push("", `## ${suite}`, "", suiteTable(group));
  return parts.join("\n") + "\n";
}
