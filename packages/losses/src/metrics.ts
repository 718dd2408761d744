import * as T from "@zerograd/tensor";
import { type OptionsOf, boolean, defineOptions, integer, number } from "@zerograd/tensor";
import { LOSS_FIELDS, sentinelNumber } from "./define.js";
import { type MaskInput, checkFiniteWhereKept, checkLabels, readArray, readLabels } from "./inputs.js";
import { notEqualTo, resolveMask, rowNotAll } from "./masks.js";
import { readWeights } from "./reduce.js";

/**
 * Masked metrics: plain numbers (no graph), computed over unmasked elements only, with the same
 * mask options as the losses. An empty mask never gives NaN: the value is 0 with a count of 0.
 * The `…Stats` variants also return the count, so that batches aggregate correctly:
 * overall = Σ value·count / Σ count.
 */
export interface MetricStats {
  /** The (weighted) mean over unmasked elements; 0 when nothing is unmasked. */
  value: number;
  /** The number of unmasked elements — their total weight when `weights` are given. */
  count: number;
}

const METRIC = defineOptions({ mask: LOSS_FIELDS.mask, maskValue: LOSS_FIELDS.maskValue, weights: LOSS_FIELDS.weights });
const ACCURACY = METRIC.extend({ axis: integer() });
const SPARSE_ACCURACY = ACCURACY.extend({ ignoreIndex: sentinelNumber() });
const BINARY_ACCURACY = METRIC.extend({ threshold: number({ infinite: true, default: 0.5 }), fromLogits: boolean({ default: false }) });
/** mask, maskValue and weights, as for the losses. */
export type MetricOptions = OptionsOf<typeof METRIC>;
/** `axis`: the class axis (default −1). */
export type AccuracyOptions = OptionsOf<typeof ACCURACY>;
export type SparseAccuracyOptions = OptionsOf<typeof SPARSE_ACCURACY>;
/** `threshold`: a prediction counts as positive above it (default 0.5, on probabilities); `fromLogits`: σ(x) is compared. */
export type BinaryAccuracyOptions = OptionsOf<typeof BINARY_ACCURACY>;

/** Σ m·w·score / Σ m·w over flat arrays of the same length (0 with count 0 when nothing counts). */
function weightedMean(op: string, score: (i: number) => number, m: T.NDArray, weights: MaskInput | undefined): MetricStats {
  const kept = m.flat();
  const w = readWeights(op, weights, m.shape, kept);
  let total = 0, count = 0;
  for (let i = 0; i < kept.length; i++) {
    if (kept[i] === 0) continue;
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    total += wi * score(i);
    count += wi;
  }
  return { value: count > 0 ? total / count : 0, count };
}

function pair(op: string, prediction: MaskInput, target: MaskInput): [T.NDArray, T.NDArray] {
  const p = readArray(op, "prediction", prediction, "float64"), z = readArray(op, "target", target, "float64");
  if (!T.shapesEqual(p.shape, z.shape)) throw new T.ShapeError(op, "prediction and target must have the same shape", [p.shape, z.shape]);
  return [p, z];
}

const sentinel = (x: T.NDArray, value: number | undefined) => (value === undefined ? undefined : notEqualTo(x, value));

/** Top-1 accuracy with one-hot (or soft) targets: argmax(prediction) = argmax(target) along `axis`. */
export function accuracyStats(prediction: MaskInput, target: MaskInput, options: AccuracyOptions = {}): MetricStats {
  const op = "accuracy";
  ACCURACY.parse(op, options);
  const [p, z] = pair(op, prediction, target);
  const axis = T.normAxis(op, options.axis ?? -1, p.rank);
  const rowShape = p.shape.filter((_, i) => i !== axis);
  const m = resolveMask(op, rowShape, options.mask, [options.maskValue === undefined ? undefined : rowNotAll(z, options.maskValue, axis)], "float64");
  const predicted = T.argmax(p, { axis }).flat(), actual = T.argmax(z, { axis }).flat();
  return weightedMean(op, (i) => (predicted[i] === actual[i] ? 1 : 0), m, options.weights);
}

/** Top-1 accuracy with integer labels (the prediction's shape without the class axis). */
export function sparseAccuracyStats(prediction: MaskInput, labels: MaskInput, options: SparseAccuracyOptions = {}): MetricStats {
  const op = "sparseAccuracy";
  SPARSE_ACCURACY.parse(op, options);
  const p = readArray(op, "prediction", prediction, "float64");
  const axis = T.normAxis(op, options.axis ?? -1, p.rank);
  const y = readLabels(op, labels, p.shape, axis, "float64");
  const m = resolveMask(op, y.shape, options.mask, [sentinel(y, options.maskValue), sentinel(y, options.ignoreIndex)], "float64");
  checkLabels(op, y, m, p.shape[axis]!);
  const predicted = T.argmax(p, { axis }).flat(), actual = y.flat();
  return weightedMean(op, (i) => (predicted[i] === actual[i] ? 1 : 0), m, options.weights);
}

/**
 * Elementwise (multi-label) accuracy: a prediction is positive when above `threshold`, a target
 * when above 0.5 (so 0/1 and smoothed targets both work); the score is 1 where they agree.
 */
export function binaryAccuracyStats(prediction: MaskInput, target: MaskInput, options: BinaryAccuracyOptions = {}): MetricStats {
  const op = "binaryAccuracy";
  const { threshold } = BINARY_ACCURACY.parse(op, options);
  const [p0, z] = pair(op, prediction, target);
  const p = (options.fromLogits ? T.sigmoid(p0) : p0).flat(), t = z.flat();
  const m = resolveMask(op, z.shape, options.mask, [sentinel(z, options.maskValue)], "float64");
  checkFiniteWhereKept(op, "target", z, m);
  return weightedMean(op, (i) => ((p[i]! > threshold) === (t[i]! > 0.5) ? 1 : 0), m, options.weights);
}

function errorStats(op: string, prediction: MaskInput, target: MaskInput, options: MetricOptions, f: (d: number) => number): MetricStats {
  METRIC.parse(op, options);
  const [p, z] = pair(op, prediction, target);
  const m = resolveMask(op, z.shape, options.mask, [sentinel(z, options.maskValue)], "float64");
  checkFiniteWhereKept(op, "target", z, m);
  const pv = p.flat(), zv = z.flat();
  return weightedMean(op, (i) => f(pv[i]! - zv[i]!), m, options.weights);
}

/** Mean |prediction − target| over unmasked elements. */
export const meanAbsoluteErrorStats = (prediction: MaskInput, target: MaskInput, options: MetricOptions = {}): MetricStats =>
  errorStats("meanAbsoluteErrorMetric", prediction, target, options, Math.abs);

/** Mean (prediction − target)² over unmasked elements. */
export const meanSquaredErrorStats = (prediction: MaskInput, target: MaskInput, options: MetricOptions = {}): MetricStats =>
  errorStats("meanSquaredErrorMetric", prediction, target, options, (d) => d * d);

/** {@link accuracyStats}'s value: 0 when nothing is unmasked. */
export const accuracy = (prediction: MaskInput, target: MaskInput, options?: AccuracyOptions): number => accuracyStats(prediction, target, options).value;
/** {@link sparseAccuracyStats}'s value: 0 when nothing is unmasked. */
export const sparseAccuracy = (prediction: MaskInput, labels: MaskInput, options?: SparseAccuracyOptions): number => sparseAccuracyStats(prediction, labels, options).value;
/** {@link binaryAccuracyStats}'s value: 0 when nothing is unmasked. */
export const binaryAccuracy = (prediction: MaskInput, target: MaskInput, options?: BinaryAccuracyOptions): number => binaryAccuracyStats(prediction, target, options).value;
/** {@link meanAbsoluteErrorStats}'s value: 0 when nothing is unmasked. */
export const meanAbsoluteErrorMetric = (prediction: MaskInput, target: MaskInput, options?: MetricOptions): number => meanAbsoluteErrorStats(prediction, target, options).value;
/** {@link meanSquaredErrorStats}'s value: 0 when nothing is unmasked. */
export const meanSquaredErrorMetric = (prediction: MaskInput, target: MaskInput, options?: MetricOptions): number => meanSquaredErrorStats(prediction, target, options).value;
