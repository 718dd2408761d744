/**
 * A loss declared once. `defineLoss` takes what is particular to a loss — its name, its options,
 * what its target holds (which fixes the class axis and how `maskValue` reads), its elementwise
 * function and its default metric — and runs everything the losses share from that: the option
 * check, the input checks, mask resolution, the sanitise → compute → select "double where" and
 * the reduction. nn reads the declaration (`loss.spec`) instead of recognising functions.
 */
import { Tensor } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { type Field, type OptionSchema, type OptionsOf, type ParsedOf, boolean, custom, defineOptions, integer } from "@zerograd/tensor";
import { type MaskInput, type TargetInput, checkFiniteWhereKept, checkLabels, checkPrediction, checkSameShape, readLabels, targetTensor } from "./inputs.js";
import { keepUnmasked, notEqualTo, resolveMask, rowNotAll } from "./masks.js";
import { type LossOptions, REDUCTIONS, lossCoefficients, reduceLoss } from "./reduce.js";

/**
 * What the target holds:
 * - `"values"`: the prediction's shape, any finite number (regression);
 * - `"binary"`: the prediction's shape, in [0, 1] (classWeight = [weight of 0, weight of 1]);
 * - `"oneHot"`: the prediction's shape, one-hot or soft along the class axis (option `axis`);
 * - `"labels"`: integer class labels, the prediction's shape without the class axis (options
 *   `axis` and `ignoreIndex`).
 * For the last two, ℓ has the prediction's shape without the class axis.
 */
export type TargetKind = "values" | "binary" | "oneHot" | "labels";

/** The metric `"accuracy"` (or a default metric) stands for, for a loss of this kind. */
export type MetricName = "binaryAccuracy" | "categoricalAccuracy" | "sparseAccuracy" | "mae" | "mse";

type Fields = Record<string, Field<any, boolean>>;

/** An input read later by readArray (masks, weights, group ids): only its presence is checked here. */
const arrayInput = <V>() => custom<V>((v) => v as V);
/** Any number, NaN and ±Infinity included (a sentinel). */
export const sentinelNumber = () =>
  custom<number>((v, op, key) => {
    if (typeof v !== "number") throw new TypeError(`${op}: ${key} must be a number, got ${T.describeValue(v)}`);
    return v;
  });

/** The options every loss takes (see {@link LossOptions}). */
export const LOSS_FIELDS = {
  mask: arrayInput<MaskInput>(),
  maskValue: sentinelNumber(),
  weights: arrayInput<MaskInput>(),
  reduction: custom<LossOptions["reduction"] & string>((v, op) => {
    if (!REDUCTIONS.includes(v as never)) throw new RangeError(`${op}: reduction must be one of ${REDUCTIONS.join(", ")}, got ${T.describeValue(v)}`);
    return v as LossOptions["reduction"] & string;
  }),
  groups: arrayInput<MaskInput>(),
  groupWeights: arrayInput<NonNullable<LossOptions["groupWeights"]>>(),
};
const CLASS_FIELDS = { axis: integer() };
const LABEL_FIELDS = { axis: integer(), ignoreIndex: sentinelNumber() };
/** `fused: false` forces the composed definition (no effect for a loss without a fused kernel). */
const FUSED_FIELDS = { fused: boolean({ default: true }) };

type KindFields<K extends TargetKind> = K extends "labels" ? typeof LABEL_FIELDS : K extends "oneHot" ? typeof CLASS_FIELDS : {};
type AllFields<F extends Fields, K extends TargetKind> = typeof LOSS_FIELDS & KindFields<K> & F & typeof FUSED_FIELDS;
/** The options bag a loss defined with these fields accepts. */
export type LossOptionsFor<F extends Fields, K extends TargetKind> = OptionsOf<OptionSchema<AllFields<F, K>>>;

/** What the elementwise function receives: inputs already checked, masked and sanitised. */
export interface LossInputs<O> {
  readonly op: string;
  /** The prediction with masked positions replaced by the definition's safe value. */
  readonly x: Tensor;
  /** The target with masked positions replaced by 0 (labels: class 0). */
  readonly z: Tensor;
  /** m over ℓ: 1 where the element exists. */
  readonly mask: T.NDArray;
  /** The class axis (normalised) and its size; −1 and 1 for elementwise kinds. */
  readonly axis: number;
  readonly classes: number;
  readonly options: O;
}

/** What a fused kernel receives: the raw inputs, the mask and reduceLoss's coefficients. */
export interface FusedInputs<O> {
  readonly op: string;
  readonly x: Tensor;
  /** The raw target (masked positions may hold anything: select them away). */
  readonly z: T.NDArray;
  readonly mask: T.NDArray;
  readonly options: O;
  /** reduceLoss's coefficients cᵢ (0 wherever m is 0) and the reduction. */
  coefficients(denominatorScale?: T.NDArray): ReturnType<typeof lossCoefficients>;
  /** The composed definition, as a function of the prediction (for gradients of gradients). */
  readonly composed: (x: Tensor) => Tensor;
  /**
   * The input checks (throwing the loss's errors). With `fusedChecks: true` the kernel calls it
   * when its own pass finds a kept value out of range; otherwise the checks have run before
   * `fused` was called, and it does nothing.
   */
  readonly validate: () => void;
}

export interface LossDefinition<F extends Fields, K extends TargetKind, O = ParsedOf<AllFields<F, K>>> {
  readonly name: string;
  readonly target: K;
  /** The loss's own options (the shared ones, and `axis`/`ignoreIndex` for class kinds, are added). */
  readonly options?: F;
  /** What `"accuracy"` means for this loss (none: "accuracy" is refused). */
  readonly metric?: MetricName;
  /** Whether the prediction holds logits, given the options (default: no); metrics read it (binaryAccuracy compares σ(x)). */
  readonly logits?: (options: O) => boolean;
  /** The value masked predictions are replaced with before ℓ (default 0); ℓ must be finite there. */
  readonly safePrediction?: (options: O) => number;
  /** Extra checks of the raw inputs; `keep` is the mask broadcastable to the prediction. */
  readonly check?: (op: string, x: T.NDArray, z: T.NDArray, keep: T.NDArray, options: O) => void;
  /** ℓ from sanitised inputs (finite wherever m is 1), or ℓ with reduceLoss's denominator scale. */
  readonly elementwise: (inputs: LossInputs<O>) => Tensor | { loss: Tensor; denominatorScale?: T.NDArray };
  /** An optional fused kernel beside the definition; return null to decline (the composed path runs). */
  readonly fused?: (inputs: FusedInputs<O>) => Tensor | null;
  /** The fused kernel checks the inputs in its own pass and calls `validate()` when it finds a bad one (default: no, they are checked first). */
  readonly fusedChecks?: boolean;
}

/** What a loss declares, for nn and for tools: read from `loss.spec`. */
export interface LossDeclaration {
  readonly name: string;
  readonly target: TargetKind;
  readonly metric: MetricName | undefined;
  /** The option names the loss accepts. */
  readonly options: readonly string[];
  /** Whether the prediction holds logits under these (valid) loss options. */
  readonly logits: (options: object) => boolean;
}

/** A loss made by defineLoss: the function, and its declaration as `spec`. */
export type Loss<O> = ((prediction: Tensor, target: TargetInput, options?: O) => Tensor) & { readonly spec: LossDeclaration };

/**
 * Declares a loss; see the package README ("Adding a loss") for a worked example.
 *
 * @example
 * const logCosh = defineLoss({
 *   name: "logCosh", target: "values", metric: "mae",
 *   elementwise: ({ x, z }) => { const d = sub(x, z); return sub(add(d, softplus(mul(d, -2))), Math.LN2); },
 * });
 * logCosh(prediction, target, { maskValue: NaN, reduction: "sum" });
 */
export function defineLoss<K extends TargetKind, F extends Fields = {}>(def: LossDefinition<F, K>): Loss<LossOptionsFor<F, K>> {
  const kindFields = def.target === "labels" ? LABEL_FIELDS : def.target === "oneHot" ? CLASS_FIELDS : def.target === "values" || def.target === "binary" ? {} : null;
  if (!kindFields) throw new TypeError(`defineLoss: target must be "values", "binary", "oneHot" or "labels", got ${T.describeValue(def.target)}`);
  const shared = Object.keys({ ...LOSS_FIELDS, ...kindFields, ...FUSED_FIELDS });
  const clash = Object.keys(def.options ?? {}).find((k) => shared.includes(k));
  if (clash) throw new TypeError(`defineLoss: ${def.name} declares the option "${clash}", which every ${def.target} loss already takes`);
  const schema = defineOptions({ ...LOSS_FIELDS, ...kindFields, ...def.options, ...FUSED_FIELDS } as unknown as AllFields<F, K>);
  type O = ParsedOf<AllFields<F, K>>;
  const op = def.name;
  const loss = (prediction: Tensor, target: TargetInput, options?: unknown): Tensor => {
    const o = schema.parse(op, options) as O;
    const x = checkPrediction(op, prediction);
    const t = readTarget(op, def.target, x, target, o as ClassOptions);
    const m = resolveMask(op, t.lossShape, (o as LossOptions).mask, t.sentinels, x.dtype);
    const keep = t.axis >= 0 ? T.expandDims(m, t.axis) : m; // broadcasts along the class axis
    const validate = () => {
      if (def.target === "labels") checkLabels(op, t.z.value, m, t.classes);
      else checkFiniteWhereKept(op, "target", t.z.value, keep);
      def.check?.(op, x.value, t.z.value, keep, o);
    };

    const composed = (xIn: Tensor): Tensor => {
      const kept = new Tensor(keep);
      const xs = keepUnmasked(kept, xIn, def.safePrediction?.(o) ?? 0);
      const zs = def.target === "labels" ? new Tensor(T.where(m, t.z.value, 0)) : keepUnmasked(kept, t.z, 0);
      const r = def.elementwise({ op, x: xs, z: zs, mask: m, axis: t.axis, classes: t.classes, options: o });
      return r instanceof Tensor ? reduceLoss(op, r, m, o as LossOptions) : reduceLoss(op, r.loss, m, o as LossOptions, r.denominatorScale);
    };
    if (def.fused && (o as { fused: boolean }).fused && !t.z.requiresGrad) {
      const coefficients = (scale?: T.NDArray) => lossCoefficients(op, t.lossShape, m, o as LossOptions, scale);
      if (!def.fusedChecks) validate();
      const out = def.fused({ op, x, z: t.z.value, mask: m, options: o, coefficients, composed, validate: def.fusedChecks ? validate : () => {} });
      if (out) return out;
      if (!def.fusedChecks) return composed(x);
    }
    validate();
    return composed(x);
  };
  const logits = (options: object) => def.logits?.(schema.parse(op, options) as O) ?? false;
  const spec: LossDeclaration = Object.freeze({ name: def.name, target: def.target, metric: def.metric, options: schema.keys, logits });
  return Object.assign(loss, { spec }) as Loss<LossOptionsFor<F, K>>;
}

interface ClassOptions { axis?: number; maskValue?: number; ignoreIndex?: number }

/** The target read by kind: as a Tensor, the shape of ℓ, the class axis and the masks it implies. */
function readTarget(op: string, kind: TargetKind, x: Tensor, target: TargetInput, o: ClassOptions) {
  const sentinel = (y: T.NDArray, v: number | undefined) => (v === undefined ? undefined : notEqualTo(y, v));
  if (kind === "values" || kind === "binary") {
    const z = targetTensor(op, target, x.dtype);
    checkSameShape(op, x, z);
    return { z, lossShape: x.shape, axis: -1, classes: 1, sentinels: [sentinel(z.value, o.maskValue)] };
  }
  const axis = T.normAxis(op, o.axis ?? -1, x.rank);
  const classes = x.shape[axis]!;
  if (classes < 1) throw new T.ShapeError(op, `the class axis ${axis} is empty`, [x.shape]);
  const lossShape = x.shape.filter((_, i) => i !== axis);
  if (kind === "oneHot") {
    const z = targetTensor(op, target, x.dtype);
    checkSameShape(op, x, z);
    return { z, lossShape, axis, classes, sentinels: [o.maskValue === undefined ? undefined : rowNotAll(z.value, o.maskValue, axis)] };
  }
  const y = readLabels(op, target, x.shape, axis, x.dtype);
  return { z: new Tensor(y), lossShape, axis, classes, sentinels: [sentinel(y, o.maskValue), sentinel(y, o.ignoreIndex)] };
}

/** The declaration of a loss made by defineLoss (or given one with {@link wrapLoss}); undefined otherwise. */
export function lossDeclaration(loss: unknown): LossDeclaration | undefined {
  const spec = typeof loss === "function" ? (loss as { spec?: unknown }).spec : undefined;
  return typeof spec === "object" && spec !== null && typeof (spec as LossDeclaration).target === "string" ? (spec as LossDeclaration) : undefined;
}

/**
 * A hand-written loss that calls `base` (e.g. with some options fixed), declared like `base`, so
 * that fit() keeps classWeight and the "accuracy" metric for it.
 *
 * @example
 * const smoothedBce = wrapLoss(binaryCrossEntropy, (p, t, o) => binaryCrossEntropy(p, t, { ...o, labelSmoothing: 0.1 }));
 */
export function wrapLoss<O, W extends (prediction: Tensor, target: TargetInput, options?: O) => Tensor>(base: Loss<O>, loss: W): W & { readonly spec: LossDeclaration } {
  if (!lossDeclaration(base)) throw new TypeError("wrapLoss: the base must be a loss made by defineLoss");
  if (typeof loss !== "function") throw new TypeError(`wrapLoss: the wrapper must be a function, got ${T.describeValue(loss)}`);
  return Object.assign((prediction: Tensor, target: TargetInput, options?: O) => loss(prediction, target, options), { spec: base.spec }) as never;
}
