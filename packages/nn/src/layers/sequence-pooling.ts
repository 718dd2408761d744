/**
 * Masked global pooling over the steps of [N, T, F]: the mean or max over the unmasked steps
 * only, giving [N, F]. A sequence with no step left gives 0 (not NaN), and its gradient is 0.
 */
import { Tensor, div, max, sum, where } from "@zerograd/autograd";
import { ShapeError } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";
import { Module } from "../module.js";
import { type MaskArg, type MaskingLayer, featureMask, resolveMask, withMask } from "../sequence/mask.js";

function checkInput(op: string, x: Tensor): void {
  if (x.rank !== 3) throw new ShapeError(op, "input must be [N, T, F]", [x.shape]);
}

/** Mean over the real steps: Σ m·x / max(Σ m, 1) (a count of 0 gives 0/1 = 0). */
export function maskedMean(x: Tensor, mask: Tensor | null): Tensor {
  checkInput("maskedMean", x);
  if (!mask) return div(sum(x, { axis: 1 }), x.shape[1]!);
  const m = featureMask(mask);
  const count = new Tensor(T.maximum(T.sum(m.value, { axis: 1 }), 1));
  return div(sum(where(m, x, 0), { axis: 1 }), count);
}

/** Max over the real steps; masked steps read −∞ and a row with no real step gives 0. */
export function maskedMax(x: Tensor, mask: Tensor | null): Tensor {
  checkInput("maskedMax", x);
  if (!mask) return max(x, { axis: 1 });
  const m = featureMask(mask);
  const any = new Tensor(T.gt(T.sum(m.value, { axis: 1 }), 0));
  return where(any, max(where(m, x, -Infinity), { axis: 1 }), 0);
}

/** Global pooling over the real steps with `reduce`; its output has no steps, so no mask. */
abstract class MaskedPooling1D extends Module<[Tensor, MaskArg?]> implements MaskingLayer {
  readonly supportsMasking = true;
  protected abstract readonly reduce: (x: Tensor, mask: Tensor | null) => Tensor;
  forward(x: Tensor, options: MaskArg = {}): Tensor {
    checkInput(this.constructor.name, x);
    return withMask(this.reduce(x, resolveMask(this.constructor.name, x, options)), null);
  }
  computeMask(): null {
    return null;
  }
}

/** Keras's GlobalAveragePooling1D with masks: [N, T, F] → [N, F]. */
export class GlobalAveragePooling1D extends MaskedPooling1D {
  protected readonly reduce = maskedMean;
}

/** Keras's GlobalMaxPooling1D with masks: [N, T, F] → [N, F]. */
export class GlobalMaxPooling1D extends MaskedPooling1D {
  protected readonly reduce = maskedMax;
}
