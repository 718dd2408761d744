/**
 * What fit() and evaluate() are told about the outputs — one loss (with its options), loss
 * weight, metrics and class weights per output — resolved once into a plan, and the functions
 * that turn a plan, predictions and a table of data into losses and logs.
 *
 * Missing labels are the losses' business: each output's loss masks its own missing labels
 * (`maskValue`, `ignoreIndex`, `mask`), and a batch with no label for an output gives that
 * output a loss of exactly 0 with a zero gradient. The total loss is Σ lossWeight · loss.
 */
import { Tensor, noGrad } from "@zerograd/autograd";
import {
  type LossFn,
  type MetricStats,
  type LossDeclaration,
  accuracyStats,
  binaryAccuracyStats,
  lossDeclaration,
  meanAbsoluteErrorStats,
  meanSquaredErrorStats,
  sparseAccuracyStats,
} from "@zerograd/losses";
import * as T from "@zerograd/tensor";
import { NDArray, ShapeError } from "@zerograd/tensor";
import { type ArrayInput, type Data, type Table, checkRows, isArrayInput, readInputs, toNDArray } from "./data.js";
import { type Predictions, andMask, andOutputMask, predictionTensor } from "./output-mask.js";

/** A loss function, or one with fixed options: `{ loss: sparseCategoricalCrossEntropy, options: { fromLogits: true, ignoreIndex: -1 } }`. */
export type LossSpec = LossFn | { loss: LossFn; options?: Record<string, unknown> };

/** A custom metric over plain arrays; return a number or `{ value, count }` (count = how many elements it averaged). */
export type MetricFn = (prediction: NDArray, target: NDArray, options: Record<string, unknown>) => MetricStats | number;

/**
 * A metric by name — "accuracy" picks the accuracy the output's loss declares (defineLoss's
 * `metric`: sparse, categorical or binary) — or a custom one. Metrics are masked with the loss's own masking
 * options (mask, maskValue, ignoreIndex), so missing labels never count.
 */
export type MetricSpec = "accuracy" | "sparseAccuracy" | "categoricalAccuracy" | "binaryAccuracy" | "mae" | "mse" | { name: string; fn: MetricFn; options?: Record<string, unknown> };

/** Group weights: by group id (an array indexed by id, or a record). */
export type GroupWeights = readonly number[] | Readonly<Record<number, number>>;

/** What fit() and evaluate() share: how each output is scored. */
export interface CompileOptions {
  /** One loss for a single-output model, or one per output name. */
  loss: LossSpec | Record<string, LossSpec>;
  /** Per output name (default 1 each): total = Σ lossWeights[o] · loss[o]. */
  lossWeights?: Record<string, number>;
  metrics?: readonly MetricSpec[] | Record<string, readonly MetricSpec[]>;
  /** Keras' class_weight: a weight per class, multiplying each sample's weight by its label's class weight (read by the loss's declared target kind: labels, oneHot or binary). */
  classWeight?: readonly number[] | Record<string, readonly number[]>;
  /**
   * With `data.groups`: the weight of each group id, for every output or per output name.
   * Default: equal weights summing to 1 over the group ids present — in fit(), those of the
   * training and validation data together (a group seen only in validation still has a weight
   * for val_loss); in evaluate(), those of the evaluated data. Given weights must cover every id.
   */
  groupWeights?: GroupWeights | Record<string, GroupWeights>;
}

interface ResolvedMetric {
  name: string;
  /** `outputMask`: the mask the model's output carried, shaped like the output's loss (see andMask), or null. */
  compute: (prediction: NDArray, table: Table, outputMask: NDArray | null) => MetricStats;
}

/** One output, resolved. `name` is "" for a single-output model. */
export interface OutputPlan {
  name: string;
  loss: LossFn;
  /** The loss options that are the same for every batch. */
  options: Record<string, unknown>;
  weight: number;
  metrics: ResolvedMetric[];
  classWeight: readonly number[] | null;
}

export interface Plan {
  /** The model returns one Tensor (true) or a record of them. */
  single: boolean;
  outputs: OutputPlan[];
}

/** Keys of loss options that may hold one value per sample (sliced with the batch when they have n rows). */
const PER_SAMPLE_KEYS = ["mask", "weights", "groups"] as const;

/** `{ loss, options }` (one output) rather than a record of losses by output name. */
function isSpecRecord(loss: CompileOptions["loss"]): loss is Record<string, LossSpec> {
  if (typeof loss !== "object" || loss === null) return false;
  const keys = Object.keys(loss);
  const single = typeof (loss as { loss?: unknown }).loss === "function" && keys.every((k) => k === "loss" || k === "options");
  return !single;
}

function resolveSpec(op: string, name: string, spec: LossSpec): { loss: LossFn; options: Record<string, unknown> } {
  if (typeof spec === "function") return { loss: spec, options: {} };
  if (typeof spec === "object" && spec !== null && typeof spec.loss === "function") return { loss: spec.loss, options: { ...(spec.options ?? {}) } };
  throw new TypeError(`${op}: the loss${name ? ` for output "${name}"` : ""} must be a loss function or { loss, options }`);
}

function perOutput<V>(op: string, what: string, value: V | Record<string, V> | undefined, names: string[], isShared: (v: unknown) => boolean): Record<string, V | undefined> {
  if (value === undefined) return {};
  if (isShared(value)) return Object.fromEntries(names.map((n) => [n, value as V]));
  const record = value as Record<string, V>;
  for (const key of Object.keys(record)) if (!names.includes(key)) throw new RangeError(`${op}: ${what} names the output "${key}", which has no loss (outputs: ${names.join(", ")})`);
  return record;
}

/** Resolves losses, loss weights, metrics and class weights into a plan. */
export function makePlan(op: string, compile: CompileOptions): Plan {
  if (compile.loss === undefined) throw new TypeError(`${op}: a loss is required`);
  const single = !isSpecRecord(compile.loss);
  const specs: Record<string, LossSpec> = single ? { "": compile.loss as LossSpec } : (compile.loss as Record<string, LossSpec>);
  const names = Object.keys(specs);
  if (names.length === 0) throw new RangeError(`${op}: loss is an empty record`);
  const lossWeights = compile.lossWeights ?? {};
  for (const [k, w] of Object.entries(lossWeights)) {
    if (!names.includes(k) || single) throw new RangeError(`${op}: lossWeights names "${k}", which is not an output with a loss (outputs: ${single ? "a single output" : names.join(", ")})`);
    if (!(w >= 0 && w < Infinity)) throw new RangeError(`${op}: lossWeights["${k}"] must be finite and ≥ 0, got ${w}`);
  }
  const metrics = perOutput(op, "metrics", compile.metrics, names, (v) => Array.isArray(v));
  const classWeights = perOutput(op, "classWeight", compile.classWeight, names, (v) => Array.isArray(v));
  return {
    single,
    outputs: names.map((name) => {
      const { loss, options } = resolveSpec(op, name, specs[name]!);
      const classWeight = classWeights[name] ?? null;
      if (classWeight && !classWeight.every((w) => w >= 0 && w < Infinity)) throw new RangeError(`${op}: classWeight${name ? ` for "${name}"` : ""} must be finite and ≥ 0`);
      const out: OutputPlan = { name, loss, options, weight: lossWeights[name] ?? 1, metrics: [], classWeight };
      out.metrics = (metrics[name] ?? []).map((m) => resolveMetric(op, out, m));
      return out;
    }),
  };
}

/** Log names: "loss", "accuracy" for a single output; "digit_loss", "digit_accuracy" for output "digit". */
export function logName(output: OutputPlan, what: string): string {
  return output.name ? `${output.name}_${what}` : what;
}

// ---------------------------------------------------------------------------------------------
// Tables

/**
 * Reads data into a table. With `perSampleOptions`, loss options (mask, weights, groups) whose
 * axis 0 has n entries are taken out of the plan and sliced with the batches from then on.
 */
export function buildTable(op: string, plan: Plan, data: Data, perSampleOptions: boolean, requireTargets = true): Table {
  if (typeof data !== "object" || data === null || data.x === undefined) throw new TypeError(`${op}: data must be { x, y }`);
  const { x, n } = readInputs(op, data.x);
  const y: Record<string, NDArray> = {};
  if (data.y !== undefined) {
    if (plan.single) {
      if (!isArrayInput(data.y)) throw new TypeError(`${op}: y must be one array for a model with one loss`);
      y[""] = toNDArray(op, "y", data.y);
    } else {
      if (isArrayInput(data.y)) throw new TypeError(`${op}: y must be a record of arrays by output name (${plan.outputs.map((o) => o.name).join(", ")})`);
      for (const [k, v] of Object.entries(data.y)) {
        if (!plan.outputs.some((o) => o.name === k)) throw new RangeError(`${op}: y names "${k}", which has no loss (outputs: ${plan.outputs.map((o) => o.name).join(", ")})`);
        y[k] = toNDArray(op, `y.${k}`, v);
      }
    }
  }
  for (const o of plan.outputs) {
    if (y[o.name] === undefined) {
      if (requireTargets) throw new RangeError(`${op}: no targets for ${o.name ? `output "${o.name}"` : "the output"} (y${o.name ? `.${o.name}` : ""} is missing)`);
      continue;
    }
    checkRows(op, `y${o.name ? `.${o.name}` : ""}`, y[o.name]!, n);
  }
  const sampleWeight: Record<string, NDArray> = {};
  if (data.sampleWeight !== undefined) {
    const shared = isArrayInput(data.sampleWeight);
    for (const o of plan.outputs) {
      const w = (shared ? data.sampleWeight : (data.sampleWeight as Record<string, ArrayInput>)[o.name]) as ArrayInput | undefined;
      if (w === undefined) continue;
      const a = toNDArray(op, "sampleWeight", w);
      if (a.rank !== 1 || a.shape[0] !== n) throw new ShapeError(op, `sampleWeight must hold one weight per sample ([${n}])`, [a.shape]);
      sampleWeight[o.name] = a;
    }
  }
  let groups: NDArray | null = null;
  if (data.groups !== undefined) {
    groups = toNDArray(op, "groups", data.groups);
    if (groups.rank !== 1 || groups.shape[0] !== n) throw new ShapeError(op, `groups must hold one integer id per sample ([${n}])`, [groups.shape]);
    for (const g of groups.flat()) if (!Number.isInteger(g)) throw new RangeError(`${op}: group ids must be integers, found ${g}`);
  }
  const options: Record<string, Record<string, NDArray>> = {};
  for (const o of plan.outputs) {
    options[o.name] = {};
    if (!perSampleOptions) continue;
    for (const key of PER_SAMPLE_KEYS) {
      const v = o.options[key];
      if (v === undefined) continue;
      const a = toNDArray(op, `${key} option${o.name ? ` of "${o.name}"` : ""}`, v as never);
      if (a.rank >= 1 && a.shape[0] === n) {
        options[o.name]![key] = a;
        delete o.options[key];
      }
    }
  }
  return { n, x, y, sampleWeight, groups, options };
}

/** The distinct group ids of a table, sorted. */
export function groupIds(t: Table): number[] {
  if (!t.groups) return [];
  return [...new Set(t.groups.flat())].sort((a, b) => a - b);
}

/**
 * Equal weights summing to 1 over `ids`, or the given weights, as a record by id. `origin(id)`
 * says where an id comes from, for the error when a given weight is missing.
 */
export function initialGroupWeights(op: string, plan: Plan, compile: CompileOptions, ids: number[], origin?: (id: number) => string): Record<string, Record<number, number>> {
  const out: Record<string, Record<number, number>> = {};
  if (ids.length === 0) {
    if (compile.groupWeights !== undefined) throw new TypeError(`${op}: groupWeights needs data.groups (an id per sample)`);
    return out;
  }
  const names = plan.outputs.map((o) => o.name);
  const given = perOutput<GroupWeights>(op, "groupWeights", compile.groupWeights, names, (v) => Array.isArray(v) || names.every((n) => !Object.hasOwn(v as object, n)));
  for (const name of names) {
    const g = given[name];
    const record: Record<number, number> = {};
    for (const id of ids) {
      const w = g === undefined ? 1 / ids.length : Array.isArray(g) ? g[id] : (g as Record<number, number>)[id];
      if (typeof w !== "number" || !(w >= 0 && w < Infinity)) throw new RangeError(`${op}: groupWeights has no finite weight ≥ 0 for group ${id}${origin ? ` (${origin(id)})` : ""}`);
      record[id] = w;
    }
    out[name] = record;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Losses

/** What the output's loss declares about its target (undefined for a function not made by defineLoss). */
const targetKind = (output: OutputPlan): LossDeclaration["target"] | undefined => lossDeclaration(output.loss)?.target;

/** The rank of the elementwise loss ℓ: the prediction's without the class axis for losses over classes, the target's otherwise. */
function lossRank(output: OutputPlan, prediction: Tensor, target: NDArray): number {
  const kind = targetKind(output);
  return kind === "oneHot" || kind === "labels" ? prediction.rank - 1 : target.rank;
}

/** Per-element weights from class weights: w = classWeight[label] (sparse), Σ_c z_c·w_c (one-hot), z·w₁ + (1 − z)·w₀ (binary). */
function classWeightsFor(op: string, output: OutputPlan, cw: readonly number[], target: NDArray, rank: number, prediction: Tensor): NDArray {
  const z = target.flat();
  const kind = targetKind(output);
  if (kind === "labels") {
    const classes = prediction.shape[T.normAxis(op, (output.options.axis as number | undefined) ?? -1, prediction.rank)]!;
    if (classes !== cw.length) throw new ShapeError(op, `classWeight has ${cw.length} weights for ${classes} classes`, [prediction.shape]);
    const out = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) out[i] = Number.isInteger(z[i]) && z[i]! >= 0 && z[i]! < cw.length ? cw[z[i]!]! : 1; // masked or invalid labels: the loss decides
    return new NDArray(out, target.shape.slice(0, rank)); // labels [n] or Keras-style [n, 1]
  }
  if (kind === "oneHot") {
    const axis = T.normAxis(op, (output.options.axis as number | undefined) ?? -1, target.rank);
    const classes = target.shape[axis]!;
    if (classes !== cw.length) throw new ShapeError(op, `classWeight has ${cw.length} weights for ${classes} classes`, [target.shape]);
    const shape = target.shape.map((d, i) => (i === axis ? d : 1));
    const w = new NDArray(Float32Array.from(cw), shape);
    return T.sum(T.where(T.isNaN(target), 0, T.mul(target, w)), { axis });
  }
  if (kind === "binary") {
    if (cw.length !== 2) throw new RangeError(`${op}: classWeight for ${lossDeclaration(output.loss)!.name} must be [weight of 0, weight of 1], got ${cw.length} weights`);
    const out = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) out[i] = z[i]! * cw[1]! + (1 - z[i]!) * cw[0]!; // NaN for NaN (missing) labels: masked by the loss
    return new NDArray(out, target.shape);
  }
  throw new TypeError(`${op}: classWeight needs a classification loss (sparse or categorical cross-entropy, binary cross-entropy, or one declared with target "labels", "oneHot" or "binary" by defineLoss; wrapLoss gives a wrapper its base's declaration)`);
}

/** x reshaped to [n, 1, …, 1] of the given rank (a per-sample value broadcast over ℓ). */
function perSample(x: NDArray, rank: number): NDArray {
  return T.reshape(x, [x.shape[0]!, ...new Array<number>(Math.max(0, rank - 1)).fill(1)]);
}

/**
 * One output's loss on a table's rows: the plan's options, plus the table's per-sample options,
 * sample weights (× class weights) and groups with their weights.
 */
export function outputLoss(op: string, output: OutputPlan, prediction: Tensor, t: Table, groupWeights: Record<number, number> | undefined): Tensor {
  const target = t.y[output.name];
  if (!target) throw new RangeError(`${op}: no targets for ${output.name ? `output "${output.name}"` : "the output"}`);
  const options: Record<string, unknown> = { ...output.options, ...t.options[output.name] };
  const rank = lossRank(output, prediction, target);
  let weights: NDArray | null = null;
  const sw = t.sampleWeight[output.name];
  if (sw) weights = perSample(sw, rank);
  if (output.classWeight) {
    const cw = classWeightsFor(op, output, output.classWeight, target, rank, prediction);
    weights = weights ? T.mul(weights, cw) : cw;
  }
  if (weights) {
    const given = options.weights;
    options.weights = given === undefined ? weights : T.mul(weights, toNDArray(op, "weights option", given as never));
  }
  if (options.groups === undefined && t.groups) options.groups = t.groups;
  if (options.groups !== undefined && groupWeights) options.groupWeights = groupWeights;
  andOutputMask(prediction, options, rank);
  return output.loss(prediction, target, options);
}

/** Σ lossWeight · loss over the outputs, and each output's loss. */
export function totalLoss(op: string, plan: Plan, predictions: Record<string, Tensor>, t: Table, groupWeights: Record<string, Record<number, number>>): { total: Tensor; parts: Record<string, Tensor> } {
  const parts: Record<string, Tensor> = {};
  let total: Tensor | null = null;
  for (const o of plan.outputs) {
    const l = outputLoss(op, o, predictions[o.name]!, t, groupWeights[o.name]);
    parts[o.name] = l;
    const weighted = o.weight === 1 ? l : l.mul(o.weight);
    total = total ? total.add(weighted) : weighted;
  }
  return { total: total!, parts };
}

/** The model's output as a record by output name, checked against the plan. */
export function outputsOf(op: string, plan: Plan, out: unknown): Record<string, Tensor> {
  if (plan.single) {
    if (!(out instanceof Tensor)) throw new TypeError(`${op}: the model returned ${describe(out)}, but a single loss needs one Tensor (give a loss per output name for a model with several outputs)`);
    return { "": out };
  }
  if (typeof out !== "object" || out === null || out instanceof Tensor) throw new TypeError(`${op}: the model returned ${describe(out)}, but losses were given per output name: it must return a record of Tensors`);
  const record = out as Record<string, unknown>;
  for (const o of plan.outputs) {
    if (!(record[o.name] instanceof Tensor)) throw new RangeError(`${op}: the model's outputs have no Tensor "${o.name}" (it returned: ${Object.keys(record).join(", ")})`);
  }
  return record as Record<string, Tensor>;
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return `a Tensor ${T.fmtShape(v.shape)}`;
  if (v === null || v === undefined) return String(v);
  return typeof v === "object" ? `an object with keys ${Object.keys(v).join(", ")}` : typeof v;
}

// ---------------------------------------------------------------------------------------------
// Metrics and logs

/** The masking options of an output's loss, for its metrics: the loss's own idea of "missing", AND the output's mask. */
function maskOptions(output: OutputPlan, t: Table, outputMask: NDArray | null): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const given = t.options[output.name]?.mask ?? output.options.mask;
  const mask = outputMask ? andMask(outputMask, given, outputMask.rank) : given;
  if (mask !== undefined) o.mask = mask;
  if (output.options.maskValue !== undefined) o.maskValue = output.options.maskValue;
  return o;
}

function resolveMetric(op: string, output: OutputPlan, spec: MetricSpec): ResolvedMetric {
  const withIgnore = (t: Table, m: NDArray | null) => {
    const o = maskOptions(output, t, m);
    if (output.options.ignoreIndex !== undefined) o.ignoreIndex = output.options.ignoreIndex;
    if (output.options.axis !== undefined) o.axis = output.options.axis;
    return o;
  };
  const withAxis = (t: Table, m: NDArray | null) => {
    const o = maskOptions(output, t, m);
    if (output.options.axis !== undefined) o.axis = output.options.axis;
    return o;
  };
  const logits = lossDeclaration(output.loss)?.logits(output.options) ?? output.options.fromLogits === true;
  const withLogits = (t: Table, m: NDArray | null) => ({ ...maskOptions(output, t, m), ...(logits ? { fromLogits: true } : {}) });
  const target = (t: Table) => t.y[output.name]!;
  const sparse = { name: "sparseAccuracy", compute: (p: NDArray, t: Table, m: NDArray | null) => sparseAccuracyStats(p, target(t), withIgnore(t, m)) };
  const categorical = { name: "categoricalAccuracy", compute: (p: NDArray, t: Table, m: NDArray | null) => accuracyStats(p, target(t), withAxis(t, m)) };
  const binary = { name: "binaryAccuracy", compute: (p: NDArray, t: Table, m: NDArray | null) => binaryAccuracyStats(p, target(t), withLogits(t, m)) };
  if (typeof spec === "object" && spec !== null && typeof spec.fn === "function" && typeof spec.name === "string") {
    const fn = spec.fn;
    return {
      name: spec.name,
      compute: (p, t, m) => {
        const r = fn(p, target(t), { ...withIgnore(t, m), ...(spec.options ?? {}) });
        return typeof r === "number" ? { value: r, count: t.n } : r;
      },
    };
  }
  switch (spec) {
    case "accuracy": {
      const declared = lossDeclaration(output.loss)?.metric;
      const picked = declared === "sparseAccuracy" ? sparse : declared === "categoricalAccuracy" ? categorical : declared === "binaryAccuracy" ? binary : null;
      if (!picked) throw new RangeError(`${op}: "accuracy" needs a classification loss (one whose declaration names an accuracy as its metric: defineLoss's metric, or wrapLoss for a wrapper); name the metric ("sparseAccuracy", "categoricalAccuracy", "binaryAccuracy") or pass { name, fn }`);
      return { name: "accuracy", compute: picked.compute };
    }
    case "sparseAccuracy":
      return sparse;
    case "categoricalAccuracy":
      return categorical;
    case "binaryAccuracy":
      return binary;
    case "mae":
      return { name: "mae", compute: (p, t, m) => meanAbsoluteErrorStats(p, target(t), maskOptions(output, t, m)) };
    case "mse":
      return { name: "mse", compute: (p, t, m) => meanSquaredErrorStats(p, target(t), maskOptions(output, t, m)) };
    default:
      throw new RangeError(`${op}: unknown metric ${JSON.stringify(spec)}; expected accuracy, sparseAccuracy, categoricalAccuracy, binaryAccuracy, mae, mse or { name, fn }`);
  }
}

/**
 * Losses and metrics over a whole table at once, from predictions for all of its rows: exact
 * masked means over the table (not averages of batch averages), with each output's saved mask.
 * Keys get `prefix` ("val_").
 */
export function computeLogs(op: string, plan: Plan, predictions: Predictions, t: Table, groupWeights: Record<string, Record<number, number>>, prefix = ""): Record<string, number> {
  return noGrad(() => {
    const logs: Record<string, number> = {};
    const { values, masks } = predictions;
    const tensors = Object.fromEntries(plan.outputs.map((o) => [o.name, predictionTensor(values[o.name]!, masks[o.name])]));
    const { total, parts } = totalLoss(op, plan, tensors, t, groupWeights);
    logs[`${prefix}loss`] = total.item();
    if (!plan.single) for (const o of plan.outputs) logs[`${prefix}${logName(o, "loss")}`] = parts[o.name]!.item();
    for (const o of plan.outputs) {
      const mask = masks[o.name];
      const metricMask = mask ? andMask(mask, undefined, lossRank(o, tensors[o.name]!, t.y[o.name]!)) : null;
      for (const m of o.metrics) logs[`${prefix}${logName(o, m.name)}`] = m.compute(values[o.name]!, t, metricMask).value;
    }
    return logs;
  });
}

/** Per output, the loss within each group id alone (the group's weight set to 1, the others' to 0). */
export function groupLosses(op: string, plan: Plan, predictions: Predictions, t: Table, ids: readonly number[]): Record<string, number[]> {
  if (!t.groups) throw new RangeError(`${op}: per-group losses need groups (data.groups) in the validation data`);
  const present = new Set(t.groups.flat());
  for (const id of ids) if (!present.has(id)) throw new RangeError(`${op}: group ${id} has no sample in the validation data, so its loss is unknown`);
  return noGrad(() => {
    const out: Record<string, number[]> = {};
    for (const o of plan.outputs) {
      const prediction = predictionTensor(predictions.values[o.name]!, predictions.masks[o.name]);
      out[o.name] = ids.map((id) => outputLoss(op, o, prediction, t, Object.fromEntries(ids.map((g) => [g, g === id ? 1 : 0]))).item());
    }
    return out;
  });
}
