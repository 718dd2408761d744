/**
 * Test-set metrics of the main job, on a fully labelled split: digit accuracy and confusion
 * matrix, per-attribute accuracy and F1 (and their macro average), ink mean absolute error.
 */
import { NDArray } from "@zerograd/tensor";
import { binaryAccuracy, meanAbsoluteErrorMetric, sparseAccuracy } from "@zerograd/losses";
import { INK, type Targets } from "./targets.js";

export interface HeadMetrics {
  digitAccuracy: number;
  confusion: number[][];
  attributeAccuracy: number[];
  attributeF1: number[];
  /** Mean over the attributes of their F1. */
  macroF1: number;
  /** Exact-match accuracy of the whole attribute vector would be harsher; we report the mean per-label accuracy. */
  meanAttributeAccuracy: number;
  inkMae: number[];
  meanInkMae: number;
}

/** F1 = 2·TP / (2·TP + FP + FN); 1 when there is nothing to find and nothing was found. */
export function f1Score(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < actual.length; i++) {
    const p = predicted[i]! > 0.5, a = actual[i]! > 0.5;
    if (p && a) tp++;
    else if (p) fp++;
    else if (a) fn++;
  }
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * `digitLogits` [n, C], `attributeLogits` [n, A], `ink` [n, K] in the targets' units (already
 * de-standardised), against complete test targets.
 */
export function evaluateHeads(digitLogits: NDArray, attributeLogits: NDArray, ink: NDArray, t: Targets, classes: number): HeadMetrics {
  const n = t.count, A = t.attributeNames.length, K = INK.length;
  const digitTarget = new NDArray(t.digit, [n]);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const logits = digitLogits.flat();
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    confusion[t.digit[i]!]![best]!++;
  }
  const attributeLogitsFlat = attributeLogits.flat();
  const column = (a: ArrayLike<number>, j: number, width: number) => Float32Array.from({ length: n }, (_, i) => a[i * width + j]!);
  const attributeAccuracy = t.attributeNames.map((_, j) =>
    binaryAccuracy(new NDArray(column(attributeLogitsFlat, j, A), [n]), new NDArray(column(t.attributes, j, A), [n]), { fromLogits: true }),
  );
  const attributeF1 = t.attributeNames.map((_, j) => f1Score(column(attributeLogitsFlat, j, A).map((x) => (x > 0 ? 1 : 0)), column(t.attributes, j, A)));
  const inkFlat = ink.flat();
  const inkMae = INK.map((_, j) => meanAbsoluteErrorMetric(new NDArray(column(inkFlat, j, K), [n]), new NDArray(column(t.ink, j, K), [n])));
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    digitAccuracy: sparseAccuracy(digitLogits, digitTarget),
    confusion,
    attributeAccuracy,
    attributeF1,
    macroF1: mean(attributeF1),
    meanAttributeAccuracy: mean(attributeAccuracy),
    inkMae,
    meanInkMae: mean(inkMae),
  };
}
