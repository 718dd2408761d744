import { Tensor, add, clip, log, logSoftmax, mul, neg, reshape, sum, take, transpose } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { EPSILON } from "./binary.js";
import { type MaskInput, type TargetInput, checkFiniteWhereKept, checkNumber, checkOptions, checkPrediction, checkSameShape, expandTo, indexOf, readArray, targetTensor } from "./inputs.js";
import { keepUnmasked, notEqualTo, resolveMask, rowNotAll } from "./masks.js";
import { LOSS_OPTION_KEYS, type LossOptions, reduceLoss } from "./reduce.js";

export interface CategoricalCrossEntropyOptions extends LossOptions {
  /** The prediction holds logits instead of probabilities. Default false. */
  fromLogits?: boolean;
  /** α in [0, 1]: targets become z·(1−α) + α/C. Default 0. */
  labelSmoothing?: number;
  /** The class axis (default −1). ℓ has the prediction's shape without it. */
  axis?: number;
}

export interface SparseCategoricalCrossEntropyOptions extends CategoricalCrossEntropyOptions {
  /** Labels equal to this value are masked, as PyTorch's ignore_index (combines with mask and maskValue). */
  ignoreIndex?: number;
  /** One non-negative weight per class (PyTorch's `weight`); 'weightedMean' then divides by Σ m·w·w_class[y]. */
  classWeights?: readonly number[] | MaskInput;
}

/** log p along the class axis: logSoftmax of logits, or the log of clipped probabilities. */
function logProbabilities(kept: Tensor, prediction: Tensor, axis: number, fromLogits: boolean | undefined): Tensor {
  if (fromLogits) return logSoftmax(keepUnmasked(kept, prediction, 0), axis);
  return log(clip(keepUnmasked(kept, prediction, 0.5), EPSILON, 1 - EPSILON));
}

function classAxis(op: string, prediction: Tensor, axis: number | undefined): { axis: number; classes: number; rowShape: number[] } {
  const a = T.normAxis(op, axis ?? -1, prediction.rank);
  const classes = prediction.shape[a]!;
  if (classes < 1) throw new T.ShapeError(op, `the class axis ${a} is empty`, [prediction.shape]);
  return { axis: a, classes, rowShape: prediction.shape.filter((_, i) => i !== a) };
}

/**
 * Categorical cross-entropy with one-hot or soft targets along the class axis:
 *
 *   ℓ = −Σ_c z_c · log p_c,   z ← z·(1−α) + α/C with label smoothing α
 *
 * with log p = logSoftmax(x) from logits, or log(clip(p, 1e-7, 1 − 1e-7)) from probabilities
 * (used as given: no renormalisation over the classes). With `maskValue`, a row is masked when
 * every class entry equals it (an all-zero padding row with `maskValue: 0`).
 *
 * @example
 * // The second row is padding (all zeros): it is masked, so the mean is over one row.
 * const logits = tensor([[2, 0, -1], [9, 9, 9]], { requiresGrad: true });
 * categoricalCrossEntropy(logits, [[1, 0, 0], [0, 0, 0]], { fromLogits: true, maskValue: 0 });
 */
export function categoricalCrossEntropy(prediction: Tensor, target: TargetInput, options: CategoricalCrossEntropyOptions = {}): Tensor {
  const op = "categoricalCrossEntropy";
  checkOptions(op, options, [...LOSS_OPTION_KEYS, "fromLogits", "labelSmoothing", "axis"]);
  const x = checkPrediction(op, prediction);
  const z = targetTensor(op, target, x.dtype);
  checkSameShape(op, x, z);
  const { axis, classes, rowShape } = classAxis(op, x, options.axis);
  const m = resolveMask(op, rowShape, options.mask, [options.maskValue === undefined ? undefined : rowNotAll(z.value, options.maskValue, axis)], x.dtype);
  const keptRows = T.expandDims(m, axis); // broadcasts along the class axis
  checkFiniteWhereKept(op, "target", z.value, keptRows);
  const alpha = checkNumber(op, "labelSmoothing", options.labelSmoothing ?? 0, (a) => a >= 0 && a <= 1, "in [0, 1]");

  const kept = new Tensor(keptRows);
  const zSafe = keepUnmasked(kept, z, 0);
  const zs = alpha === 0 ? zSafe : add(mul(zSafe, 1 - alpha), alpha / classes);
  const loss = neg(sum(mul(zs, logProbabilities(kept, x, axis, options.fromLogits)), { axis }));
  return reduceLoss(op, loss, m, options);
}

/**
 * Sparse categorical cross-entropy: integer labels y instead of one-hot targets.
 *
 *   ℓ = (1−α)·w_y·(−log p_y) + (α/C)·Σ_c w_c·(−log p_c)
 *
 * with class weights w (all 1 by default) and label smoothing α (default 0) — PyTorch's
 * cross_entropy formula. With `classWeights`, 'weightedMean' divides by Σ m·w_y (times any
 * `weights`), which equals `cross_entropy(weight=w, ignore_index=…, label_smoothing=α)` with
 * reduction 'mean'. Labels may have the prediction's shape without the class axis, or with
 * the class axis of size 1. Unmasked labels must be integers in [0, C).
 *
 * @example
 * // Label −100 is ignored, as in PyTorch; the mean is over the two other rows.
 * const logits = tensor([[2, 0, -1], [0, 1, 0], [1, 1, 1]], { requiresGrad: true });
 * sparseCategoricalCrossEntropy(logits, [0, -100, 2], { fromLogits: true, ignoreIndex: -100 });
 */
export function sparseCategoricalCrossEntropy(prediction: Tensor, labels: TargetInput, options: SparseCategoricalCrossEntropyOptions = {}): Tensor {
  const op = "sparseCategoricalCrossEntropy";
  checkOptions(op, options, [...LOSS_OPTION_KEYS, "fromLogits", "labelSmoothing", "axis", "ignoreIndex", "classWeights"]);
  const x = checkPrediction(op, prediction);
  const { axis, classes, rowShape } = classAxis(op, x, options.axis);
  const y = readLabels(op, labels, x.shape, axis, x.dtype);
  const sentinel = (v: number | undefined) => (v === undefined ? undefined : notEqualTo(y, v));
  const m = resolveMask(op, rowShape, options.mask, [sentinel(options.maskValue), sentinel(options.ignoreIndex)], x.dtype);
  checkLabels(op, y, m, classes);
  const alpha = checkNumber(op, "labelSmoothing", options.labelSmoothing ?? 0, (a) => a >= 0 && a <= 1, "in [0, 1]");
  const classWeights = options.classWeights === undefined ? undefined : readClassWeights(op, options.classWeights, classes, x.dtype);

  const ySafe = T.where(m, y, 0); // masked labels become class 0; their rows are masked anyway
  const logp = logProbabilities(new Tensor(T.expandDims(m, axis)), x, axis, options.fromLogits);
  const nll = neg(pickClass(logp, ySafe, axis));
  const wLabel = classWeights && new Tensor(T.reshape(T.take(classWeights, T.reshape(ySafe, [-1]), 0), rowShape)); // w_y per row
  let loss = wLabel ? mul(nll, wLabel) : nll;
  if (alpha > 0) {
    const perClass = classWeights ? mul(logp, new Tensor(T.reshape(classWeights, x.shape.map((d, i) => (i === axis ? d : 1))))) : logp;
    loss = add(mul(loss, 1 - alpha), mul(neg(sum(perClass, { axis })), alpha / classes));
  }
  return reduceLoss(op, loss, m, options, wLabel?.value);
}

/**
 * logp[..., y, ...] along `axis`: an exact gather (move the class axis last, flatten, take
 * row·C + y). Unlike Σ onehot·logp it never computes 0·(−∞), so a −∞ logit for another class
 * is fine; its vjp scatters the gradient back to the picked entries only.
 */
function pickClass(logp: Tensor, labels: T.NDArray, axis: number): Tensor {
  const rank = logp.rank, classes = logp.shape[axis]!;
  const last = axis === rank - 1 ? logp : transpose(logp, [...logp.shape.keys()].filter((i) => i !== axis).concat(axis));
  const y = labels.flat();
  const flatIndex = new Int32Array(y.length);
  for (let r = 0; r < y.length; r++) flatIndex[r] = r * classes + y[r]!;
  return reshape(take(reshape(last, [-1]), flatIndex), labels.shape);
}

function readLabels(op: string, labels: TargetInput, shape: T.Shape, axis: number, dtype: T.DType): T.NDArray {
  const y = readArray(op, "labels", labels, dtype);
  const rowShape = shape.filter((_, i) => i !== axis);
  if (T.shapesEqual(y.shape, rowShape)) return y;
  if (T.shapesEqual(y.shape, shape.map((d, i) => (i === axis ? 1 : d)))) return T.reshape(y, rowShape); // Keras-style [N, 1]
  throw new T.ShapeError(op, "labels must have the prediction's shape without the class axis (or with it of size 1)", [y.shape, shape]);
}

function checkLabels(op: string, y: T.NDArray, m: T.NDArray, classes: number): void {
  const labels = y.flat(), kept = m.flat();
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (kept[i] !== 0 && !(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new RangeError(`${op}: label ${v} at unmasked element ${indexOf(i, y.shape)} is not an integer in [0, ${classes}); mask it (mask, maskValue or ignoreIndex) or fix the data`);
    }
  }
}

function readClassWeights(op: string, input: readonly number[] | MaskInput, classes: number, dtype: T.DType): T.NDArray {
  const w = readArray(op, "classWeights", input as MaskInput, dtype);
  if (w.rank !== 1 || w.size !== classes) throw new T.ShapeError(op, `classWeights must hold one weight per class (${classes})`, [w.shape]);
  const values = w.flat();
  for (let c = 0; c < classes; c++) {
    if (!(values[c]! >= 0 && values[c]! < Infinity)) throw new RangeError(`${op}: classWeights must be finite and ≥ 0, found ${values[c]} for class ${c}`);
  }
  return expandTo(op, "classWeights", w, [classes]);
}
