/**
 * The main job: one architecture, three ways of handling missing labels, one fully labelled
 * test split to judge them on.
 *
 *   load → split (train / test) → derive the three heads' targets → hide labels in the training
 *   split at the missing rate → for each strategy: same initial weights, fit(), predict on test
 *   → metrics per head → table and HTML report.
 */
import { Adam, type AnyModule, type History, fit, predict } from "@zerograd/nn";
import { binaryCrossEntropy, meanSquaredError, sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { NDArray } from "@zerograd/tensor";
import { type Dataset, loadDigits, loadIdxDataset, splitDataset, takeRows } from "../data/index.js";
import type { JobOptions } from "./cli.js";
import { type HeadMetrics, evaluateHeads } from "./evaluate.js";
import { buildModel } from "./model.js";
import type { ExportInfo } from "./onnx.js";
import { STRATEGIES, type Strategy, applyStrategy } from "./strategies.js";
import { type AttributeSet, DIGIT_ATTRIBUTES, FASHION_ATTRIBUTES, INK, type Targets, coverage, hideLabels, targetsOf } from "./targets.js";

export interface StrategyResult {
  strategy: Strategy;
  trainingRows: number;
  history: History;
  metrics: HeadMetrics;
  seconds: number;
}

export interface JobResult {
  dataset: string;
  trainCount: number;
  testCount: number;
  classes: number;
  /** What the class head predicts: "digit" on the digits, "class" on Fashion-MNIST's clothes. */
  classLabel: "digit" | "class";
  coverage: ReturnType<typeof coverage>;
  attributeNames: readonly string[];
  attributeWeights: number[];
  results: StrategyResult[];
}

/** The data could not be read (missing files, malformed content): the command line exits with code 2. */
export class DataLoadError extends Error {
  override readonly name = "DataLoadError";
}

/** The data set: the embedded digits split 80/20, or an IDX folder with its own test files. */
export async function loadData(options: JobOptions): Promise<{ name: string; train: Dataset; test: Dataset }> {
  try {
    if (options.data === undefined) {
      const { train, test } = splitDataset(await loadDigits(), options.testFraction, options.seed);
      return { name: "UCI handwritten digits (embedded, 8×8)", train, test };
    }
    const { train, test } = await loadIdxDataset(options.data);
    return { name: `IDX files in ${options.data} (${train.height}×${train.width})`, train, test };
  } catch (e) {
    throw new DataLoadError((e as Error).message, { cause: e });
  }
}

/**
 * Per-attribute loss weights from the labels that are known: w_j ∝ 1 / (2·min(p_j, 1 − p_j)),
 * with p_j the share of positives, normalised to mean 1 — an unbalanced attribute weighs more.
 */
export function attributeWeights(t: Targets): number[] {
  const A = t.attributeNames.length;
  const raw = t.attributeNames.map((_, j) => {
    let pos = 0, known = 0;
    for (let i = 0; i < t.count; i++) {
      const v = t.attributes[i * A + j]!;
      if (Number.isNaN(v)) continue;
      known++;
      pos += v;
    }
    const p = known ? pos / known : 0.5;
    return 1 / (2 * Math.max(Math.min(p, 1 - p), 0.05));
  });
  const mean = raw.reduce((s, w) => s + w, 0) / A;
  return raw.map((w) => w / mean);
}

/** Mean and standard deviation of each ink column over its known values (for standardising). */
function inkScale(t: Targets): { mean: number[]; std: number[] } {
  const K = INK.length;
  const mean: number[] = [], std: number[] = [];
  for (let j = 0; j < K; j++) {
    let n = 0, s = 0, s2 = 0;
    for (let i = 0; i < t.count; i++) {
      const v = t.ink[i * K + j]!;
      if (Number.isNaN(v)) continue;
      n++;
      s += v;
      s2 += v * v;
    }
    const m = n ? s / n : 0;
    mean.push(m);
    std.push(n > 1 ? Math.sqrt(Math.max(s2 / n - m * m, 1e-12)) : 1);
  }
  return { mean, std };
}

const standardise = (ink: Float32Array, s: { mean: number[]; std: number[] }) => ink.map((v, k) => (v - s.mean[k % INK.length]!) / s.std[k % INK.length]!);
const restore = (ink: ArrayLike<number>, s: { mean: number[]; std: number[] }) => Float32Array.from(ink, (v, k) => v * s.std[k % INK.length]! + s.mean[k % INK.length]!);

/** The images of a data set as an [n, pixels] array. */
function imagesOf(ds: Dataset): NDArray {
  return new NDArray(ds.images, [ds.count, ds.height * ds.width]);
}

export interface JobIO {
  /** Progress text (fit's display and the job's own lines). */
  write: (text: string) => void;
  /** fit()'s display for each strategy. */
  verbose: "auto" | "bar" | "line" | "silent";
  /** Called with each strategy's trained model (and what its outputs mean), e.g. to export it. */
  trained?: (strategy: Strategy, model: AnyModule, info: ExportInfo) => Promise<void> | void;
  /** One short line per strategy when it is done (samples, epochs, time, final held-out loss). */
  summary?: boolean;
  /** Called after each epoch of each strategy with fit()'s logs (e.g. to draw live curves). */
  onEpoch?: (strategy: Strategy, epoch: number, logs: Readonly<Record<string, number>>) => void;
}

/** The progress a person asked for: --quiet nothing, --verbose fit()'s epochs, otherwise a line per strategy. */
export function progressFor(options: Pick<JobOptions, "quiet" | "verbose">, write: (text: string) => void): JobIO {
  if (options.quiet) return { write, verbose: "silent" };
  return options.verbose ? { write, verbose: "auto" } : { write, verbose: "silent", summary: true };
}

/** The line printed when a strategy is done. */
export function strategyLine(r: StrategyResult, epochs: number): string {
  const val = r.history.history.val_loss?.at(-1);
  return `${r.strategy.padEnd(7)} ${String(r.trainingRows).padStart(6)} training samples, ${epochs} epochs, ${r.seconds.toFixed(1)} s${val === undefined ? "" : `, final held-out loss ${val.toFixed(4)}`}\n`;
}

/** The attribute set: as asked, or (auto) Fashion-MNIST's when the data folder's path says "fashion". */
export function attributeSetFor(options: JobOptions): AttributeSet {
  const kind = options.attributes === "auto" ? (options.data !== undefined && /fashion/i.test(options.data) ? "fashion" : "digits") : options.attributes;
  return kind === "fashion" ? FASHION_ATTRIBUTES : DIGIT_ATTRIBUTES;
}

export async function runJob(options: JobOptions, io: JobIO, strategies: readonly Strategy[] = STRATEGIES): Promise<JobResult> {
  return compareStrategies(await loadData(options), options, io, strategies);
}

/** The job on data already in memory (no file access: it also runs in a browser Worker). */
export async function compareStrategies(
  { name, train, test }: { name: string; train: Dataset; test: Dataset },
  options: JobOptions,
  io: JobIO,
  strategies: readonly Strategy[] = STRATEGIES,
): Promise<JobResult> {
  const classes = Math.max(train.classes, test.classes);
  const features = train.height * train.width;
  const attributeSet = attributeSetFor(options);
  const classLabel = attributeSet.name === "fashion" ? "class" : "digit";
  const A = attributeSet.labels.length;
  const observed = hideLabels(targetsOf(train, attributeSet), options.missingRate, options.seed + 1, options.entryMissingRate);
  const testTargets = targetsOf(test, attributeSet);
  const weights = attributeWeights(observed);
  const xTest = imagesOf(test);

  const results: StrategyResult[] = [];
  for (const strategy of strategies) {
    const started = performance.now();
    const { rows, targets } = applyStrategy(strategy, observed);
    const scale = inkScale(targets);
    const model = buildModel(features, options.hidden, classes, A, options.seed);
    const losses = {
      digit: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true, ignoreIndex: -1 } },
      attributes: { loss: binaryCrossEntropy, options: { fromLogits: true, maskValue: NaN, weights } },
      ink: { loss: meanSquaredError, options: { maskValue: NaN } },
    };
    const testData = { x: xTest, y: { digit: new NDArray(testTargets.digit, [test.count]), attributes: new NDArray(testTargets.attributes, [test.count, A]), ink: new NDArray(standardise(testTargets.ink, scale), [test.count, INK.length]) } };
    if (io.verbose !== "silent") io.write(`\n== ${strategy}: ${rows.length} training samples (ink_loss and ink_mae in standardised units)\n`);
    let history: History = { epochs: [], history: {} };
    if (rows.length > 0) {
      history = await fit(
        model,
        { x: imagesOf(takeRows(train, rows)), y: { digit: new NDArray(targets.digit, [rows.length]), attributes: new NDArray(targets.attributes, [rows.length, A]), ink: new NDArray(standardise(targets.ink, scale), [rows.length, INK.length]) } },
        {
          optimizer: new Adam(model.parameters(), { lr: options.learningRate }),
          loss: losses,
          metrics: { digit: ["accuracy"], attributes: ["binaryAccuracy"], ink: ["mae"] },
          epochs: options.epochs,
          batchSize: options.batchSize,
          seed: options.seed,
          validationData: testData,
          verbose: io.verbose,
          write: io.write,
          callbacks: io.onEpoch ? [{ onEpochEnd: (epoch, logs) => io.onEpoch!(strategy, epoch, logs) }] : [],
        },
      );
    }
    await io.trained?.(strategy, model, { dataset: name, features, classes, attributeNames: attributeSet.labels, inkScale: scale });
    const out = predict(model, xTest, { batchSize: 256 }) as Record<string, NDArray>;
    const ink = new NDArray(restore(out.ink!.flat(), scale), out.ink!.shape);
    results.push({
      strategy,
      trainingRows: rows.length,
      history,
      metrics: evaluateHeads(out.digit!, out.attributes!, ink, testTargets, classes),
      seconds: (performance.now() - started) / 1000,
    });
    if (io.summary) io.write(strategyLine(results.at(-1)!, options.epochs));
  }
  return { dataset: name, trainCount: train.count, testCount: test.count, classes, classLabel, coverage: coverage(observed), attributeNames: attributeSet.labels, attributeWeights: weights, results };
}
