import { abs, add, minimum, mul, square, sub } from "@zerograd/autograd";
import { number } from "@zerograd/tensor";
import { type LossOptionsFor, defineLoss } from "./define.js";
import { fusedMeanSquaredError } from "./fused.js";

const HUBER_FIELDS = {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta: number({ min: 0, minExclusive: true, default: 1 }),
};
export type HuberOptions = LossOptionsFor<typeof HUBER_FIELDS, "values">;

/**
 * Mean squared error: ℓ = (prediction − target)².
 *
 * @example
 * // Padded sequences: targets equal to 0 are padding and do not count.
 * const y = tensor([[0.5, 1.5, 9], [2, 7, 7]], { requiresGrad: true });
 * meanSquaredError(y, [[1, 2, 0], [2, 0, 0]], { maskValue: 0 }); // (0.25 + 0.25 + 0) / 3
 */
export const meanSquaredError = defineLoss({
  name: "meanSquaredError", target: "values", metric: "mse",
  elementwise: ({ x, z }) => square(sub(x, z)),
  fused: fusedMeanSquaredError,
});

/**
 * Mean absolute error: ℓ = |prediction − target| (gradient 0 where they are equal, as PyTorch).
 *
 * @example
 * const y = tensor([1, 5, 3], { requiresGrad: true });
 * meanAbsoluteError(y, [2, NaN, 1], { maskValue: NaN }); // (1 + 2) / 2
 */
export const meanAbsoluteError = defineLoss({
  name: "meanAbsoluteError", target: "values", metric: "mae",
  elementwise: ({ x, z }) => abs(sub(x, z)),
});

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
export const huber = defineLoss({
  name: "huber", target: "values", metric: "mae",
  options: HUBER_FIELDS,
  elementwise({ x, z, options: { delta } }) {
    const a = abs(sub(x, z));
    const q = minimum(a, delta);
    return add(mul(square(q), 0.5), mul(sub(a, q), delta));
  },
});
