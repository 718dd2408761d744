import { Tensor, add, clip, log, mul, neg, softplus, sub } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { type MaskInput, type TargetInput, checkFiniteWhereKept, checkNumber, checkOptions, checkPrediction, checkSameShape, expandTo, indexOf, readArray, targetTensor } from "./inputs.js";
import { keepUnmasked, notEqualTo, resolveMask } from "./masks.js";
import { LOSS_OPTION_KEYS, type LossOptions, reduceLoss } from "./reduce.js";

/** Probabilities are clipped to [EPSILON, 1 − EPSILON] before the log, as Keras does. */
export const EPSILON = 1e-7;

export interface BinaryCrossEntropyOptions extends LossOptions {
  /** The prediction holds logits (any real number) instead of probabilities. Default false. */
  fromLogits?: boolean;
  /** Scales the positive term, as PyTorch's pos_weight: a number, or per label (broadcastable to ℓ). Default 1. */
  posWeight?: number | MaskInput;
  /** α in [0, 1]: targets become z·(1−α) + α/2. Masks are read from the raw targets. Default 0. */
  labelSmoothing?: number;
}

/**
 * Binary cross-entropy, elementwise (multi-label: every label is an element of ℓ):
 *
 *   ℓ = −[pw·z·log p + (1 − z)·log(1 − p)],   p = clip(prediction, 1e-7, 1 − 1e-7)
 *
 * and from logits x (p = σ(x)), in a form that stays finite for any finite x:
 *
 *   ℓ = (1 − z)·x + (1 + (pw − 1)·z)·softplus(−x)
 *
 * which for pw = 1 is max(x, 0) − x·z + log1p(e^−|x|). Then masks, weights, groups and the
 * reduction apply as in {@link reduceLoss}.
 *
 * @example
 * // Two labels per sample; −1 marks a missing label. Mean over the three labels that exist.
 * const logits = tensor([[2, -1], [0.5, 3]], { requiresGrad: true });
 * const loss = binaryCrossEntropy(logits, [[1, -1], [0, 1]], { fromLogits: true, maskValue: -1 });
 * loss.backward(); // logits.grad[0][1] === 0
 */
export function binaryCrossEntropy(prediction: Tensor, target: TargetInput, options: BinaryCrossEntropyOptions = {}): Tensor {
  const op = "binaryCrossEntropy";
  checkOptions(op, options, [...LOSS_OPTION_KEYS, "fromLogits", "posWeight", "labelSmoothing"]);
  const x = checkPrediction(op, prediction);
  const z = targetTensor(op, target, x.dtype);
  checkSameShape(op, x, z);
  const m = resolveMask(op, x.shape, options.mask, [options.maskValue === undefined ? undefined : notEqualTo(z.value, options.maskValue)], x.dtype);
  checkFiniteWhereKept(op, "target", z.value, m);
  const alpha = checkNumber(op, "labelSmoothing", options.labelSmoothing ?? 0, (a) => a >= 0 && a <= 1, "in [0, 1]");
  const pw = readPosWeight(op, options.posWeight, x.shape, x.dtype);

  const kept = new Tensor(m);
  const zs = alpha === 0 ? keepUnmasked(kept, z, 0) : add(mul(keepUnmasked(kept, z, 0), 1 - alpha), alpha / 2);
  const loss = options.fromLogits ? bceFromLogits(keepUnmasked(kept, x, 0), zs, pw) : bceFromProbabilities(keepUnmasked(kept, x, 0.5), zs, pw);
  return reduceLoss(op, loss, m, options);
}

/** −[pw·z·log p + (1 − z)·log(1 − p)] on clipped probabilities. */
function bceFromProbabilities(prediction: Tensor, z: Tensor, pw: Tensor | number): Tensor {
  const p = clip(prediction, EPSILON, 1 - EPSILON);
  return neg(add(mul(mul(z, pw), log(p)), mul(sub(1, z), log(sub(1, p)))));
}

/**
 * From logits, with log σ(x) = −softplus(−x) and log(1 − σ(x)) = −softplus(x) = −x − softplus(−x):
 *   −[pw·z·log σ(x) + (1 − z)·log(1 − σ(x))] = (1 − z)·x + (1 + (pw − 1)·z)·softplus(−x).
 * softplus is computed as max(t, 0) + log1p(e^−|t|), so nothing overflows.
 */
function bceFromLogits(x: Tensor, z: Tensor, pw: Tensor | number): Tensor {
  const positiveScale = pw === 1 ? 1 : add(1, mul(sub(pw, 1), z));
  return add(mul(sub(1, z), x), mul(positiveScale, softplus(neg(x))));
}

function readPosWeight(op: string, input: number | MaskInput | undefined, shape: T.Shape, dtype: T.DType): Tensor | number {
  if (input === undefined) return 1;
  if (typeof input === "number") return checkNumber(op, "posWeight", input, (v) => v >= 0 && v < Infinity, "finite and ≥ 0");
  const pw = expandTo(op, "posWeight", readArray(op, "posWeight", input, dtype), shape);
  const values = pw.flat();
  for (let i = 0; i < values.length; i++) {
    if (!(values[i]! >= 0 && values[i]! < Infinity)) throw new RangeError(`${op}: posWeight must be finite and ≥ 0, found ${values[i]} at ${indexOf(i, shape)}`);
  }
  return new Tensor(pw);
}
