/**
 * fit(), evaluate() and predict(): the training loop people would otherwise write by hand.
 *
 *   prepare: options, data and validation data, all checked (validate.ts); the run's state (state.ts)
 *   for each epoch (runEpoch):
 *     shuffle the rows (seeded)
 *     for each batch (trainBatch): trainStep's body (step.ts) — forward → Σ lossWeight·loss per
 *       output → backward → clip → optimizer.step()
 *     losses and metrics over the epoch's predictions, then over the validation data (endEpoch)
 *     callbacks (early stopping, checkpoints, schedules, group re-weighting), which see the run
 *     through its context
 *
 * Everything random comes from seeded generators, so a run is reproducible bitwise, and a run
 * resumed from a checkpoint (`resume`) reaches the same weights as one that was never stopped.
 *
 * Training and inference modes: fit() trains with the modules in the modes they are in (a
 * layer frozen with `layer.eval()` stays frozen), after switching the whole model to training
 * mode if the model itself is in inference mode; predict(), evaluate() and fit()'s validation
 * run in inference mode. Each leaves every module's flag as it found it.
 */
import { Tensor, noGrad } from "@zerograd/autograd";
import { NDArray, Random, type Shape, allocate, sizeOf } from "@zerograd/tensor";
import type { AnyModule } from "../module.js";
import type { Optimizer } from "../optim/optimizer.js";
import { type ProgressBar, type ProgressMode, createProgress, defaultProgressMode } from "../progress.js";
import type { Callback, History, Logs, TrainingContext } from "./callbacks.js";
import { type Data, type Inputs, type Table, asModelInput, range, readInputs, subset } from "./data.js";
import { EVALUATE_OPTIONS, type EvaluateOptions, type FitOptions, PREDICT_OPTIONS, type ParsedFitOptions, type PredictOptions, parseFitOptions } from "./options.js";
import { type Plan, buildTable, computeLogs, groupIds, groupLosses, initialGroupWeights, makePlan, outputsOf, totalLoss } from "./spec.js";
import { maskOf } from "../sequence/mask.js";
import { type Predictions } from "./output-mask.js";
import { RunState } from "./state.js";
import { runStep } from "./step.js";
import { defaultWrite, defaultYieldEvery, yielder } from "./runtime.js";
import { checkOptimizer, validateTable } from "./validate.js";

export type { FitOptions, EvaluateOptions, PredictOptions } from "./options.js";


/** Rows [start, end) of a contiguous array, as a view. */
function rowsView(a: NDArray, start: number, end: number): NDArray {
  const width = a.shape[0] === 0 ? 0 : a.size / a.shape[0]!;
  return new NDArray(a.flat().subarray(start * width, end * width), [end - start, ...a.shape.slice(1)]);
}

function rowsOf(x: NDArray | Record<string, NDArray>, f: (a: NDArray) => NDArray): NDArray | Record<string, NDArray> {
  return x instanceof NDArray ? f(x) : Object.fromEntries(Object.entries(x).map(([k, a]) => [k, f(a)]));
}

/** Copies a batch's rows into `buf` at row `at` (contiguous) or at the rows `at` lists. */
function putRows(buf: NDArray, value: NDArray, at: Int32Array | number): void {
  const width = sizeOf(value.shape.slice(1));
  const src = value.flat();
  if (typeof at === "number") buf.data.set(src, at * width);
  else for (let k = 0; k < at.length; k++) buf.data.set(src.subarray(k * width, (k + 1) * width), at[k]! * width);
}

/**
 * Buffers of n rows for each output, allocated from the first batch's shapes, and of the masks
 * the outputs carry (allocated at the first mask, all ones: a batch without a mask masks nothing).
 */
class RowCollector {
  readonly values: Record<string, NDArray> = {};
  readonly masks: Record<string, NDArray> = {};
  constructor(private readonly n: number) {}
  put(name: string, output: Tensor, at: Int32Array | number): void {
    const value = output.value;
    const shape: Shape = [this.n, ...value.shape.slice(1)];
    putRows((this.values[name] ??= new NDArray(allocate(value.dtype, sizeOf(shape)), shape)), value, at);
    const mask = maskOf(output)?.value;
    if (!mask) return;
    const maskShape: Shape = [this.n, ...mask.shape.slice(1)];
    putRows((this.masks[name] ??= new NDArray(new Float32Array(sizeOf(maskShape)).fill(1), maskShape)), mask.astype("float32"), at);
  }
  get predictions(): Predictions {
    return { values: this.values, masks: this.masks };
  }
}

/** Every module's training flag, to put back with restoreModes (model.train(flag) would set them all alike). */
function saveModes(model: AnyModule): [AnyModule, boolean][] {
  return model.modules().map((m) => [m, m.training]);
}

function restoreModes(modes: [AnyModule, boolean][]): void {
  for (const [m, training] of modes) m.training = training;
}

/** Runs f in inference mode and without a graph, then puts every module's mode back. */
function inInference<T>(model: AnyModule, f: () => T): T {
  const modes = saveModes(model);
  model.eval();
  try {
    return noGrad(f);
  } finally {
    restoreModes(modes);
  }
}

/** Runs the model over all rows in batches, in inference mode and without a graph. */
function predictRows(model: AnyModule, x: NDArray | Record<string, NDArray>, n: number, batchSize: number): { single: boolean; outputs: Predictions } {
  return inInference(model, () => {
    const collector = new RowCollector(n);
    let single = true;
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const out = model.call(asModelInput(rowsOf(x, (a) => rowsView(a, start, end))));
      if (out instanceof Tensor) collector.put("", out, start);
      else {
        single = false;
        for (const [k, v] of Object.entries(out as Record<string, unknown>)) if (v instanceof Tensor) collector.put(k, v, start);
      }
    }
    return { single, outputs: collector.predictions };
  });
}

/** The model's outputs for the first batch of a table (checked against the plan): their shapes and dtypes, for validateTable. */
function probe(op: string, model: AnyModule, plan: Plan, t: Table, batchSize: number): Record<string, Tensor> {
  if (t.n === 0) return {};
  return inInference(model, () => outputsOf(op, plan, model.call(asModelInput(rowsOf(t.x, (a) => rowsView(a, 0, Math.min(t.n, batchSize)))))));
}

/**
 * validateTable, with the masks the model's outputs carry: when the data fails without them and
 * an output carries a mask (labels at padded steps may be anything), the masks of every row are
 * computed (one pass in inference mode) and the data is checked again with them.
 */
function validateData(op: string, dataset: string, model: AnyModule, plan: Plan, t: Table, batchSize: number, groupWeights: Record<string, Record<number, number>>): void {
  const outputs = probe(op, model, plan, t, batchSize);
  const rowShapes = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
  try {
    validateTable(op, dataset, plan, t, rowShapes, groupWeights);
  } catch (e) {
    if (!Object.values(outputs).some((v) => maskOf(v))) throw e;
    validateTable(op, dataset, plan, t, rowShapes, groupWeights, predictRows(model, t.x, t.n, batchSize).outputs.masks);
  }
}
/**
 * The model's outputs for every row of x, computed in batches under noGrad in inference mode
 * (dropout off, batch norm on its running statistics): an NDArray, or a record of them for a
 * model with several outputs.
 */
export function predict(model: AnyModule, x: Inputs, options: PredictOptions = {}): NDArray | Record<string, NDArray> {
  const { batchSize } = PREDICT_OPTIONS.parse("predict", options);
  const inputs = readInputs("predict", x);
  const { single, outputs } = predictRows(model, inputs.x, inputs.n, batchSize);
  return single ? (outputs.values[""] ?? new NDArray(new Float32Array(0), [0])) : outputs.values;
}

/**
 * Losses and metrics of the model on data, over the whole data set at once (exact masked means,
 * not averages of batch averages): "loss", and per output "<name>_loss" and "<name>_<metric>".
 *
 * With `data.groups`, groups weigh equally over the ids present in this data unless
 * `groupWeights` is given; fit()'s val_loss uses fit's current group weights (after
 * groupReweighting, `ctx.groupWeights`): pass those to reproduce it.
 */
export function evaluate(model: AnyModule, data: Data, options: EvaluateOptions): Logs {
  const op = "evaluate";
  const o = EVALUATE_OPTIONS.parse(op, options);
  const compile = { ...o, loss: o.loss! }; // makePlan refuses a missing loss
  const plan = makePlan(op, compile);
  const table = buildTable(op, plan, data, true);
  const groupWeights = initialGroupWeights(op, plan, compile, groupIds(table));
  validateData(op, "evaluated", model, plan, table, o.batchSize, groupWeights);
  return computeLogs(op, plan, predictTable(model, plan, table, o.batchSize), table, groupWeights);
}

function predictTable(model: AnyModule, plan: Plan, t: Table, batchSize: number): Predictions {
  const { outputs } = predictRows(model, t.x, t.n, batchSize);
  for (const o of plan.outputs) if (!outputs.values[o.name]) throw new RangeError(`fit: the model has no output "${o.name}"`);
  return outputs;
}

/** One run of fit(): its options, its data, its state and what the callbacks see. */
interface Run {
  op: string;
  model: AnyModule;
  optimizer: Optimizer;
  o: ParsedFitOptions;
  plan: Plan;
  table: Table;
  validation: Table | null;
  validationPredictions: Predictions | null;
  steps: number;
  /** Rows trained on per epoch: all of them, or fewer with dropLast. */
  rowsPerEpoch: number;
  state: RunState;
  callbacks: Callback[];
  ctx: TrainingContext;
  /** Checkpoints are taken between epochs only. */
  inEpoch: boolean;
  mode: ProgressMode;
  write: (text: string) => void;
  /** Gives the event loop a turn when yieldEvery milliseconds have passed. */
  pause: () => Promise<void> | void;
  /** The modules' modes for training (fit switches an inference-mode model to training). */
  trainingModes: [AnyModule, boolean][];
}

/**
 * Trains the model: see the module comment. Returns the history of every logged value per epoch:
 * "loss" (Σ lossWeight·loss over the epoch's batches, as exact masked means), per-output losses
 * and metrics, their "val_" counterparts, and "lr".
 *
 * Everything is checked before the first step: the options, the optimizer (it must hold this
 * model's parameters) and every array of the training and validation data. A non-finite loss or
 * gradient stops training with an error naming the epoch and batch (and the parameter); the step
 * that produced it is not applied.
 */
export async function fit(model: AnyModule, data: Data, options: FitOptions): Promise<History> {
  const run = prepare("fit", model, data, options);
  const { state, ctx } = run;
  const modes = saveModes(model);
  if (!model.training) model.train();
  run.trainingModes = saveModes(model);
  for (const cb of run.callbacks) await cb.onTrainBegin?.(ctx);
  try {
    while (state.epoch < run.o.epochs && !ctx.stopTraining) {
      if (!(await runEpoch(run))) return state.history; // aborted: no further hook runs
    }
  } finally {
    run.inEpoch = false;
    restoreModes(modes);
  }
  for (const cb of run.callbacks) await cb.onTrainEnd?.(ctx);
  return state.history;
}

/** Options, data, validation of both, and the run's state (restored from `resume`). */
function prepare(op: string, model: AnyModule, data: Data, options: FitOptions): Run {
  const o = parseFitOptions(op, options);
  checkOptimizer(op, model, o.optimizer);
  const compile = { ...o, loss: o.loss! }; // makePlan refuses a missing loss
  const plan = makePlan(op, compile);
  const { table, validation } = readData(op, plan, data, o);
  const steps = o.dropLast ? Math.floor(table.n / o.batchSize) : Math.ceil(table.n / o.batchSize);
  if (steps === 0) throw new RangeError(`${op}: dropLast with batchSize ${o.batchSize} leaves no batch: the training data has ${table.n} rows`);

  // Groups: ids of the training and validation data together (a validation-only group needs a weight for val_loss).
  const trainIds = groupIds(table);
  const ids = [...new Set([...trainIds, ...(validation ? groupIds(validation) : [])])].sort((a, b) => a - b);
  const origin = (id: number) => (trainIds.includes(id) ? "in the training data" : "it appears only in the validation data");
  const callbacks = [...(o.callbacks ?? [])].sort((a, b) => Number(a.runLast ?? false) - Number(b.runLast ?? false));
  const groupWeights = initialGroupWeights(op, plan, compile, ids, origin);
  const state = new RunState(op, model, o.optimizer, new Random(o.seed), callbacks, plan.outputs.map((p) => p.name), ids, groupWeights);

  validateData(op, "training", model, plan, table, o.batchSize, groupWeights);
  if (validation) validateData(op, "validation", model, plan, validation, o.batchSize, groupWeights);
  if (o.resume) state.restore(o.resume);
  const run: Run = {
    ...{ op, model, optimizer: o.optimizer, o, plan, table, validation, validationPredictions: null, steps, state, callbacks },
    rowsPerEpoch: Math.min(table.n, steps * o.batchSize),
    ctx: null as never,
    inEpoch: false,
    mode: o.verbose === "auto" ? defaultProgressMode() : o.verbose,
    write: o.write ?? defaultWrite(),
    pause: yielder(o.yieldEvery ?? defaultYieldEvery()),
    trainingModes: [],
  };
  run.ctx = context(run);
  return run;
}

/** The training table, and the validation table (a held-out tail, or separate data). */
function readData(op: string, plan: Plan, data: Data, o: ParsedFitOptions): { table: Table; validation: Table | null } {
  let table = buildTable(op, plan, data, true);
  let validation: Table | null = null;
  if (o.validationSplit !== undefined) {
    const split = Math.floor(table.n * (1 - o.validationSplit));
    if (split === 0 || split === table.n) throw new RangeError(`${op}: validationSplit ${o.validationSplit} leaves no ${split === 0 ? "training" : "validation"} rows out of ${table.n}`);
    validation = subset(table, range(split, table.n));
    table = subset(table, range(0, split));
  } else if (o.validationData) {
    // Per-sample loss options describe the training rows; they cannot be sliced for other data.
    const perSample = plan.outputs.flatMap((p) => Object.keys(table.options[p.name] ?? {}).map((k) => `${k}${p.name ? ` (output "${p.name}")` : ""}`));
    if (perSample.length) {
      throw new RangeError(`${op}: the loss option${perSample.length > 1 ? "s" : ""} ${perSample.join(", ")} hold${perSample.length > 1 ? "" : "s"} one row per training sample (${table.n}), so ${perSample.length > 1 ? "they" : "it"} cannot apply to validationData; give per-sample weights as data.sampleWeight (validationData takes its own) or use validationSplit`);
    }
    validation = buildTable(`${op} (validationData)`, plan, o.validationData, false);
  }
  if (table.n === 0) throw new RangeError(`${op}: no training rows`);
  return { table, validation };
}

/** What callbacks see of the run. */
function context(run: Run): TrainingContext {
  const { op, model, optimizer, state } = run;
  return {
    model,
    optimizer,
    epochs: run.o.epochs,
    stepsPerEpoch: run.steps,
    history: state.history,
    get globalStep() {
      return state.globalStep;
    },
    stopTraining: false,
    get groupWeights() {
      return state.groupWeights;
    },
    set groupWeights(w) {
      state.groupWeights = w;
    },
    groupIds: state.ids,
    validationGroupLosses() {
      if (!run.validation || !run.validationPredictions) throw new RangeError(`${op}: per-group validation losses need validation data (validationData or validationSplit)`);
      return groupLosses(op, run.plan, run.validationPredictions, run.validation, state.ids);
    },
    resumed: run.o.resume !== undefined,
    checkpoint: () => {
      if (run.inEpoch) throw new RangeError(`${op}: ctx.checkpoint() was called during epoch ${state.epoch + 1}; checkpoints are taken between epochs (in onTrainBegin, onEpochEnd or onTrainEnd), since a resumed run starts at an epoch boundary`);
      return state.save();
    },
    log: (message) => {
      if (run.mode !== "silent") run.write(`${message}\n`);
    },
  };
}

/** One epoch: its batches, then its logs. False when the signal aborted it (after a whole step). */
async function runEpoch(run: Run): Promise<boolean> {
  const { state, ctx, callbacks, table, o } = run;
  if (o.signal?.aborted) return false;
  run.inEpoch = true;
  restoreModes(run.trainingModes); // whatever a callback left behind; onEpochBegin may still freeze layers
  for (const cb of callbacks) await cb.onEpochBegin?.(state.epoch, ctx);
  const order = o.shuffle ? state.shuffleRng.permutation(table.n) : range(0, table.n);
  // Predictions land at their row (all rows trained on), or at their place in the epoch's order (dropLast left some out).
  const collector = new RowCollector(run.rowsPerEpoch);
  const progress = createProgress({ total: run.steps, label: `Epoch ${state.epoch + 1}/${o.epochs}`, mode: run.mode, write: run.write });
  let runningLoss = 0;
  for (let b = 0; b < run.steps; b++) {
    if (o.signal?.aborted) {
      if (b > 0 && run.mode === "bar") run.write("\n"); // end the bar's line
      return false;
    }
    for (const cb of callbacks) await cb.onBatchBegin?.(b, ctx);
    const rows = order.subarray(b * o.batchSize, Math.min(table.n, (b + 1) * o.batchSize));
    const loss = trainBatch(run, b, rows, collector);
    runningLoss += loss * rows.length;
    progress.update(b + 1, { loss: runningLoss / Math.min(table.n, (b + 1) * o.batchSize) });
    for (const cb of callbacks) await cb.onBatchEnd?.(b, { loss, size: rows.length }, ctx);
    await run.pause();
  }
  await endEpoch(run, order, collector, progress);
  return true;
}

/** One step on the rows of batch b (trainStep's body); the predictions are kept for the epoch's logs. */
function trainBatch(run: Run, b: number, rows: Int32Array, collector: RowCollector): number {
  const { op, plan, state } = run;
  const batch = subset(run.table, rows);
  let predictions: Record<string, Tensor> = {};
  const { loss } = runStep(op, ` at epoch ${state.epoch + 1}, batch ${b + 1}`, run.model, run.optimizer, () => {
    predictions = outputsOf(op, plan, run.model.call(asModelInput(batch.x)));
    return totalLoss(op, plan, predictions, batch, state.groupWeights).total;
  }, run.o);
  state.globalStep++;
  const complete = run.rowsPerEpoch === run.table.n;
  for (const p of plan.outputs) collector.put(p.name, predictions[p.name]!, complete ? rows : b * run.o.batchSize);
  return loss;
}

/** The epoch's logs: exact masked losses and metrics over all its predictions, then validation; then onEpochEnd. */
async function endEpoch(run: Run, order: Int32Array, collector: RowCollector, progress: ProgressBar): Promise<void> {
  const { op, plan, state, table, validation } = run;
  const trained = run.rowsPerEpoch === table.n ? table : subset(table, order.subarray(0, run.rowsPerEpoch), { inputs: false });
  const logs: Logs = computeLogs(op, plan, collector.predictions, trained, state.groupWeights);
  if (validation) {
    run.validationPredictions = predictTable(run.model, plan, validation, run.o.batchSize);
    Object.assign(logs, computeLogs(op, plan, run.validationPredictions, validation, state.groupWeights, "val_"));
  }
  logs.lr = run.optimizer.lr;
  state.history.epochs.push(state.epoch);
  for (const [k, v] of Object.entries(logs)) (state.history.history[k] ??= []).push(v);
  state.epoch++;
  run.inEpoch = false;
  progress.end(logs);
  for (const cb of run.callbacks) await cb.onEpochEnd?.(state.epoch - 1, logs, run.ctx);
}
