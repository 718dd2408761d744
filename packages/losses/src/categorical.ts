import { Tensor, add, clip, log, logSoftmax, mul, neg, reshape, sum, take, transpose } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { boolean, custom, number } from "@zerograd/tensor";
import { EPSILON } from "./binary.js";
import { type LossOptionsFor, defineLoss } from "./define.js";
import { fusedSparseCrossEntropy } from "./fused.js";
import { type MaskInput, expandTo, readArray } from "./inputs.js";

const CE_FIELDS = {
  /** The prediction holds logits instead of probabilities. Default false. */
  fromLogits: boolean({ default: false }),
  /** α in [0, 1]: targets become z·(1−α) + α/C. Default 0. */
  labelSmoothing: number({ min: 0, max: 1, default: 0 }),
};
const SPARSE_FIELDS = {
  ...CE_FIELDS,
  /** One non-negative weight per class (PyTorch's `weight`); 'weightedMean' then divides by Σ m·w·w_class[y]. */
  classWeights: custom<readonly number[] | MaskInput>((v) => v as MaskInput),
};
/** Options of categoricalCrossEntropy; `axis` is the class axis (default −1), ℓ has the prediction's shape without it. */
export type CategoricalCrossEntropyOptions = LossOptionsFor<typeof CE_FIELDS, "oneHot">;
/** Options of sparseCategoricalCrossEntropy; `ignoreIndex` masks labels equal to it, as PyTorch's ignore_index. */
export type SparseCategoricalCrossEntropyOptions = LossOptionsFor<typeof SPARSE_FIELDS, "labels">;

/** log p along the class axis from sanitised predictions: logSoftmax of logits, or the log of clipped probabilities. */
function logProbabilities(prediction: Tensor, axis: number, fromLogits: boolean): Tensor {
  return fromLogits ? logSoftmax(prediction, axis) : log(clip(prediction, EPSILON, 1 - EPSILON));
}
const safePrediction = (o: { fromLogits: boolean }) => (o.fromLogits ? 0 : 0.5);

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
export const categoricalCrossEntropy = defineLoss({
  name: "categoricalCrossEntropy", target: "oneHot", metric: "categoricalAccuracy",
  options: CE_FIELDS,
  logits: (o) => o.fromLogits,
  safePrediction,
  elementwise({ x, z, axis, classes, options: o }) {
    const zs = o.labelSmoothing === 0 ? z : add(mul(z, 1 - o.labelSmoothing), o.labelSmoothing / classes);
    return neg(sum(mul(zs, logProbabilities(x, axis, o.fromLogits)), { axis }));
  },
});

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
export const sparseCategoricalCrossEntropy = defineLoss({
  name: "sparseCategoricalCrossEntropy", target: "labels", metric: "sparseAccuracy",
  options: SPARSE_FIELDS,
  logits: (o) => o.fromLogits,
  safePrediction,
  elementwise({ op, x, z, mask, axis, classes, options: o }) {
    const { classWeights, wLabel } = labelWeights(op, o.classWeights, z.value, classes, x.dtype);
    const logp = logProbabilities(x, axis, o.fromLogits);
    const nll = neg(pickClass(logp, z.value, axis));
    let loss = wLabel ? mul(nll, new Tensor(wLabel)) : nll;
    const alpha = o.labelSmoothing;
    if (alpha > 0) {
      const perClass = classWeights ? mul(logp, new Tensor(T.reshape(classWeights, x.shape.map((d, i) => (i === axis ? d : 1))))) : logp;
      loss = add(mul(loss, 1 - alpha), mul(neg(sum(perClass, { axis })), alpha / classes));
    }
    return { loss, denominatorScale: wLabel };
  },
  fused(inputs) {
    const { op, x, z, mask, options: o } = inputs;
    if (!o.fromLogits) return null;
    const axis = T.normAxis(op, o.axis ?? -1, x.rank);
    const { classWeights, wLabel } = labelWeights(op, o.classWeights, T.where(mask, T.reshape(z, mask.shape), 0), x.shape[axis]!, x.dtype);
    return fusedSparseCrossEntropy(inputs, axis, classWeights, wLabel);
  },
});

/** Class weights (one per class) and w_y, the weight of each row's (sanitised) label; undefined without classWeights. */
function labelWeights(op: string, input: readonly number[] | MaskInput | undefined, labels: T.NDArray, classes: number, dtype: T.DType) {
  if (input === undefined) return { classWeights: undefined, wLabel: undefined };
  const classWeights = readClassWeights(op, input, classes, dtype);
  return { classWeights, wLabel: T.reshape(T.take(classWeights, T.reshape(labels, [-1]), 0), labels.shape) };
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

function readClassWeights(op: string, input: readonly number[] | MaskInput, classes: number, dtype: T.DType): T.NDArray {
  const w = readArray(op, "classWeights", input as MaskInput, dtype);
  if (w.rank !== 1 || w.size !== classes) throw new T.ShapeError(op, `classWeights must hold one weight per class (${classes})`, [w.shape]);
  const values = w.flat();
  for (let c = 0; c < classes; c++) {
    if (!(values[c]! >= 0 && values[c]! < Infinity)) throw new RangeError(`${op}: classWeights must be finite and ≥ 0, found ${values[c]} for class ${c}`);
  }
  return expandTo(op, "classWeights", w, [classes]);
}
