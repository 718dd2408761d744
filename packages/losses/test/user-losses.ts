import { add, mul, softplus, sub } from "@zerograd/autograd";
import { defineLoss } from "@zerograd/losses";

/**
 * A loss written by a user with defineLoss, exactly as the README shows: the masked log-cosh
 * error, log cosh(d) = d + softplus(−2d) − log 2 (stable for large |d|; its gradient is tanh d).
 * The contract suite runs over it like over the built-in losses.
 */
export const logCosh = defineLoss({
  name: "logCosh",
  target: "values",
  metric: "mae",
  elementwise: ({ x, z }) => {
    const d = sub(x, z);
    return sub(add(d, softplus(mul(d, -2))), Math.LN2);
  },
});
