/**
 * The loss contract as data: random cases (shapes, masks in several forms, weights, groups,
 * reductions, loss options) built from a seed, with the effective mask M known to the test
 * independently of the implementation. Used by the property tests.
 */
import { NDArray, Random, Tensor, gradients, tensor } from "@zerograd/autograd";
import fc from "fast-check";
import * as L from "@zerograd/losses";
import { logCosh } from "./user-losses.js";

export type Kind = "elementwise" | "categorical" | "sparse";
export type LossName = "binaryCrossEntropy" | "categoricalCrossEntropy" | "sparseCategoricalCrossEntropy" | "meanSquaredError" | "meanAbsoluteError" | "huber" | "logCosh";
export type MaskForm = "none" | "mask" | "maskValue" | "maskValueNaN" | "ignoreIndex" | "both";
export type Reduction = "mean" | "weightedMean" | "sum" | "none";

export const KIND: Record<LossName, Kind> = {
  binaryCrossEntropy: "elementwise",
  meanSquaredError: "elementwise",
  meanAbsoluteError: "elementwise",
  huber: "elementwise",
  logCosh: "elementwise", // defined with defineLoss in user-losses.ts, as a user would
  categoricalCrossEntropy: "categorical",
  sparseCategoricalCrossEntropy: "sparse",
};

export const LOSSES = Object.keys(KIND) as LossName[];
export const REDUCTIONS: Reduction[] = ["mean", "weightedMean", "sum", "none"];
export const MASK_FORMS: Record<Kind, MaskForm[]> = {
  elementwise: ["none", "mask", "maskValue", "maskValueNaN", "both"],
  categorical: ["none", "mask", "maskValue", "maskValueNaN", "both"],
  sparse: ["none", "mask", "maskValue", "maskValueNaN", "ignoreIndex", "both"],
};

type AnyLoss = (p: Tensor, t: L.TargetInput, o?: Record<string, unknown>) => Tensor;
export const lossFn = (name: LossName): AnyLoss => (name === "logCosh" ? logCosh : L[name]) as unknown as AnyLoss;

export interface Params {
  loss: LossName;
  dims: number[]; // the prediction's shape (rank 1–3)
  classAxis: number; // for categorical kinds: which axis of dims holds the classes
  seed: number;
  maskForm: MaskForm;
  density: "empty" | "full" | "random";
  maskRepr: "tensor" | "booleans" | "numbers" | "typed";
  maskBroadcast: boolean;
  weights: "none" | "full" | "broadcast";
  groups: "none" | "array" | "record" | "default";
  reduction: Reduction;
  targetRepr: "tensor" | "ndarray" | "nested";
  fromLogits: boolean;
  labelSmoothing: number;
  posWeight: "none" | "scalar" | "perLabel";
  classWeights: boolean;
  delta: number;
}

export interface Case {
  params: Params;
  kind: Kind;
  predShape: number[];
  lossShape: number[];
  targetShape: number[];
  axis: number; // normalised class axis (categorical kinds)
  classes: number;
  pred: Float64Array;
  target: Float64Array;
  keep: Uint8Array; // M over ℓ, flat: 1 = the element exists
  sentinelKept: Uint8Array; // the part of M that comes from targets (sentinels): poison may not touch those
  weightsFull: Float64Array | null; // weights broadcast to ℓ
  groupOf: number[] | null; // group id per sample (axis 0 of ℓ)
  posWeightFull: Float64Array | null;
  options: Record<string, unknown>;
  seedGrad: Float64Array; // an upstream gradient for reduction 'none'
}

// ---------------------------------------------------------------------------------------------
// Plain-JS shape helpers (independent of the implementation under test).

export const sizeOf = (s: readonly number[]) => s.reduce((n, d) => n * d, 1);

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % shape[a]!;
    i = Math.floor(i / shape[a]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let a = 0; a < shape.length; a++) i = i * shape[a]! + idx[a]!;
  return i;
}

/** values of `from` (NumPy-broadcastable to `to`) broadcast to `to`, flat. */
export function broadcastFlat(values: ArrayLike<number>, from: readonly number[], to: readonly number[]): Float64Array {
  const out = new Float64Array(sizeOf(to));
  const lead = to.length - from.length;
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, to).slice(lead).map((k, a) => (from[a] === 1 ? 0 : k));
    out[i] = values[ravel(idx, from)]!;
  }
  return out;
}

/** Nested arrays from flat values (for inputs given as plain arrays). */
export function nest<V>(flat: ArrayLike<V>, shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const step = sizeOf(shape.slice(1));
  return Array.from({ length: shape[0]! }, (_, i) => nest(Array.from({ length: step }, (_, j) => flat[i * step + j]!), shape.slice(1)));
}

/** A random shape that broadcasts to `shape`: some axes set to 1, maybe leading axes dropped. */
function broadcastableShape(rng: Random, shape: readonly number[]): number[] {
  const drop = shape.length > 0 ? rng.int(shape.length + 1) : 0;
  return shape.slice(drop).map((d) => (rng.next() < 0.4 ? 1 : d));
}

// ---------------------------------------------------------------------------------------------
// The arbitrary.

export function paramsArb(losses: readonly LossName[], maxDim = 4): fc.Arbitrary<Params> {
  return fc.constantFrom(...losses).chain((loss) =>
    fc.record({
      loss: fc.constant(loss),
      dims: fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: 3 }),
      classAxis: fc.integer({ min: 0, max: 2 }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      maskForm: fc.constantFrom(...MASK_FORMS[KIND[loss]]),
      density: fc.constantFrom<Params["density"]>("empty", "full", ...Array<"random">(6).fill("random")),
      maskRepr: fc.constantFrom("tensor", "booleans", "numbers", "typed"),
      maskBroadcast: fc.boolean(),
      weights: fc.constantFrom("none", "full", "broadcast"),
      groups: fc.constantFrom("none", "array", "record", "default"),
      reduction: fc.constantFrom(...REDUCTIONS),
      targetRepr: fc.constantFrom("tensor", "ndarray", "nested"),
      fromLogits: fc.boolean(),
      labelSmoothing: fc.constantFrom(0, 0, 0.1, 0.3),
      posWeight: fc.constantFrom("none", "scalar", "perLabel"),
      classWeights: fc.boolean(),
      delta: fc.constantFrom(0.5, 1, 2),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Building a case.

const uniform = (rng: Random, lo: number, hi: number) => lo + (hi - lo) * rng.next();

export function buildCase(params: Params): Case {
  const kind = KIND[params.loss];
  const rng = new Random(params.seed);
  const predShape = [...params.dims];
  const axis = kind === "elementwise" ? -1 : params.classAxis % predShape.length;
  const classes = axis >= 0 ? predShape[axis]! : 1;
  const lossShape = kind === "elementwise" ? predShape : predShape.filter((_, i) => i !== axis);
  const targetShape = kind === "sparse" ? lossShape : predShape;
  const nLoss = sizeOf(lossShape);

  // M1 (explicit mask) and M2 (from sentinels), over ℓ.
  const draw = (p: number) => (params.density === "empty" ? 0 : params.density === "full" ? 1 : rng.next() < p ? 1 : 0);
  const form = params.maskForm;
  const usesMask = form === "mask" || form === "both";
  const usesSentinel = form !== "none" && form !== "mask";
  const maskShape = usesMask && params.maskBroadcast ? broadcastableShape(rng, lossShape) : lossShape;
  const maskValues = Array.from({ length: sizeOf(maskShape) }, () => (usesMask ? draw(0.6) : 1));
  const m1 = broadcastFlat(maskValues, maskShape, lossShape);
  const m2 = Float64Array.from({ length: nLoss }, () => (usesSentinel ? (form === "both" ? (rng.next() < 0.75 ? 1 : 0) : draw(0.6)) : 1));
  const keep = Uint8Array.from(m1, (v, i) => v * m2[i]!);
  const sentinel = form === "maskValueNaN" ? NaN : form === "ignoreIndex" || (form === "both" && kind === "sparse") ? -100 : kind === "categorical" ? 0 : -1;

  // Clean predictions and targets.
  const { pred, target } = cleanData(params, kind, rng, predShape, lossShape, axis, classes);
  // Plant sentinels where M2 = 0.
  for (let i = 0; i < nLoss; i++) {
    if (m2[i]) continue;
    if (kind === "categorical") for (const j of rowEntries(i, lossShape, predShape, axis)) target[j] = sentinel;
    else target[i] = sentinel;
  }

  const options: Record<string, unknown> = { reduction: params.reduction };
  if (usesMask) options.mask = maskInput(params.maskRepr, maskValues, maskShape);
  if (usesSentinel) {
    if (form === "ignoreIndex") options.ignoreIndex = sentinel;
    else if (form === "both" && kind === "sparse") options.ignoreIndex = sentinel;
    else options.maskValue = sentinel;
  }

  let weightsFull: Float64Array | null = null;
  if (params.weights !== "none") {
    const shape = params.weights === "full" ? lossShape : broadcastableShape(rng, lossShape);
    const values = Array.from({ length: sizeOf(shape) }, () => (rng.next() < 0.1 ? 0 : uniform(rng, 0.2, 2)));
    weightsFull = broadcastFlat(values, shape, lossShape);
    options.weights = rng.next() < 0.5 ? nest(values, shape) : new Tensor(new NDArray(Float64Array.from(values), shape));
  }

  let groupOf: number[] | null = null;
  if (params.groups !== "none" && lossShape.length > 0) {
    groupOf = Array.from({ length: lossShape[0]! }, () => rng.int(3));
    options.groups = rng.next() < 0.5 ? groupOf : Int32Array.from(groupOf);
    const gw = [uniform(rng, 0.3, 2), uniform(rng, 0.3, 2), uniform(rng, 0.3, 2)];
    if (params.groups === "array") options.groupWeights = gw;
    if (params.groups === "record") options.groupWeights = { 0: gw[0], 1: gw[1], 2: gw[2] };
  }

  let posWeightFull: Float64Array | null = null;
  if (params.loss === "binaryCrossEntropy") {
    if (params.fromLogits) options.fromLogits = true;
    if (params.labelSmoothing) options.labelSmoothing = params.labelSmoothing;
    if (params.posWeight === "scalar") {
      options.posWeight = 2.5;
      posWeightFull = new Float64Array(nLoss).fill(2.5);
    } else if (params.posWeight === "perLabel") {
      const labels = lossShape[lossShape.length - 1]!;
      const values = Array.from({ length: labels }, () => uniform(rng, 0.5, 3));
      options.posWeight = values;
      posWeightFull = broadcastFlat(values, [labels], lossShape);
    }
  }
  if (kind !== "elementwise") {
    if (params.fromLogits) options.fromLogits = true;
    if (params.labelSmoothing) options.labelSmoothing = params.labelSmoothing;
    options.axis = rng.next() < 0.5 ? axis : axis - predShape.length;
  }
  if (kind === "sparse" && params.classWeights) options.classWeights = Array.from({ length: classes }, () => uniform(rng, 0.2, 2));
  if (params.loss === "huber") options.delta = params.delta;

  return {
    params, kind, predShape, lossShape, targetShape, axis, classes, pred, target, keep,
    sentinelKept: Uint8Array.from(m2), weightsFull, groupOf, posWeightFull, options,
    seedGrad: Float64Array.from({ length: nLoss }, () => uniform(rng, -1, 1)),
  };
}

/** Flat indices into the prediction of the class entries of ℓ element i. */
export function rowEntries(i: number, lossShape: readonly number[], predShape: readonly number[], axis: number): number[] {
  const idx = unravel(i, lossShape);
  return Array.from({ length: predShape[axis]! }, (_, c) => ravel([...idx.slice(0, axis), c, ...idx.slice(axis)], predShape));
}

function cleanData(params: Params, kind: Kind, rng: Random, predShape: number[], lossShape: number[], axis: number, classes: number) {
  const n = sizeOf(predShape);
  const pred = new Float64Array(n);
  const logits = params.fromLogits;
  // Probabilities stay inside [0.05, 0.95], away from the clip bounds (a kink for gradcheck).
  for (let i = 0; i < n; i++) pred[i] = logits ? uniform(rng, -3, 3) : uniform(rng, 0.05, 0.95);
  if (kind === "sparse") return { pred, target: Float64Array.from({ length: sizeOf(lossShape) }, () => rng.int(classes)) };
  const target = new Float64Array(n);
  if (kind === "categorical") {
    for (let i = 0; i < sizeOf(lossShape); i++) {
      const entries = rowEntries(i, lossShape, predShape, axis);
      if (rng.next() < 0.5) {
        const hot = rng.int(classes);
        entries.forEach((j, c) => (target[j] = c === hot ? 1 : 0));
      } else {
        const raw = entries.map(() => uniform(rng, 0.1, 1));
        const total = raw.reduce((s, v) => s + v, 0);
        entries.forEach((j, c) => (target[j] = raw[c]! / total));
      }
    }
    return { pred, target };
  }
  for (let i = 0; i < n; i++) {
    if (params.loss === "binaryCrossEntropy") target[i] = rng.next() < 0.5 ? (rng.next() < 0.5 ? 0 : 1) : uniform(rng, 0, 1);
    else if (params.loss === "meanSquaredError") {
      pred[i] = uniform(rng, -3, 3);
      target[i] = uniform(rng, -3, 3);
    } else {
      // MAE and huber: keep |d| away from the kinks at 0 and at δ.
      pred[i] = uniform(rng, -3, 3);
      const delta = params.loss === "huber" ? params.delta : 0;
      const magnitude = rng.next() < 0.5 && delta > 0.1 ? uniform(rng, 0.05, delta - 0.05) : uniform(rng, delta + 0.05, delta + 3);
      target[i] = pred[i]! + (rng.next() < 0.5 ? -magnitude : magnitude);
    }
  }
  return { pred, target };
}

function maskInput(repr: Params["maskRepr"], values: number[], shape: number[]): unknown {
  if (repr === "tensor") return tensor(values, { shape });
  if (repr === "booleans") return nest(values.map((v) => v === 1), shape);
  if (repr === "typed" && shape.length === 1) return Uint8Array.from(values);
  return nest(values, shape);
}

// ---------------------------------------------------------------------------------------------
// Running a case.

export const POISON = [0, 1, Infinity, -Infinity, NaN, 1e30, -1e30];
export const TARGET_POISON = [NaN, Infinity, -Infinity, 1e30, -7, 0.5, 3.5, -100];

/** The same case with every masked prediction (and target/weight where allowed) replaced by poison. */
export function poisoned(c: Case, seed: number): Case {
  const rng = new Random(seed);
  const pick = (xs: readonly number[]) => xs[rng.int(xs.length)]!;
  const pred = Float64Array.from(c.pred), target = Float64Array.from(c.target);
  const options = { ...c.options };
  for (let i = 0; i < c.keep.length; i++) {
    if (c.keep[i]) continue;
    const predEntries = c.kind === "elementwise" ? [i] : rowEntries(i, c.lossShape, c.predShape, c.axis);
    for (const j of predEntries) pred[j] = pick(POISON);
    if (!c.sentinelKept[i]) continue; // masked by a sentinel: the target must keep it
    if (c.kind === "categorical") for (const j of predEntries) target[j] = pick(TARGET_POISON);
    else target[i] = pick(TARGET_POISON);
  }
  if (c.params.weights === "full" && c.weightsFull) {
    const w = Float64Array.from(c.weightsFull, (v, i) => (c.keep[i] ? v : pick([NaN, -1, Infinity])));
    options.weights = new Tensor(new NDArray(w, c.lossShape));
  }
  return { ...c, pred, target, options };
}

export function targetInput(c: Case): L.TargetInput {
  const values = Float64Array.from(c.target);
  if (c.params.targetRepr === "tensor") return new Tensor(new NDArray(values, c.targetShape));
  if (c.params.targetRepr === "ndarray") return new NDArray(values, c.targetShape);
  return nest(Array.from(values), c.targetShape) as L.TargetInput;
}

export interface Outcome {
  value: Float64Array;
  grad: Float64Array;
}

/** Runs the loss in float64 and returns its value(s) and the gradient with respect to the prediction. */
export function run(c: Case, options: Record<string, unknown> = c.options): Outcome {
  const p = new Tensor(new NDArray(Float64Array.from(c.pred), c.predShape), true);
  const out = lossFn(c.params.loss)(p, targetInput(c), options);
  const seed = options.reduction === "none" ? new NDArray(Float64Array.from(c.seedGrad), out.shape) : undefined;
  const [g] = gradients(out, [p], { seed });
  return { value: out.value.copyData("float64") as Float64Array, grad: g!.value.copyData("float64") as Float64Array };
}

/** true when |a − b| ≤ tol·(1 + |b|) elementwise, or both are the same non-finite value. */
export function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-9): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    if (!(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)))) return false;
  }
  return true;
}

export function describe(c: Case): string {
  return JSON.stringify({ ...c.params, predShape: c.predShape, keep: Array.from(c.keep) });
}
