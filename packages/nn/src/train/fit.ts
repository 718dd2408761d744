/**
 * fit(), evaluate() and predict(): the training loop people would otherwise write by hand.
 *
 *   for each epoch:
 *     shuffle the rows (seeded)
 *     for each batch: forward → Σ lossWeight·loss per output → backward → clip → optimizer.step()
 *     losses and metrics over the epoch's predictions, then over the validation data
 *     callbacks (early stopping, checkpoints, schedules, group re-weighting)
 *
 * Everything random comes from seeded generators, so a run is reproducible bitwise, and a run
 * resumed from a checkpoint (`resume`) reaches the same weights as one that was never stopped.
 */
import { Tensor, noGrad } from "@zerograd/autograd";
import { NDArray, Random, type Shape, allocate, checkArg, sizeOf } from "@zerograd/tensor";
import type { AnyModule } from "../module.js";
import { clipGradNorm, clipGradValue } from "../optim/clip.js";
import { Optimizer } from "../optim/optimizer.js";
import { type ProgressMode, createProgress, defaultProgressMode } from "../progress.js";
import type { TrainingCheckpoint } from "../serialize.js";
import type { Callback, History, Logs, TrainingContext } from "./callbacks.js";
import { type Data, type Inputs, type Table, asModelInput, range, readInputs, subset } from "./data.js";
import { type CompileOptions, type Plan, buildTable, computeLogs, groupIds, groupLosses, initialGroupWeights, makePlan, outputsOf, totalLoss } from "./spec.js";

export interface FitOptions extends CompileOptions {
  optimizer: Optimizer;
  /** Default 1. With `resume`, the total count: training continues up to this epoch. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the rows before each epoch (default true). */
  shuffle?: boolean;
  /** Seeds the shuffling (default 0). */
  seed?: number;
  /** Data to evaluate after each epoch (its logs are prefixed "val_"). */
  validationData?: Data;
  /** Or hold out this fraction of the rows — the last ones, before any shuffling, as Keras. */
  validationSplit?: number;
  callbacks?: readonly Callback[];
  /** "auto" (default): a progress bar on a terminal, one line per epoch otherwise. */
  verbose?: "auto" | ProgressMode;
  /** Where progress text goes (default: standard output). */
  write?: (text: string) => void;
  /** Clip the gradients' global norm to this before each step. */
  clipGradNorm?: number;
  /** Clip every gradient element to ±this before each step. */
  clipGradValue?: number;
  /** Continue a run from a checkpoint (see modelCheckpoint and encodeCheckpoint). */
  resume?: TrainingCheckpoint;
}

type Predictions = Record<string, NDArray>;

/** Standard output through globalThis (no Node import), or console.log line by line elsewhere. */
function defaultWrite(): (text: string) => void {
  const out = (globalThis as { process?: { stdout?: { write?: (s: string) => unknown } } }).process?.stdout;
  if (out && typeof out.write === "function") return (s) => void out.write!(s);
  let pending = "";
  return (s) => {
    pending += s;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) console.log(line.replace(/^.*\r/, ""));
  };
}

/** Rows [start, end) of a contiguous array, as a view. */
function rowsView(a: NDArray, start: number, end: number): NDArray {
  const width = a.shape[0] === 0 ? 0 : a.size / a.shape[0]!;
  return new NDArray(a.flat().subarray(start * width, end * width), [end - start, ...a.shape.slice(1)]);
}

function rowsOf(x: NDArray | Record<string, NDArray>, f: (a: NDArray) => NDArray): NDArray | Record<string, NDArray> {
  return x instanceof NDArray ? f(x) : Object.fromEntries(Object.entries(x).map(([k, a]) => [k, f(a)]));
}

/** Buffers of n rows for each output, allocated from the first batch's shapes. */
class RowCollector {
  readonly buffers: Record<string, NDArray> = {};
  constructor(private readonly n: number) {}
  put(name: string, value: NDArray, at: Int32Array | number): void {
    let buf = this.buffers[name];
    if (!buf) {
      const shape: Shape = [this.n, ...value.shape.slice(1)];
      buf = this.buffers[name] = new NDArray(allocate(value.dtype, sizeOf(shape)), shape);
    }
    const width = sizeOf(value.shape.slice(1));
    const src = value.flat();
    if (typeof at === "number") buf.data.set(src, at * width);
    else for (let k = 0; k < at.length; k++) buf.data.set(src.subarray(k * width, (k + 1) * width), at[k]! * width);
  }
}

/** Runs the model over all rows in batches, in inference mode and without a graph. */
function predictRows(model: AnyModule, x: NDArray | Record<string, NDArray>, n: number, batchSize: number): { single: boolean; outputs: Predictions } {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      const collector = new RowCollector(n);
      let single = true;
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        const out = model.call(asModelInput(rowsOf(x, (a) => rowsView(a, start, end))));
        if (out instanceof Tensor) collector.put("", out.value, start);
        else {
          single = false;
          for (const [k, v] of Object.entries(out as Record<string, unknown>)) if (v instanceof Tensor) collector.put(k, v.value, start);
        }
      }
      return { single, outputs: collector.buffers };
    });
  } finally {
    model.train(wasTraining);
  }
}

function checkBatchSize(op: string, batchSize: number): void {
  checkArg(Number.isInteger(batchSize) && batchSize > 0, op, `batchSize must be a positive integer, got ${batchSize}`);
}

/**
 * The model's outputs for every row of x, computed in batches under noGrad in inference mode
 * (dropout off, batch norm on its running statistics): an NDArray, or a record of them for a
 * model with several outputs.
 */
export function predict(model: AnyModule, x: Inputs, options: { batchSize?: number } = {}): NDArray | Record<string, NDArray> {
  const batchSize = options.batchSize ?? 32;
  checkBatchSize("predict", batchSize);
  const inputs = readInputs("predict", x);
  const { single, outputs } = predictRows(model, inputs.x, inputs.n, batchSize);
  return single ? (outputs[""] ?? new NDArray(new Float32Array(0), [0])) : outputs;
}

/**
 * Losses and metrics of the model on data, over the whole data set at once (exact masked means,
 * not averages of batch averages): "loss", and per output "<name>_loss" and "<name>_<metric>".
 */
export function evaluate(model: AnyModule, data: Data, options: CompileOptions & { batchSize?: number }): Logs {
  const op = "evaluate";
  const batchSize = options.batchSize ?? 32;
  checkBatchSize(op, batchSize);
  const plan = makePlan(op, options);
  const table = buildTable(op, plan, data, true);
  const groupWeights = initialGroupWeights(op, plan, options, groupIds(table));
  return computeLogs(op, plan, predictTable(model, plan, table, batchSize), table, groupWeights);
}

function predictTable(model: AnyModule, plan: Plan, t: Table, batchSize: number): Predictions {
  const { outputs } = predictRows(model, t.x, t.n, batchSize);
  for (const o of plan.outputs) if (!outputs[o.name]) throw new RangeError(`fit: the model has no output "${o.name}"`);
  return outputs;
}

/**
 * Trains the model: see the module comment. Returns the history of every logged value per epoch:
 * "loss" (Σ lossWeight·loss over the epoch's batches, as exact masked means), per-output losses
 * and metrics, their "val_" counterparts, and "lr".
 */
export async function fit(model: AnyModule, data: Data, options: FitOptions): Promise<History> {
  const op = "fit";
  if (!(options?.optimizer instanceof Optimizer)) throw new TypeError(`${op}: options.optimizer must be an Optimizer (SGD, Adam, …)`);
  const optimizer = options.optimizer;
  const epochs = options.epochs ?? 1;
  const batchSize = options.batchSize ?? 32;
  checkArg(Number.isInteger(epochs) && epochs >= 0, op, `epochs must be a non-negative integer, got ${epochs}`);
  checkBatchSize(op, batchSize);
  if (options.validationSplit !== undefined) {
    checkArg(options.validationSplit > 0 && options.validationSplit < 1, op, `validationSplit must be in (0, 1), got ${options.validationSplit}`);
    if (options.validationData) throw new TypeError(`${op}: give validationData or validationSplit, not both`);
  }
  const mode: ProgressMode = !options.verbose || options.verbose === "auto" ? defaultProgressMode() : options.verbose;
  const write = options.write ?? defaultWrite();

  // Data: the training table, and the validation table (a held-out tail, or separate data).
  const plan = makePlan(op, options);
  let table = buildTable(op, plan, data, true);
  let validation: Table | null = null;
  if (options.validationSplit !== undefined) {
    const split = Math.floor(table.n * (1 - options.validationSplit));
    if (split === 0 || split === table.n) throw new RangeError(`${op}: validationSplit ${options.validationSplit} leaves no ${split === 0 ? "training" : "validation"} rows out of ${table.n}`);
    validation = subset(table, range(split, table.n));
    table = subset(table, range(0, split));
  } else if (options.validationData) {
    validation = buildTable(`${op} (validationData)`, plan, options.validationData, false);
  }
  if (table.n === 0) throw new RangeError(`${op}: no training rows`);
  const ids = groupIds(table);

  // State: everything a checkpoint holds.
  const shuffleRng = new Random(options.seed ?? 0);
  const history: History = { epochs: [], history: {} };
  let groupWeights = initialGroupWeights(op, plan, options, ids);
  let epoch = 0;
  let globalStep = 0;
  const callbacks = [...(options.callbacks ?? [])].sort((a, b) => Number(a.runLast ?? false) - Number(b.runLast ?? false));
  const generators = model.namedGenerators();
  if (options.resume) {
    const ck = options.resume;
    restoreCheckpoint(op, model, optimizer, ck, generators, shuffleRng);
    epoch = ck.epoch;
    globalStep = ck.globalStep;
    for (const [k, v] of Object.entries(ck.history)) history.history[k] = [...v];
    history.epochs = [...range(0, Object.values(ck.history)[0]?.length ?? 0)];
    if (Object.keys(ck.groupWeights).length) groupWeights = structuredClone(ck.groupWeights);
    callbacks.forEach((cb, i) => ck.callbacks[i] !== undefined && ck.callbacks[i] !== null && cb.setState?.(ck.callbacks[i]));
  }

  const steps = Math.ceil(table.n / batchSize);
  let validationPredictions: Predictions | null = null;
  const ctx: TrainingContext = {
    model,
    optimizer,
    epochs,
    stepsPerEpoch: steps,
    history,
    get globalStep() {
      return globalStep;
    },
    stopTraining: false,
    get groupWeights() {
      return groupWeights;
    },
    set groupWeights(w) {
      groupWeights = w;
    },
    groupIds: ids,
    validationGroupLosses() {
      if (!validation || !validationPredictions) throw new RangeError(`${op}: per-group validation losses need validation data (validationData or validationSplit)`);
      return groupLosses(op, plan, validationPredictions, validation, ids);
    },
    checkpoint: () => ({
      epoch,
      globalStep,
      weights: model.stateDict(),
      optimizer: optimizer.stateDict(),
      rng: { shuffle: shuffleRng.getState(), model: Object.fromEntries(generators.map(([n, g]) => [n, g.getState()])) },
      history: structuredClone(history.history),
      groupWeights: structuredClone(groupWeights),
      callbacks: callbacks.map((cb) => cb.getState?.() ?? null),
    }),
    log: (message) => {
      if (mode !== "silent") write(`${message}\n`);
    },
  };

  const wasTraining = model.training;
  for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
  try {
    while (epoch < epochs && !ctx.stopTraining) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, ctx);
      model.train();
      const order = options.shuffle === false ? range(0, table.n) : shuffleRng.permutation(table.n);
      const collector = new RowCollector(table.n);
      const progress = createProgress({ total: steps, label: `Epoch ${epoch + 1}/${epochs}`, mode, write });
      let runningLoss = 0;
      for (let b = 0; b < steps; b++) {
        for (const cb of callbacks) await cb.onBatchBegin?.(b, ctx);
        const rows = order.subarray(b * batchSize, Math.min(table.n, (b + 1) * batchSize));
        const batch = subset(table, rows);
        model.zeroGrad();
        optimizer.zeroGrad();
        const predictions = outputsOf(op, plan, model.call(asModelInput(batch.x)));
        const { total } = totalLoss(op, plan, predictions, batch, groupWeights);
        const loss = total.item();
        if (!Number.isFinite(loss)) throw new RangeError(`${op}: the loss is ${loss} at epoch ${epoch + 1}, batch ${b + 1}; check the data (unmasked NaN labels?) and the learning rate`);
        if (total.requiresGrad) total.backward();
        if (options.clipGradValue !== undefined) clipGradValue(optimizer.params, options.clipGradValue);
        if (options.clipGradNorm !== undefined) clipGradNorm(optimizer.params, options.clipGradNorm);
        optimizer.step();
        globalStep++;
        for (const o of plan.outputs) collector.put(o.name, predictions[o.name]!.value, rows);
        runningLoss += loss * rows.length;
        progress.update(b + 1, { loss: runningLoss / Math.min(table.n, (b + 1) * batchSize) });
        for (const cb of callbacks) await cb.onBatchEnd?.(b, { loss, size: rows.length }, ctx);
      }
      // The epoch's logs: exact masked losses and metrics over all its predictions, then validation.
      const logs: Logs = computeLogs(op, plan, collector.buffers, table, groupWeights);
      if (validation) {
        validationPredictions = predictTable(model, plan, validation, batchSize);
        Object.assign(logs, computeLogs(op, plan, validationPredictions, validation, groupWeights, "val_"));
      }
      logs.lr = optimizer.lr;
      history.epochs.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      epoch++;
      progress.end(logs);
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch - 1, logs, ctx);
    }
  } finally {
    model.train(wasTraining);
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(ctx);
  return history;
}

/** Puts a checkpoint's state back; on any error, the model and optimizer are left as they were. */
function restoreCheckpoint(op: string, model: AnyModule, optimizer: Optimizer, ck: TrainingCheckpoint, generators: [string, Random][], shuffleRng: Random): void {
  const savedNames = Object.keys(ck.rng?.model ?? {}).sort().join(", ");
  const names = generators.map(([n]) => n).sort().join(", ");
  if (savedNames !== names) throw new RangeError(`${op}: the checkpoint's generators [${savedNames}] do not match the model's [${names}]`);
  const modelBefore = model.stateDict();
  const optimizerBefore = optimizer.stateDict();
  try {
    model.loadStateDict(ck.weights);
    optimizer.loadStateDict(ck.optimizer);
  } catch (e) {
    model.loadStateDict(modelBefore);
    optimizer.loadStateDict(optimizerBefore);
    throw e;
  }
  shuffleRng.setState(ck.rng.shuffle);
  for (const [name, g] of generators) g.setState(ck.rng.model[name]!);
}
