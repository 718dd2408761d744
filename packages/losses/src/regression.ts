import { Tensor, abs, add, minimum, mul, square, sub } from "@zerograd/autograd";
import { type TargetInput, checkFiniteWhereKept, checkNumber, checkOptions, checkPrediction, checkSameShape, targetTensor } from "./inputs.js";
import { keepUnmasked, notEqualTo, resolveMask } from "./masks.js";
import { LOSS_OPTION_KEYS, type LossOptions, reduceLoss } from "./reduce.js";

export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta?: number;
}

/** Shared by the regression losses: ℓ = f(prediction − target) on sanitised inputs, then reduceLoss. */
function regression(op: string, prediction: Tensor, target: TargetInput, options: LossOptions, extraKeys: readonly string[], f: (d: Tensor) => Tensor): Tensor {
  checkOptions(op, options, [...LOSS_OPTION_KEYS, ...extraKeys]);
  const x = checkPrediction(op, prediction);
  const z = targetTensor(op, target, x.dtype);
  checkSameShape(op, x, z);
  const m = resolveMask(op, x.shape, options.mask, [options.maskValue === undefined ? undefined : notEqualTo(z.value, options.maskValue)], x.dtype);
  checkFiniteWhereKept(op, "target", z.value, m);
  const kept = new Tensor(m);
  return reduceLoss(op, f(sub(keepUnmasked(kept, x, 0), keepUnmasked(kept, z, 0))), m, options);
}

/**
 * Mean squared error: ℓ = (prediction − target)².
 *
 * @example
 * // Padded sequences: targets equal to 0 are padding and do not count.
 * const y = tensor([[0.5, 1.5, 9], [2, 7, 7]], { requiresGrad: true });
 * meanSquaredError(y, [[1, 2, 0], [2, 0, 0]], { maskValue: 0 }); // (0.25 + 0.25 + 0) / 3
 */
export function meanSquaredError(prediction: Tensor, target: TargetInput, options: LossOptions = {}): Tensor {
  return regression("meanSquaredError", prediction, target, options, [], square);
}

/**
 * Mean absolute error: ℓ = |prediction − target| (gradient 0 where they are equal, as PyTorch).
 *
 * @example
 * const y = tensor([1, 5, 3], { requiresGrad: true });
 * meanAbsoluteError(y, [2, NaN, 1], { maskValue: NaN }); // (1 + 2) / 2
 */
export function meanAbsoluteError(prediction: Tensor, target: TargetInput, options: LossOptions = {}): Tensor {
  return regression("meanAbsoluteError", prediction, target, options, [], abs);
}

/**
 * Huber loss with threshold δ (default 1), d = prediction − target:
 *
 *   ℓ = ½d² for |d| ≤ δ,   δ·(|d| − ½δ) otherwise
 *
 * composed as q = min(|d|, δ), ℓ = ½q² + δ·(|d| − q), which is exactly that and whose gradient
 * is continuous at |d| = δ. Keras's Huber and PyTorch's HuberLoss use the same formula.
 *
 * @example
 * const y = tensor([0.5, 3], { requiresGrad: true });
 * huber(y, [0, 0]); // (0.125 + (3 − 0.5)) / 2
 */
export function huber(prediction: Tensor, target: TargetInput, options: HuberOptions = {}): Tensor {
  const op = "huber";
  const delta = checkNumber(op, "delta", options.delta ?? 1, (d) => d > 0 && d < Infinity, "finite and > 0");
  return regression(op, prediction, target, options, ["delta"], (d) => {
    const a = abs(d);
    const q = minimum(a, delta);
    return add(mul(square(q), 0.5), mul(sub(a, q), delta));
  });
}
