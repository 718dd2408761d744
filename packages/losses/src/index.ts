/**
 * @zerograd/losses — masked, weighted and grouped losses whose gradients at masked positions are
 * exactly 0, whatever the predictions or targets hold there. Every loss is declared once with
 * defineLoss: it builds an elementwise loss ℓ from sanitised inputs, and the definition runs the
 * checks, the masks and the one place that reduces (reduceLoss).
 */
import type { Tensor } from "@zerograd/autograd";
import type { TargetInput } from "./inputs.js";
import type { LossOptions } from "./reduce.js";

export type { MaskInput, TargetInput, Nested } from "./inputs.js";
export { type LossOptions, type Reduction, reduceLoss } from "./reduce.js";
export { maskFromSentinel, maskFromPadding, maskFromNaN, maskAnd, maskOr, maskNot, validCount, resolveMask, keepUnmasked } from "./masks.js";
export { defineLoss, wrapLoss, lossDeclaration, type Loss, type LossDeclaration, type LossDefinition, type LossInputs, type FusedInputs, type LossOptionsFor, type TargetKind, type MetricName } from "./define.js";
export { binaryCrossEntropy, type BinaryCrossEntropyOptions, EPSILON } from "./binary.js";
export { categoricalCrossEntropy, sparseCategoricalCrossEntropy, type CategoricalCrossEntropyOptions, type SparseCategoricalCrossEntropyOptions } from "./categorical.js";
export { meanSquaredError, meanAbsoluteError, huber, type HuberOptions } from "./regression.js";
export * from "./metrics.js";
export { inverseLossWeights } from "./weights.js";

/**
 * Any loss of this package (or one written like them): (prediction, target, options) → a scalar
 * Tensor (or ℓ's shape with reduction 'none'). Declared as a method so that each loss, with its
 * own narrower options type, can be passed where a LossFn is expected.
 */
export type LossFn = {
  loss(prediction: Tensor, target: TargetInput, options?: LossOptions & Record<string, unknown>): Tensor;
}["loss"];
