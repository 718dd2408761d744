import { add, mul, softplus, sub } from "@zerograd/autograd";
import { defineLoss } from "@zerograd/losses";
import { number } from "@zerograd/tensor";

/**
 * A loss written by a user with defineLoss, exactly as the package README shows: the masked
 * log-cosh error, log cosh(d) = d + softplus(−2d) − log 2 (stable for large |d|; its gradient is
 * tanh d). The contract suite runs over it like over the built-in losses.
 */
export const logCosh = defineLoss({
  name: "logCosh",
  target: "values", // same shape as the prediction, any finite number
  metric: "mae", // what fit() reports for it by default
  options: { scale: number({ min: 0, minExclusive: true, default: 1 }) }, // its own options
  elementwise: ({ x, z, options }) => {
    // x, z: masked positions already replaced by safe values; return ℓ (finite where unmasked)
    const d = mul(sub(x, z), options.scale);
    return sub(add(d, softplus(mul(d, -2))), Math.LN2);
  },
});
