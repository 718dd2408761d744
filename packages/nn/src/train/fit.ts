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
 *
 * Training and inference modes: fit() trains with the modules in the modes they are in (a
 * layer frozen with `layer.eval()` stays frozen), after switching the whole model to training
 * mode if the model itself is in inference mode; predict(), evaluate() and fit()'s validation
 * run in inference mode. Each leaves every module's flag as it found it.
 */
import { Tensor, noGrad } from "@zerograd/autograd";
import { NDArray, Random, type Shape, allocate, checkArg, fmtShape, sizeOf } from "@zerograd/tensor";
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
  /**
   * Drop the last batch of each epoch when it has fewer than batchSize rows (PyTorch's
   * DataLoader `drop_last`) — e.g. for BatchNormalization, which cannot train on one row.
   * With shuffling, different rows are left out each epoch; the epoch's logs cover the rows
   * trained on. Default false.
   */
  dropLast?: boolean;
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

/** Every module's training flag, to put back with restoreModes (model.train(flag) would set them all alike). */
function saveModes(model: AnyModule): [AnyModule, boolean][] {
  return model.modules().map((m) => [m, m.training]);
}

function restoreModes(modes: [AnyModule, boolean][]): void {
  for (const [m, training] of modes) m.training = training;
}

/** Runs the model over all rows in batches, in inference mode and without a graph. */
function predictRows(model: AnyModule, x: NDArray | Record<string, NDArray>, n: number, batchSize: number): { single: boolean; outputs: Predictions } {
  const modes = saveModes(model);
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
    restoreModes(modes);
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
 *
 * With `data.groups`, groups weigh equally over the ids present in this data unless
 * `groupWeights` is given; fit()'s val_loss uses fit's current group weights (after
 * groupReweighting, `ctx.groupWeights`): pass those to reproduce it.
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
 *
 * A non-finite loss or gradient stops training with an error naming the epoch and batch (and the
 * parameter); the step that produced it is not applied.
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
  for (const key of ["clipGradNorm", "clipGradValue"] as const) {
    const v = options[key];
    if (v !== undefined) checkArg(typeof v === "number" && Number.isFinite(v) && v > 0, op, `${key} must be a finite number > 0, got ${v}`);
  }
  const dropLast = options.dropLast ?? false;
  if (typeof dropLast !== "boolean") throw new TypeError(`${op}: dropLast must be true or false, got ${String(dropLast)}`);
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
    // Per-sample loss options describe the training rows; they cannot be sliced for other data.
    const perSample = plan.outputs.flatMap((o) => Object.keys(table.options[o.name] ?? {}).map((k) => `${k}${o.name ? ` (output "${o.name}")` : ""}`));
    if (perSample.length) {
      throw new RangeError(`${op}: the loss option${perSample.length > 1 ? "s" : ""} ${perSample.join(", ")} hold${perSample.length > 1 ? "" : "s"} one row per training sample (${table.n}), so ${perSample.length > 1 ? "they" : "it"} cannot apply to validationData; give per-sample weights as data.sampleWeight (validationData takes its own) or use validationSplit`);
    }
    validation = buildTable(`${op} (validationData)`, plan, options.validationData, false);
  }
  if (table.n === 0) throw new RangeError(`${op}: no training rows`);
  const steps = dropLast ? Math.floor(table.n / batchSize) : Math.ceil(table.n / batchSize);
  if (steps === 0) throw new RangeError(`${op}: dropLast with batchSize ${batchSize} leaves no batch: the training data has ${table.n} rows`);
  const rowsPerEpoch = Math.min(table.n, steps * batchSize);

  // Groups: ids of the training and validation data together (a validation-only group needs a weight for val_loss).
  const trainIds = groupIds(table);
  const validationIds = validation ? groupIds(validation) : [];
  const ids = [...new Set([...trainIds, ...validationIds])].sort((a, b) => a - b);
  const inTraining = new Set(trainIds);
  const origin = (id: number) => (inTraining.has(id) ? "in the training data" : "it appears only in the validation data");

  // State: everything a checkpoint holds.
  const shuffleRng = new Random(options.seed ?? 0);
  const history: History = { epochs: [], history: {} };
  let groupWeights = initialGroupWeights(op, plan, options, ids, origin);
  let epoch = 0;
  let globalStep = 0;
  const callbacks = [...(options.callbacks ?? [])].sort((a, b) => Number(a.runLast ?? false) - Number(b.runLast ?? false));
  const generators = model.namedGenerators();
  if (options.resume) {
    const restored = restoreCheckpoint(op, options.resume, { model, optimizer, generators, shuffleRng, callbacks, outputs: plan.outputs.map((o) => o.name), ids });
    epoch = restored.epoch;
    globalStep = restored.globalStep;
    history.history = restored.history;
    history.epochs = [...range(0, epoch)];
    if (restored.groupWeights) groupWeights = restored.groupWeights;
  }

  let validationPredictions: Predictions | null = null;
  let inEpoch = false; // checkpoints are taken between epochs only
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
    resumed: options.resume !== undefined,
    checkpoint: () => {
      if (inEpoch) throw new RangeError(`${op}: ctx.checkpoint() was called during epoch ${epoch + 1}; checkpoints are taken between epochs (in onTrainBegin, onEpochEnd or onTrainEnd), since a resumed run starts at an epoch boundary`);
      return {
        epoch,
        globalStep,
        weights: model.stateDict(),
        optimizer: optimizer.stateDict(),
        rng: { shuffle: shuffleRng.getState(), model: Object.fromEntries(generators.map(([n, g]) => [n, g.getState()])) },
        history: structuredClone(history.history),
        groupWeights: structuredClone(groupWeights),
        callbacks: callbacks.map((cb) => ({ kind: kindOf(cb), state: cb.getState?.() ?? null })),
      };
    },
    log: (message) => {
      if (mode !== "silent") write(`${message}\n`);
    },
  };

  // Names for error messages, and the buffers (batch-norm statistics) a failed step must put back.
  const paramNames = new Map<unknown, string>(model.namedParameters().map(([name, p]) => [p, name]));
  const buffers = model.namedBuffers().map(([, b]) => b.value.data);
  const modes = saveModes(model);
  if (!model.training) model.train();
  const trainingModes = saveModes(model);
  for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
  try {
    while (epoch < epochs && !ctx.stopTraining) {
      inEpoch = true;
      restoreModes(trainingModes); // whatever a callback left behind; onEpochBegin may still freeze layers
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, ctx);
      const order = options.shuffle === false ? range(0, table.n) : shuffleRng.permutation(table.n);
      // Predictions land at their row (all rows trained on), or at their place in the epoch's order (dropLast left some out).
      const collector = new RowCollector(rowsPerEpoch);
      const complete = rowsPerEpoch === table.n;
      const progress = createProgress({ total: steps, label: `Epoch ${epoch + 1}/${epochs}`, mode, write });
      let runningLoss = 0;
      for (let b = 0; b < steps; b++) {
        for (const cb of callbacks) await cb.onBatchBegin?.(b, ctx);
        const rows = order.subarray(b * batchSize, Math.min(table.n, (b + 1) * batchSize));
        const batch = subset(table, rows);
        const buffersBefore = buffers.map((d) => d.slice());
        const fail = (message: string, hint = ""): never => {
          buffers.forEach((d, i) => d.set(buffersBefore[i]!)); // the forward pass moved them
          throw new RangeError(`${op}: ${message} at epoch ${epoch + 1}, batch ${b + 1}; the step was not applied${hint}`);
        };
        model.zeroGrad();
        optimizer.zeroGrad();
        const predictions = outputsOf(op, plan, model.call(asModelInput(batch.x)));
        const { total } = totalLoss(op, plan, predictions, batch, groupWeights);
        const loss = total.item();
        if (!Number.isFinite(loss)) fail(`the loss is ${loss}`, " (check the data — unmasked NaN labels? — and the learning rate)");
        if (total.requiresGrad) total.backward();
        optimizer.params.forEach((p, i) => {
          const bad = firstNonFinite(p.grad);
          if (bad) fail(`the gradient of ${JSON.stringify(paramNames.get(p) ?? `parameter ${i}`)} ${fmtShape(p.shape)} holds ${bad.value} (element ${bad.index})`);
        });
        if (options.clipGradValue !== undefined) clipGradValue(optimizer.params, options.clipGradValue);
        if (options.clipGradNorm !== undefined) clipGradNorm(optimizer.params, options.clipGradNorm);
        optimizer.step();
        globalStep++;
        for (const o of plan.outputs) collector.put(o.name, predictions[o.name]!.value, complete ? rows : b * batchSize);
        runningLoss += loss * rows.length;
        progress.update(b + 1, { loss: runningLoss / Math.min(table.n, (b + 1) * batchSize) });
        for (const cb of callbacks) await cb.onBatchEnd?.(b, { loss, size: rows.length }, ctx);
      }
      // The epoch's logs: exact masked losses and metrics over all its predictions, then validation.
      const trained = complete ? table : subset(table, order.subarray(0, rowsPerEpoch), { inputs: false });
      const logs: Logs = computeLogs(op, plan, collector.buffers, trained, groupWeights);
      if (validation) {
        validationPredictions = predictTable(model, plan, validation, batchSize);
        Object.assign(logs, computeLogs(op, plan, validationPredictions, validation, groupWeights, "val_"));
      }
      logs.lr = optimizer.lr;
      history.epochs.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      epoch++;
      inEpoch = false;
      progress.end(logs);
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch - 1, logs, ctx);
    }
  } finally {
    inEpoch = false;
    restoreModes(modes);
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(ctx);
  return history;
}

/** The first NaN or ±Infinity in a gradient, if any. */
function firstNonFinite(grad: Tensor | null): { index: number; value: number } | null {
  if (grad === null) return null;
  const g = grad.value.flat();
  for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i])) return { index: i, value: g[i]! };
  return null;
}

function kindOf(cb: Callback): string {
  return cb.kind ?? "callback";
}

/** A generator state as Random.getState() writes it: four 32-bit words (not all 0) and the cached normal (NaN for none). */
function isGeneratorState(s: unknown): s is number[] {
  if (!Array.isArray(s) || s.length !== 5) return false;
  const words = s.slice(0, 4);
  return words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) && words.some((w) => w !== 0) && typeof s[4] === "number" && (Number.isNaN(s[4]) || Number.isFinite(s[4]));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

interface RunState {
  model: AnyModule;
  optimizer: Optimizer;
  generators: [string, Random][];
  shuffleRng: Random;
  callbacks: Callback[];
  /** The plan's output names. */
  outputs: string[];
  /** The run's group ids. */
  ids: number[];
}

/**
 * Puts a checkpoint's state back. Every part is checked before anything is written (model and
 * optimizer check their own states completely first); if a callback's setState still throws,
 * the model, the optimizer and the generators are put back as they were.
 */
function restoreCheckpoint(op: string, ck: TrainingCheckpoint, run: RunState): { epoch: number; globalStep: number; history: Record<string, number[]>; groupWeights: Record<string, Record<number, number>> | null } {
  const bad = (rule: string): never => {
    throw new RangeError(`${op}: the checkpoint (resume) ${rule}`);
  };
  if (!isRecord(ck)) bad("must be an object (see decodeCheckpoint)");
  const count = (v: unknown, name: string) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : bad(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`));
  const epoch = count(ck.epoch, "epoch");
  const globalStep = count(ck.globalStep, "globalStep");

  // Generators: the same names as the model's, and well-formed states.
  if (!isRecord(ck.rng) || !isRecord(ck.rng.model)) bad("rng must be { shuffle, model }");
  const savedNames = Object.keys(ck.rng.model).sort().join(", ");
  const names = run.generators.map(([n]) => n).sort().join(", ");
  if (savedNames !== names) bad(`has the generators [${savedNames}], which do not match the model's [${names}]`);
  for (const [name, state] of [["shuffle", ck.rng.shuffle], ...Object.entries(ck.rng.model)] as [string, unknown][]) {
    if (!isGeneratorState(state)) bad(`has a malformed state for the generator ${JSON.stringify(name)}: expected four 32-bit words and a number, got ${JSON.stringify(state)}`);
  }

  // History: one number per completed epoch for every logged value.
  if (!isRecord(ck.history)) bad("history must be an object of lists");
  const history: Record<string, number[]> = {};
  for (const [key, values] of Object.entries(ck.history)) {
    if (!Array.isArray(values) || values.length !== epoch || !values.every((v) => typeof v === "number")) bad(`history ${JSON.stringify(key)} must be a list of ${epoch} numbers (one per completed epoch), got ${JSON.stringify(values)}`);
    history[key] = [...(values as number[])];
  }

  // Group weights: per output, a finite weight ≥ 0 for every group id of this run.
  let groupWeights: Record<string, Record<number, number>> | null = null;
  if (!isRecord(ck.groupWeights)) bad("groupWeights must be an object");
  if (run.ids.length > 0) {
    groupWeights = {};
    for (const output of run.outputs) {
      const w = ck.groupWeights[output];
      const label = output ? `output ${JSON.stringify(output)}` : "the output";
      if (!isRecord(w)) bad(`has no group weights for ${label}`);
      groupWeights[output] = {};
      for (const id of run.ids) {
        const v = w[id];
        if (typeof v !== "number" || !(v >= 0 && v < Infinity)) bad(`has no finite weight ≥ 0 for group ${id} of ${label}`);
        groupWeights[output]![id] = v;
      }
    }
  } else if (Object.keys(ck.groupWeights).length > 0) bad("has group weights, but the data has no groups");

  // Callbacks: the k-th callback of a kind takes the k-th saved state of that kind.
  if (!Array.isArray(ck.callbacks)) bad("callbacks must be a list of { kind, state }");
  const savedKinds = ck.callbacks.map((c, i) => (isRecord(c) && typeof c.kind === "string" ? c.kind : bad(`callback ${i} must be { kind, state }`)));
  const seen = new Map<string, number>();
  const states: [Callback, unknown][] = [];
  run.callbacks.forEach((cb, i) => {
    const kind = kindOf(cb);
    const k = seen.get(kind) ?? 0;
    seen.set(kind, k + 1);
    const at = savedKinds.map((s, j) => (s === kind ? j : -1)).filter((j) => j >= 0)[k];
    if (!cb.setState) return;
    if (at === undefined) bad(`holds no state for callback ${i} (${kind}${k > 0 ? ` #${k + 1}` : ""}); it saved the callbacks [${savedKinds.join(", ")}]: resume with the callbacks of the run that wrote it`);
    const state = ck.callbacks[at]!.state;
    if (state !== null && state !== undefined) states.push([cb, state]);
  });

  // Everything above is checked: write, or put everything back.
  const tensors = [...run.model.namedParameters(), ...run.model.namedBuffers()].map(([, t]) => t.value.data);
  const modelBefore = tensors.map((d) => d.slice());
  const optimizerBefore = run.optimizer.stateDict();
  const generatorsBefore = [run.shuffleRng, ...run.generators.map(([, g]) => g)].map((g) => [g, g.getState()] as const);
  run.model.loadStateDict(ck.weights);
  try {
    run.optimizer.loadStateDict(ck.optimizer);
    run.shuffleRng.setState(ck.rng.shuffle);
    for (const [name, g] of run.generators) g.setState(ck.rng.model[name]!);
    for (const [cb, state] of states) cb.setState!(state);
  } catch (e) {
    tensors.forEach((d, i) => d.set(modelBefore[i]!));
    run.optimizer.loadStateDict(optimizerBefore);
    for (const [g, state] of generatorsBefore) g.setState(state);
    throw e;
  }
  return { epoch, globalStep, history, groupWeights };
}
