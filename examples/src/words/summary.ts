/** The words job's results as a terminal table and a self-contained HTML report. */
import { barChart, confusionMatrix, lineChart, paragraph, renderReport, table } from "../report/index.js";
import { LANGUAGES } from "./data.js";
import { LENGTH_BUCKETS, type WordsResult } from "./job.js";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function textTable(r: WordsResult): string {
  const rows = r.classifiers.map((c) => [c.name.padEnd(40), pct(c.accuracy).padStart(8), (c.changedByPadding === null ? "—" : String(c.changedByPadding)).padStart(18), `${c.seconds.toFixed(1)}s`.padStart(8)].join(" "));
  const lines = [
    `${"language of a word (test words)".padEnd(40)} ${"accuracy".padStart(8)} ${"changed 20→40 pad".padStart(18)} ${"time".padStart(8)}`,
    ...rows,
    "",
    `character language model: ${r.lm.bits.toFixed(3)} bits/char on test words, bigram baseline ${r.lm.bigramBits.toFixed(3)} (${r.lm.seconds.toFixed(1)}s)`,
    ...LANGUAGES.map((lang) => `  ${lang}: ${r.lm.samples[lang]!.join(", ")}`),
    "",
  ];
  return lines.join("\n");
}

export function htmlReport(r: WordsResult, seed: number): string {
  const masked = r.classifiers[0]!;
  return renderReport({
    title: "zerograd — language of a word, and character language models",
    subtitle: `${r.trainCount} training / ${r.testCount} test words (en, es, nl, pl), seed ${seed}, ${r.seconds.toFixed(1)} s`,
    sections: [
      {
        heading: "Language identification",
        html: table(["model", "test accuracy", "predictions changed by padding 20 → 40", "seconds"], r.classifiers.map((c) => [c.name, pct(c.accuracy), c.changedByPadding === null ? "—" : c.changedByPadding, Number(c.seconds.toFixed(1))]))
          + paragraph("The masked model's predictions do not depend on how far a batch is padded; with the masks off, the padding is read as data and predictions move."),
      },
      { heading: "Training curves", html: lineChart({ title: "training loss per epoch", xLabel: "epoch", yLabel: "cross-entropy (nats)", series: r.classifiers.map((c) => ({ name: c.name, values: c.losses })) }) },
      { heading: "Confusion matrix (masked Transformer)", html: confusionMatrix({ title: "true language (rows) × predicted (columns)", labels: [...LANGUAGES], matrix: masked.confusion }) },
      {
        heading: "Accuracy by word length",
        html: barChart({ title: "test accuracy by length (letters)", yLabel: "accuracy", groups: LENGTH_BUCKETS.map(([lo, hi]) => `${lo}–${hi}`), series: r.classifiers.map((c) => ({ name: c.name, values: c.byLength })) }),
      },
      {
        heading: "Character language model",
        html: table(["model", "bits per character (test)"], [["causal Transformer, language as condition", Number(r.lm.bits.toFixed(3))], ["bigram per language (add-0.1)", Number(r.lm.bigramBits.toFixed(3))]])
          + lineChart({ title: "language model training", xLabel: "epoch", yLabel: "bits per character", series: [{ name: "train", values: r.lm.curve }] })
          + table(["language", "generated words"], LANGUAGES.map((lang) => [lang, r.lm.samples[lang]!.join(", ")])),
      },
    ],
  });
}
