/** What the person sees at the end: a plain-text table for the terminal and a self-contained HTML report. */
import { barChart, confusionMatrix, lineChart, paragraph, renderReport, table } from "../report/index.js";
import type { JobOptions } from "./cli.js";
import type { JobResult, StrategyResult } from "./job.js";
import { STRATEGY_LABELS } from "./strategies.js";
import { INK } from "./targets.js";

interface Row {
  /** The row's name; the class head's follows the data ("digit" or "class"). */
  label: (job: JobResult) => string;
  value: (r: StrategyResult) => number;
  /** Which way is better. */
  better: "higher" | "lower";
  format: (v: number) => string;
}

/** The ink error's units, said wherever it is shown (fit's logs use standardised ones). */
export const INK_UNITS = "Ink error in raw units: ink mass as a fraction of full ink, centre row/column as a fraction of the image size (fit's ink_loss/ink_mae are in standardised units).";

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const num = (v: number) => v.toFixed(4);

export const ROWS: Row[] = [
  { label: (job) => `${job.classLabel} accuracy`, value: (r) => r.metrics.digitAccuracy, better: "higher", format: pct },
  { label: () => "attributes: mean accuracy", value: (r) => r.metrics.meanAttributeAccuracy, better: "higher", format: pct },
  { label: () => "attributes: macro F1", value: (r) => r.metrics.macroF1, better: "higher", format: num },
  { label: () => "ink: mean absolute error (raw units)", value: (r) => r.metrics.meanInkMae, better: "lower", format: num },
];

/** Index of the best strategy in a row (ties: the first). */
function best(row: Row, results: StrategyResult[]): number {
  let k = 0;
  results.forEach((r, i) => {
    const v = row.value(r), b = row.value(results[k]!);
    if (row.better === "higher" ? v > b : v < b) k = i;
  });
  return k;
}

/** The final table as aligned text; the best value of each row is marked with *. */
export function textTable(job: JobResult): string {
  const header = ["test metric", ...job.results.map((r) => r.strategy)];
  const body = ROWS.map((row) => {
    const k = best(row, job.results);
    return [row.label(job), ...job.results.map((r, i) => `${row.format(row.value(r))}${i === k ? " *" : "  "}`)];
  });
  body.push(["training samples", ...job.results.map((r) => `${r.trainingRows}  `)]);
  body.push(["training time", ...job.results.map((r) => `${r.seconds.toFixed(1)}s  `)]);
  const rows = [header, ...body];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("   ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("   "), ...body.map(line)].join("\n") + "\n(* best; higher is better except for the error)\n" + INK_UNITS + "\n";
}

/** Strategies compared on every head: does masking win or tie everywhere? */
export function maskedWinsEverywhere(job: JobResult, tolerance = 0): boolean {
  const masked = job.results.find((r) => r.strategy === "masked");
  if (!masked) return false;
  return ROWS.every((row) =>
    job.results.every((r) => (row.better === "higher" ? row.value(masked) >= row.value(r) - tolerance : row.value(masked) <= row.value(r) + tolerance)),
  );
}

export function htmlReport(job: JobResult, options: JobOptions): string {
  const c = job.coverage;
  const curve = (key: string, title: string, yLabel: string) =>
    lineChart({
      title,
      xLabel: "epoch",
      yLabel,
      series: job.results.map((r) => ({ name: STRATEGY_LABELS[r.strategy], values: r.history.history[key] ?? [] })),
    });
  const sections = [
    {
      heading: "The set-up",
      html:
        paragraph(
          `${job.dataset}: ${job.trainCount} training and ${job.testCount} test images. In the training split each head's label is missing for a sample with probability ${options.missingRate}` +
            ` (and a further ${pct(options.entryMissingRate)} of the remaining attribute entries one by one). Known labels: ${job.classLabel} ${pct(c.digit)}, attributes ${pct(c.attributes)}, ink ${pct(c.ink)}; samples with every label: ${pct(c.complete)}.` +
            ` The test split is fully labelled.`,
        ) +
        paragraph(
          `One model — a shared trunk of two ReLU layers (${options.hidden} units) with a ${job.classLabel} head (${job.classes} logits, sparse cross-entropy from logits, ignoreIndex −1), an attribute head (${job.attributeNames.length} logits: ${job.attributeNames.join(", ")}; binary cross-entropy from logits, maskValue NaN, per-label weights ${job.attributeWeights.map((w) => w.toFixed(2)).join(", ")}) and an ink head (${INK.length} standardised values, mean squared error, maskValue NaN) — trained ${options.epochs} epochs with Adam (lr ${options.learningRate}, batch ${options.batchSize}, seed ${options.seed}), three ways: ` +
            job.results.map((r) => `${STRATEGY_LABELS[r.strategy]} (${r.trainingRows} samples)`).join("; ") +
            ".",
        ),
    },
    {
      heading: "Test metrics",
      html:
        table(
          ["test metric", ...job.results.map((r) => STRATEGY_LABELS[r.strategy])],
          ROWS.map((row) => {
            const k = best(row, job.results);
            return [row.label(job), ...job.results.map((r, i) => `${row.format(row.value(r))}${i === k ? " ★" : ""}`)];
          }),
        ) + paragraph(`★ marks the best value of each row. Higher is better, except for the error. ${INK_UNITS}`),
    },
    {
      heading: "Held-out loss per head",
      html: [
        curve("val_digit_loss", `${job.classLabel}: cross-entropy on the test split`, "loss"),
        curve("val_attributes_loss", "attributes: binary cross-entropy on the test split", "loss"),
        curve("val_ink_loss", "ink: mean squared error on the test split (standardised units)", "loss"),
      ].join("\n"),
    },
    {
      heading: "Training loss per head",
      html: [curve("digit_loss", `${job.classLabel} (on the labels each strategy trains on)`, "loss"), curve("attributes_loss", "attributes", "loss"), curve("ink_loss", "ink", "loss")].join("\n"),
    },
    {
      heading: "Attributes",
      html:
        barChart({
          title: "F1 per attribute on the test split",
          yLabel: "F1",
          groups: [...job.attributeNames],
          series: job.results.map((r) => ({ name: STRATEGY_LABELS[r.strategy], values: r.metrics.attributeF1 })),
        }) +
        table(
          ["attribute", ...job.results.flatMap((r) => [`${r.strategy} accuracy`, `${r.strategy} F1`])],
          job.attributeNames.map((a, j) => [a, ...job.results.flatMap((r) => [pct(r.metrics.attributeAccuracy[j]!), num(r.metrics.attributeF1[j]!)])]),
        ),
    },
    {
      heading: "Ink",
      html:
        table(["measurement", ...job.results.map((r) => `${STRATEGY_LABELS[r.strategy]} MAE`)], INK.map((k, j) => [k, ...job.results.map((r) => num(r.metrics.inkMae[j]!))])) + paragraph(INK_UNITS),
    },
    {
      heading: `${job.classLabel === "digit" ? "Digit" : "Class"} confusion matrices`,
      html: job.results
        .map((r) => confusionMatrix({ title: `${STRATEGY_LABELS[r.strategy]} — accuracy ${pct(r.metrics.digitAccuracy)}`, labels: Array.from({ length: job.classes }, (_, i) => String(i)), matrix: r.metrics.confusion }))
        .join("\n"),
    },
  ];
  return renderReport({ title: "zerograd — multi-task training with missing labels", subtitle: `missing rate ${options.missingRate}, ${options.epochs} epochs, seed ${options.seed}`, sections });
}
