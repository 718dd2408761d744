/**
 * fit()/evaluate(): the mask a model's output carries (a sequence model's [N, T] mask, see
 * sequence/mask.ts) is ANDed into that output's loss, with the loss's own `mask`, `maskValue`
 * and `ignoreIndex` (which the loss combines with AND itself).
 */
import type { Tensor } from "@zerograd/autograd";
import { NDArray } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";
import { maskOf } from "../sequence/mask.js";

/**
 * Adds the prediction's mask to `options.mask` (in place): reshaped to [N, T, 1, …] so that it
 * broadcasts over the elementwise loss of rank `lossRank`, and ANDed with a mask already there.
 * Does nothing when the prediction carries no mask.
 */
export function andOutputMask(prediction: Tensor, options: Record<string, unknown>, lossRank: number): void {
  const mask = maskOf(prediction);
  if (!mask) return;
  const m = T.reshape(mask.value, [...mask.shape, ...new Array<number>(Math.max(0, lossRank - mask.rank)).fill(1)]);
  const given = options.mask;
  if (given === undefined || given === null) {
    options.mask = m;
    return;
  }
  const g = given instanceof NDArray ? given : (given as { value?: unknown }).value instanceof NDArray ? (given as Tensor).value : T.array(given);
  options.mask = T.logicalAnd(m, g);
}
