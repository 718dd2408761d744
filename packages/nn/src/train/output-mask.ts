/**
 * fit()/evaluate(): the mask a model's output carries (a sequence model's [N, T] mask, see
 * sequence/mask.ts) is ANDed into that output's loss and metrics, with the loss's own `mask`,
 * `maskValue` and `ignoreIndex` (which the loss combines with AND itself). Logs, validation and
 * evaluate() work on saved predictions: the output's mask is saved with them (`Predictions`)
 * and put back on the prediction (`predictionTensor`) before the loss sees it.
 */
import { Tensor } from "@zerograd/autograd";
import { NDArray } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";
import { maskOf, withMask } from "../sequence/mask.js";

/** A model's outputs for every row of a table, by output name, with the mask each one carried (absent: no mask). */
export interface Predictions {
  values: Record<string, NDArray>;
  masks: Record<string, NDArray>;
}

/**
 * `mask` ([N, T]) reshaped to [N, T, 1, …] of rank `rank`, so that it broadcasts over an
 * elementwise loss or metric of that rank, and ANDed with `given` (a mask option) if there is one.
 */
export function andMask(mask: NDArray, given: unknown, rank: number): NDArray {
  const m = T.reshape(mask, [...mask.shape, ...new Array<number>(Math.max(0, rank - mask.rank)).fill(1)]);
  if (given === undefined || given === null) return m;
  const g = given instanceof NDArray ? given : (given as { value?: unknown }).value instanceof NDArray ? (given as Tensor).value : T.array(given as never);
  return T.logicalAnd(m, g);
}

/**
 * Adds the prediction's mask to `options.mask` (in place): reshaped to [N, T, 1, …] so that it
 * broadcasts over the elementwise loss of rank `lossRank`, and ANDed with a mask already there.
 * Does nothing when the prediction carries no mask.
 */
export function andOutputMask(prediction: Tensor, options: Record<string, unknown>, lossRank: number): void {
  const mask = maskOf(prediction);
  if (mask) options.mask = andMask(mask.value, options.mask, lossRank);
}

/** A saved prediction as a Tensor carrying its saved mask (if any). */
export function predictionTensor(value: NDArray, mask: NDArray | undefined): Tensor {
  const t = new Tensor(value);
  return mask ? withMask(t, new Tensor(mask)) : t;
}
