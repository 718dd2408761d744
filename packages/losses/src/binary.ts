import { Tensor, add, clip, log, mul, neg, softplus, sub } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { boolean, custom, number } from "@zerograd/tensor";
import { type LossOptionsFor, defineLoss } from "./define.js";
import { fusedBceFromLogits } from "./fused.js";
import { type MaskInput, checkUnitInterval, expandTo, indexOf, readArray } from "./inputs.js";

/** Probabilities are clipped to [EPSILON, 1 − EPSILON] before the log, as Keras does. */
export const EPSILON = 1e-7;

const BCE_FIELDS = {
  /** The prediction holds logits (any real number) instead of probabilities. Default false. */
  fromLogits: boolean({ default: false }),
  /** Scales the positive term, as PyTorch's pos_weight: a number, or per label (broadcastable to ℓ). Default 1. */
  posWeight: custom<number | MaskInput>((v) => v as number | MaskInput),
  /** α in [0, 1]: targets become z·(1−α) + α/2. Masks are read from the raw targets. Default 0. */
  labelSmoothing: number({ min: 0, max: 1, default: 0 }),
};
export type BinaryCrossEntropyOptions = LossOptionsFor<typeof BCE_FIELDS, "binary">;

/**
 * Binary cross-entropy, elementwise (multi-label: every label is an element of ℓ):
 *
 *   ℓ = −[pw·z·log p + (1 − z)·log(1 − p)],   p = clip(prediction, 1e-7, 1 − 1e-7)
 *
 * and from logits x (p = σ(x)), with log σ(x) = −softplus(−x) and log(1 − σ(x)) = −softplus(x):
 *
 *   ℓ = (1 − z)·softplus(x) + pw·z·softplus(−x),   softplus(t) = max(t, 0) + log1p(e^−|t|)
 *
 * a sum of two non-negative terms, so nothing cancels (for pw = 1 it is max(x, 0) − x·z +
 * log1p(e^−|x|)). Unmasked targets must lie in [0, 1], and so must unmasked predictions without
 * `fromLogits`. Then masks, weights, groups and the reduction apply as in {@link reduceLoss}.
 * From logits in float32, a fused kernel computes the same value and gradient in one pass each
 * (`fused: false` forces the composed definition below).
 *
 * @example
 * // Two labels per sample; −1 marks a missing label. Mean over the three labels that exist.
 * const logits = tensor([[2, -1], [0.5, 3]], { requiresGrad: true });
 * const loss = binaryCrossEntropy(logits, [[1, -1], [0, 1]], { fromLogits: true, maskValue: -1 });
 * loss.backward(); // logits.grad[0][1] === 0
 */
export const binaryCrossEntropy = defineLoss({
  name: "binaryCrossEntropy", target: "binary", metric: "binaryAccuracy",
  options: BCE_FIELDS,
  logits: (o) => o.fromLogits,
  safePrediction: (o) => (o.fromLogits ? 0 : 0.5),
  check(op, x, z, keep, o) {
    checkUnitInterval(op, "target", z, keep, "");
    if (!o.fromLogits) checkUnitInterval(op, "prediction", x, keep, " (probabilities are expected; for logits pass fromLogits: true)");
    readPosWeight(op, o.posWeight, x.shape, x.dtype);
  },
  elementwise({ op, x, z, options: o }) {
    const alpha = o.labelSmoothing;
    const zs = alpha === 0 ? z : add(mul(z, 1 - alpha), alpha / 2);
    const pw = readPosWeight(op, o.posWeight, x.shape, x.dtype);
    return o.fromLogits ? bceFromLogits(x, zs, pw) : bceFromProbabilities(x, zs, pw);
  },
  fused: (inputs) => (inputs.options.fromLogits ? fusedBceFromLogits(inputs, readPosWeight(inputs.op, inputs.options.posWeight, inputs.x.shape, inputs.x.dtype)) : null),
  fusedChecks: true, // its kernel flags a kept target outside [0, 1]
});

/** −[pw·z·log p + (1 − z)·log(1 − p)] on clipped probabilities. */
function bceFromProbabilities(prediction: Tensor, z: Tensor, pw: Tensor | number): Tensor {
  const p = clip(prediction, EPSILON, 1 - EPSILON);
  return neg(add(mul(mul(z, pw), log(p)), mul(sub(1, z), log(sub(1, p)))));
}

/** (1 − z)·softplus(x) + pw·z·softplus(−x): both terms ≥ 0, so float32 keeps its precision everywhere. */
function bceFromLogits(x: Tensor, z: Tensor, pw: Tensor | number): Tensor {
  return add(mul(sub(1, z), softplus(x)), mul(pw === 1 ? z : mul(z, pw), softplus(neg(x))));
}

/** posWeight as 1 (absent), a number, or a tensor of ℓ's shape; each entry finite and ≥ 0. */
export function readPosWeight(op: string, input: number | MaskInput | undefined, shape: T.Shape, dtype: T.DType): Tensor | number {
  if (input === undefined) return 1;
  if (typeof input === "number") {
    if (!(input >= 0 && input < Infinity)) throw new RangeError(`${op}: posWeight must be finite and ≥ 0, got ${input}`);
    return input;
  }
  const pw = expandTo(op, "posWeight", readArray(op, "posWeight", input, dtype), shape);
  const values = pw.flat();
  for (let i = 0; i < values.length; i++) {
    if (!(values[i]! >= 0 && values[i]! < Infinity)) throw new RangeError(`${op}: posWeight must be finite and ≥ 0, found ${values[i]} at ${indexOf(i, shape)}`);
  }
  return new Tensor(pw);
}
