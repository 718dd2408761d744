/**
 * Callbacks: objects whose hooks fit() calls at the start and end of training, of each epoch and
 * of each batch. Any hook may return a promise; fit() waits for it. The built-ins: early
 * stopping, model checkpoints, learning-rate schedules and group re-weighting.
 */
import { inverseLossWeights } from "@zerograd/losses";
import { NDArray, type OptionsOf, boolean, defineOptions, func, integer, number, oneOf } from "@zerograd/tensor";
import type { AnyModule, StateDict } from "../module.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { Schedule } from "../optim/schedules.js";
import { type TrainingCheckpoint, encodeCheckpoint, encodeWeights } from "../serialize.js";
import { type Require, given, isObject, parseRequired, text } from "./fields.js";
import { copyNested } from "./runtime.js";

/** Values logged for an epoch (or a batch): "loss", "val_loss", "digit_accuracy", "lr", … */
export type Logs = Record<string, number>;

/** The record of a run: every logged value, one entry per epoch. */
export interface History {
  /** The epoch indices (0-based) the entries belong to. */
  epochs: number[];
  history: Record<string, number[]>;
}

/** What callbacks can see and change while fit() runs. */
export interface TrainingContext {
  readonly model: AnyModule;
  readonly optimizer: Optimizer;
  /** The epoch count fit() was asked for. */
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly history: History;
  /** Optimizer steps taken so far (over all epochs). */
  readonly globalStep: number;
  /** Set to true to stop after the current epoch. */
  stopTraining: boolean;
  /** Per output name ("" for a single output): the weight of each group id. Callbacks may replace them. */
  groupWeights: Record<string, Record<number, number>>;
  /** The group ids of the training and validation data together (sorted); empty without data.groups. */
  readonly groupIds: readonly number[];
  /** Per output: the latest validation loss within each group (in the order of groupIds). */
  validationGroupLosses(): Record<string, number[]>;
  /**
   * True when fit() continues from a checkpoint (`resume`): callbacks have been given their
   * saved state with setState, and onTrainBegin should keep it rather than start afresh.
   */
  readonly resumed: boolean;
  /**
   * The complete state of the run between epochs: resuming from it continues exactly from there
   * (bitwise). It may be taken in onTrainBegin, onEpochEnd (the epoch is then complete) and
   * onTrainEnd; inside an epoch (onEpochBegin, onBatchBegin, onBatchEnd) it throws, because a
   * resume always starts at an epoch boundary.
   */
  checkpoint(): TrainingCheckpoint;
  /** Writes a line through fit()'s output (nothing when silent). */
  log(message: string): void;
}

type Awaitable = void | Promise<void>;

export interface Callback {
  /**
   * A name saved with the callback's state in checkpoints ("earlyStopping", … for the built-ins;
   * default "callback"). On resume the k-th callback of a kind gets the k-th saved state of that
   * kind, and a callback with setState whose state is missing is an error.
   */
  readonly kind?: string;
  /** Run after the other callbacks at each hook, so that what it records (a checkpoint) is final. */
  readonly runLast?: boolean;
  onTrainBegin?(ctx: TrainingContext): Awaitable;
  onTrainEnd?(ctx: TrainingContext): Awaitable;
  onEpochBegin?(epoch: number, ctx: TrainingContext): Awaitable;
  onEpochEnd?(epoch: number, logs: Logs, ctx: TrainingContext): Awaitable;
  onBatchBegin?(batch: number, ctx: TrainingContext): Awaitable;
  onBatchEnd?(batch: number, logs: Logs, ctx: TrainingContext): Awaitable;
  /** A state saved in checkpoints: JSON-serialisable values and NDArrays (stored as tensors)… */
  getState?(): unknown;
  /** …and given back (before onTrainBegin) when fit() resumes from one. Check it before keeping any of it. */
  setState?(state: unknown): void;
}

type Mode = "min" | "max" | "auto";

/** "auto": larger is better for accuracies, smaller for everything else (losses, errors). */
function resolveMode(mode: Mode, monitor: string): "min" | "max" {
  if (mode !== "auto") return mode;
  return /acc/i.test(monitor) ? "max" : "min";
}

function monitored(op: string, logs: Logs, monitor: string): number {
  const v = logs[monitor];
  if (v === undefined) throw new RangeError(`${op}: monitor "${monitor}" is not logged; logged values: ${Object.keys(logs).join(", ")}`);
  return v;
}

/** Reads a saved state's field, or throws naming the callback and the rule. */
function stateField<T>(op: string, state: unknown, key: string, ok: (v: unknown) => boolean, rule: string): T {
  const v = typeof state === "object" && state !== null ? (state as Record<string, unknown>)[key] : undefined;
  if (!ok(v)) {
    const shown = JSON.stringify(v) ?? String(v);
    throw new RangeError(`${op}.setState: ${key} must be ${rule}, got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`);
  }
  return v as T;
}

const isNumber = (v: unknown) => typeof v === "number" && !Number.isNaN(v);
const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

/** Per output, a finite weight ≥ 0 per group id. */
function isGroupWeights(v: unknown): boolean {
  const isRecord = (r: unknown) => typeof r === "object" && r !== null && !Array.isArray(r);
  return isRecord(v) && Object.values(v as object).every((w) => isRecord(w) && Object.values(w as object).every((x) => typeof x === "number" && x >= 0 && x < Infinity));
}

/** Which value to watch: its name in the logs, and whether smaller or larger is better. */
const MONITOR = {
  /** Default "val_loss". */
  monitor: text({ default: "val_loss" }),
  /** "auto" (default): larger is better for accuracies, smaller for everything else. */
  mode: oneOf(["min", "max", "auto"], { default: "auto" }),
};

export const EARLY_STOPPING_OPTIONS = defineOptions({
  ...MONITOR,
  /** Smallest change that counts as an improvement (default 0; its sign is ignored). */
  minDelta: number({ default: 0 }),
  /** Epochs without improvement before stopping (default 0). */
  patience: integer({ min: 0, default: 0 }),
  /** At the end of training, put back the weights of the best epoch (default false). */
  restoreBestWeights: boolean({ default: false }),
});
export type EarlyStoppingOptions = OptionsOf<typeof EARLY_STOPPING_OPTIONS>;

/**
 * Stops training once the monitored value has gone `patience` epochs without improving (at the
 * first epoch without improvement when patience is 0), as Keras' EarlyStopping. Each fit()
 * starts it afresh (onTrainBegin), unless fit() resumes from a checkpoint: its state — with the
 * best weights, for restoreBestWeights — is saved in checkpoints.
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback & { stoppedEpoch: number | null; bestEpoch: number | null } {
  const op = "earlyStopping";
  const o = EARLY_STOPPING_OPTIONS.parse(op, options);
  const { monitor, patience } = o;
  const minDelta = Math.abs(o.minDelta);
  const mode = resolveMode(o.mode, monitor);
  let best = mode === "min" ? Infinity : -Infinity;
  let wait = 0;
  let bestWeights: StateDict | null = null;
  const better = (v: number) => (mode === "min" ? v < best - minDelta : v > best + minDelta);
  return {
    kind: op,
    stoppedEpoch: null,
    bestEpoch: null,
    onTrainBegin(ctx) {
      if (ctx.resumed) return;
      best = mode === "min" ? Infinity : -Infinity;
      wait = 0;
      bestWeights = null;
      this.bestEpoch = null;
      this.stoppedEpoch = null;
    },
    onEpochEnd(epoch, logs, ctx) {
      const v = monitored(op, logs, monitor);
      if (better(v)) {
        best = v;
        wait = 0;
        this.bestEpoch = epoch;
        if (o.restoreBestWeights) bestWeights = ctx.model.stateDict();
        return;
      }
      wait++;
      if (wait >= patience) {
        ctx.stopTraining = true;
        this.stoppedEpoch = epoch;
        ctx.log(`Epoch ${epoch + 1}: early stopping (${monitor} has not improved for ${wait} epoch${wait === 1 ? "" : "s"}; best ${best} at epoch ${(this.bestEpoch ?? 0) + 1})`);
      }
    },
    onTrainEnd(ctx) {
      if (bestWeights) ctx.model.loadStateDict(bestWeights);
    },
    getState() {
      return { best, wait, bestEpoch: this.bestEpoch, stoppedEpoch: this.stoppedEpoch, bestWeights };
    },
    setState(state) {
      const savedBest = stateField<number>(op, state, "best", (v) => typeof v === "number", "a number");
      const savedWait = stateField<number>(op, state, "wait", isCount, "a non-negative integer");
      const bestEpoch = stateField<number | null>(op, state, "bestEpoch", (v) => v === null || isCount(v), "an epoch index or null");
      const stoppedEpoch = stateField<number | null>(op, state, "stoppedEpoch", (v) => v === null || v === undefined || isCount(v), "an epoch index or null");
      const weights = stateField<StateDict | null>(op, state, "bestWeights", (v) => v === null || v === undefined || (typeof v === "object" && Object.values(v as object).every((a) => a instanceof NDArray)), "a state dict or null");
      if (o.restoreBestWeights && bestEpoch !== null && !weights) {
        throw new RangeError(`${op}.setState: restoreBestWeights needs the weights of the best epoch (${bestEpoch + 1}), but the saved state has none (it was saved without restoreBestWeights)`);
      }
      best = savedBest;
      wait = savedWait;
      bestWeights = o.restoreBestWeights ? (weights ?? null) : null;
      this.bestEpoch = bestEpoch;
      this.stoppedEpoch = stoppedEpoch ?? null;
    },
  };
}

export const MODEL_CHECKPOINT_OPTIONS = defineOptions({
  ...MONITOR,
  /** Receives the bytes of each checkpoint (a safetensors file) — e.g. to write it to disk (required). */
  save: func<(bytes: Uint8Array, info: { epoch: number; logs: Logs }) => Awaitable>(),
  /** "checkpoint" (default): everything needed to resume; "weights": the model's weights only. */
  format: oneOf(["checkpoint", "weights"], { default: "checkpoint" }),
  /** Save only when the monitored value improves (default false). */
  saveBestOnly: boolean({ default: false }),
});
export type ModelCheckpointOptions = Require<OptionsOf<typeof MODEL_CHECKPOINT_OPTIONS>, "save">;

/**
 * Saves a checkpoint (or the weights) at the end of every epoch, or only of the best ones.
 * It runs after the other callbacks, so the checkpoint holds their final state for the epoch.
 */
export function modelCheckpoint(options: ModelCheckpointOptions): Callback {
  const op = "modelCheckpoint";
  const o = parseRequired(MODEL_CHECKPOINT_OPTIONS, op, options, ["save"]);
  const { monitor, save } = o;
  const mode = resolveMode(o.mode, monitor);
  let best = mode === "min" ? Infinity : -Infinity;
  return {
    kind: op,
    runLast: true,
    onTrainBegin(ctx) {
      if (!ctx.resumed) best = mode === "min" ? Infinity : -Infinity;
    },
    async onEpochEnd(epoch, logs, ctx) {
      if (o.saveBestOnly) {
        const v = monitored(op, logs, monitor);
        if (!(mode === "min" ? v < best : v > best)) return;
        best = v;
      }
      const bytes = o.format === "weights" ? encodeWeights(ctx.model) : encodeCheckpoint(ctx.checkpoint());
      await save(bytes, { epoch, logs });
    },
    getState: () => ({ best }),
    setState(state) {
      best = stateField<number>(op, state, "best", isNumber, "a number");
    },
  };
}

export const LEARNING_RATE_SCHEDULER_OPTIONS = defineOptions({
  /** "epoch" (default): schedule(epoch) before each epoch; "batch": schedule(step) before each batch. */
  per: oneOf(["epoch", "batch"], { default: "epoch" }),
});
export type LearningRateSchedulerOptions = OptionsOf<typeof LEARNING_RATE_SCHEDULER_OPTIONS>;

/**
 * Sets the optimizer's learning rate from a schedule: `schedule(epoch)` before each epoch, or
 * with `per: "batch"`, `schedule(step)` before each batch (step = optimizer steps so far).
 */
export function learningRateScheduler(schedule: Schedule, options: LearningRateSchedulerOptions = {}): Callback {
  const kind = "learningRateScheduler";
  if (typeof schedule !== "function") throw new TypeError(`${kind}: schedule must be a function of the epoch (or step)`);
  const { per } = LEARNING_RATE_SCHEDULER_OPTIONS.parse(kind, options);
  return per === "epoch"
    ? { kind, onEpochBegin: (epoch, ctx) => void (ctx.optimizer.lr = schedule(epoch)) }
    : { kind, onBatchBegin: (_batch, ctx) => void (ctx.optimizer.lr = schedule(ctx.globalStep)) };
}

export const GROUP_REWEIGHTING_OPTIONS = defineOptions({
  /** Which outputs to re-weight (default: all). */
  outputs: given<readonly string[]>("a list of output names", (v) => Array.isArray(v) && v.every((n) => typeof n === "string")),
  /** Base weight per group id (default: the group weights fit() started with). */
  base: given<Readonly<Record<number, number>>>("a weight per group id", isObject),
});
export type GroupReweightingOptions = OptionsOf<typeof GROUP_REWEIGHTING_OPTIONS>;

/**
 * After each epoch, sets every group's weight inversely proportional to its validation loss,
 * w_g ∝ base_g / loss_g, normalised to sum 1 (inverseLossWeights from @zerograd/losses): groups
 * the model does badly on count more in the next epoch. Needs validation data with groups, and
 * every group id in it. The base weights are part of its state, so a resumed run re-weights
 * from the same base as the run that saved the checkpoint.
 */
export function groupReweighting(options: GroupReweightingOptions = {}): Callback {
  const op = "groupReweighting";
  const o = GROUP_REWEIGHTING_OPTIONS.parse(op, options);
  let base: Record<string, Record<number, number>> = {};
  return {
    kind: op,
    onTrainBegin(ctx) {
      if (ctx.groupIds.length === 0) throw new RangeError(`${op}: needs data.groups (a group id per sample)`);
      // On resume the base came back with setState; ctx.groupWeights are the re-weighted ones by now.
      if (ctx.resumed && Object.keys(base).length > 0) return;
      base = Object.fromEntries(Object.entries(ctx.groupWeights).map(([output, w]) => [output, { ...(o.base ?? w) }]));
    },
    getState: () => ({ base }),
    setState(state) {
      base = copyNested(stateField<Record<string, Record<number, number>>>(op, state, "base", isGroupWeights, "per output, a finite weight ≥ 0 per group id"));
    },
    onEpochEnd(_epoch, _logs, ctx) {
      const losses = ctx.validationGroupLosses();
      const ids = ctx.groupIds;
      for (const [output, perGroup] of Object.entries(losses)) {
        if (o.outputs && !o.outputs.includes(output)) continue;
        const b = ids.map((id) => {
          const w = base[output]?.[id];
          if (w === undefined) throw new RangeError(`groupReweighting: no base weight for group ${id}`);
          return w;
        });
        const w = inverseLossWeights(perGroup, b);
        ctx.groupWeights[output] = Object.fromEntries(ids.map((id, i) => [id, w[i]!]));
      }
    },
  };
}
