/**
 * The options of fit(), evaluate(), predict() and trainStep(), each declared once: the
 * declaration gives both the TypeScript type and the runtime check (see `defineOptions` in
 * @zerograd/tensor). An unknown key is a TypeError with a "did you mean …?" hint.
 */
import { type OptionsOf, type ParsedOf, boolean, custom, defineOptions, func, integer, number, oneOf } from "@zerograd/tensor";
import { type Require, given, isObject } from "./fields.js";
import { Optimizer } from "../optim/optimizer.js";
import type { TrainingCheckpoint } from "../serialize.js";
import type { Callback } from "./callbacks.js";
import type { Data } from "./data.js";
import type { CompileOptions } from "./spec.js";

/** Anything with an `aborted` flag: an AbortSignal, or a plain `{ aborted: boolean }`. */
export interface AbortSignalLike {
  readonly aborted: boolean;
}

/** How each output is scored: what fit() and evaluate() share (checked in depth by makePlan). */
const COMPILE = {
  /** One loss for a single-output model, or one per output name. */
  loss: given<CompileOptions["loss"]>("a loss function, { loss, options } or a record of them by output name", (v) => typeof v === "function" || isObject(v)),
  /** Per output name (default 1 each): total = Σ lossWeights[o] · loss[o]. */
  lossWeights: given<NonNullable<CompileOptions["lossWeights"]>>("a record of weights by output name", isObject),
  metrics: given<NonNullable<CompileOptions["metrics"]>>("a list of metrics or a record of them by output name", isObject),
  /** Keras' class_weight: a weight per class, multiplying each sample's weight by its label's class weight. */
  classWeight: given<NonNullable<CompileOptions["classWeight"]>>("a list of weights per class or a record of them by output name", isObject),
  /** With `data.groups`: the weight of each group id, for every output or per output name (see CompileOptions). */
  groupWeights: given<NonNullable<CompileOptions["groupWeights"]>>("group weights by id, or a record of them by output name", isObject),
};

/** Rows per forward pass (default 32). */
const batchSize = integer({ min: 1, default: 32 });

export const PREDICT_OPTIONS = defineOptions({ batchSize });
export type PredictOptions = OptionsOf<typeof PREDICT_OPTIONS>;

export const EVALUATE_OPTIONS = defineOptions({ ...COMPILE, batchSize });
export type EvaluateOptions = Require<OptionsOf<typeof EVALUATE_OPTIONS>, "loss">;

/** What one optimizer step does besides forward, backward and step (shared by fit and trainStep). */
const STEP = {
  /** Clip the gradients' global norm to this before each step. */
  clipGradNorm: number({ min: 0, minExclusive: true }),
  /** Clip every gradient element to ±this before each step. */
  clipGradValue: number({ min: 0, minExclusive: true }),
  /**
   * Run every forward and backward pass in @zerograd/autograd's anomaly mode: the first op whose
   * output (or gradient) turns non-finite is named, with its inputs and where it was created.
   * It slows training down: turn it on to find the cause of a NaN loss (default false).
   */
  detectAnomaly: boolean({ default: false }),
};

export const STEP_OPTIONS = defineOptions(STEP);
export type TrainStepOptions = OptionsOf<typeof STEP_OPTIONS>;

export const FIT_OPTIONS = defineOptions({
  ...COMPILE,
  ...STEP,
  /** The optimizer, built on this model's parameters (required). */
  optimizer: custom<Optimizer>((v, op) => {
    if (!(v instanceof Optimizer)) throw new TypeError(`${op}: options.optimizer must be an Optimizer (SGD, Adam, …)`);
    return v;
  }),
  /** Default 1. With `resume`, the total count: training continues up to this epoch. */
  epochs: integer({ min: 0, default: 1 }),
  batchSize,
  /** Shuffle the rows before each epoch (default true). */
  shuffle: boolean({ default: true }),
  /** Seeds the shuffling (default 0). */
  seed: number({ default: 0 }),
  /** Data to evaluate after each epoch (its logs are prefixed "val_"). */
  validationData: given<Data>("data { x, y }", isObject),
  /** Or hold out this fraction of the rows — the last ones, before any shuffling, as Keras. */
  validationSplit: number({ min: 0, max: 1, minExclusive: true, maxExclusive: true }),
  callbacks: given<readonly Callback[]>("a list of callbacks", Array.isArray),
  /** "auto" (default): a progress bar on a terminal, one line per epoch otherwise. */
  verbose: oneOf(["auto", "bar", "line", "silent"], { default: "auto" }),
  /**
   * Where progress text goes. Default: standard output where there is one (`process.stdout`),
   * else `console.log`; where neither exists, nothing is written.
   */
  write: func<(text: string) => void>(),
  /**
   * Drop the last batch of each epoch when it has fewer than batchSize rows (PyTorch's
   * DataLoader `drop_last`) — e.g. for BatchNormalization, which cannot train on one row.
   * With shuffling, different rows are left out each epoch; the epoch's logs cover the rows
   * trained on. Default false.
   */
  dropLast: boolean({ default: false }),
  /** Continue a run from a checkpoint (see modelCheckpoint and encodeCheckpoint). */
  resume: given<TrainingCheckpoint>("a checkpoint (see decodeCheckpoint)", isObject),
  /**
   * Stops training when it becomes aborted (an AbortSignal, or any `{ aborted }`): after the
   * whole step in progress, with the model consistent; fit() resolves to the history of the
   * completed epochs, and no further callback hook runs.
   */
  signal: given<AbortSignalLike>("an AbortSignal (an object with an `aborted` flag)", (v) => isObject(v) && typeof (v as AbortSignalLike).aborted === "boolean"),
  /**
   * Give the event loop a turn between batches once this many milliseconds have passed since
   * the last turn (0: after every batch; Infinity: never), so a page stays responsive while it
   * trains. Default: 30 where there is no `process` (browsers, workers, embedded engines),
   * Infinity in Node.
   */
  yieldEvery: number({ min: 0, infinite: true }),
});

/** fit()'s options: every key optional but the optimizer and the loss. */
export type FitOptions = Require<OptionsOf<typeof FIT_OPTIONS>, "optimizer" | "loss">;
export type ParsedFitOptions = ParsedOf<(typeof FIT_OPTIONS)["fields"]>;

/** Parses fit()'s options; the optimizer is required. */
export function parseFitOptions(op: string, options: unknown): ParsedFitOptions & { optimizer: Optimizer } {
  const o = FIT_OPTIONS.parse(op, options);
  if (o.optimizer === undefined) throw new TypeError(`${op}: options.optimizer must be an Optimizer (SGD, Adam, …)`);
  if (o.validationSplit !== undefined && o.validationData !== undefined) throw new TypeError(`${op}: give validationData or validationSplit, not both`);
  return o as ParsedFitOptions & { optimizer: Optimizer };
}
