/**
 * Callbacks: objects whose hooks fit() calls at the start and end of training, of each epoch and
 * of each batch. Any hook may return a promise; fit() waits for it. The built-ins: early
 * stopping, model checkpoints, learning-rate schedules and group re-weighting.
 */
import { inverseLossWeights } from "@zerograd/losses";
import { checkArg } from "@zerograd/tensor";
import type { AnyModule } from "../module.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { Schedule } from "../optim/schedules.js";
import { type TrainingCheckpoint, encodeCheckpoint, encodeWeights } from "../serialize.js";

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
  /** The group ids of the training data (sorted); empty without data.groups. */
  readonly groupIds: readonly number[];
  /** Per output: the latest validation loss within each group (in the order of groupIds). */
  validationGroupLosses(): Record<string, number[]>;
  /** The complete state of the run now: resuming from it continues exactly from here. */
  checkpoint(): TrainingCheckpoint;
  /** Writes a line through fit()'s output (nothing when silent). */
  log(message: string): void;
}

type Awaitable = void | Promise<void>;

export interface Callback {
  /** Run after the other callbacks at each hook, so that what it records (a checkpoint) is final. */
  readonly runLast?: boolean;
  onTrainBegin?(ctx: TrainingContext): Awaitable;
  onTrainEnd?(ctx: TrainingContext): Awaitable;
  onEpochBegin?(epoch: number, ctx: TrainingContext): Awaitable;
  onEpochEnd?(epoch: number, logs: Logs, ctx: TrainingContext): Awaitable;
  onBatchBegin?(batch: number, ctx: TrainingContext): Awaitable;
  onBatchEnd?(batch: number, logs: Logs, ctx: TrainingContext): Awaitable;
  /** A JSON-serialisable state saved in checkpoints… */
  getState?(): unknown;
  /** …and given back when fit() resumes from one. */
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

export interface EarlyStoppingOptions {
  /** Default "val_loss". */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  mode?: Mode;
  /** At the end of training, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
}

/**
 * Stops training once the monitored value has gone `patience` epochs without improving (at the
 * first epoch without improvement when patience is 0), as Keras' EarlyStopping.
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback & { stoppedEpoch: number | null; bestEpoch: number | null } {
  const op = "earlyStopping";
  const monitor = options.monitor ?? "val_loss";
  const minDelta = Math.abs(options.minDelta ?? 0);
  const patience = options.patience ?? 0;
  checkArg(Number.isInteger(patience) && patience >= 0, op, `patience must be a non-negative integer, got ${patience}`);
  const mode = resolveMode(options.mode ?? "auto", monitor);
  let best = mode === "min" ? Infinity : -Infinity;
  let wait = 0;
  let bestWeights: ReturnType<AnyModule["stateDict"]> | null = null;
  const better = (v: number) => (mode === "min" ? v < best - minDelta : v > best + minDelta);
  return {
    stoppedEpoch: null,
    bestEpoch: null,
    onEpochEnd(epoch, logs, ctx) {
      const v = monitored(op, logs, monitor);
      if (better(v)) {
        best = v;
        wait = 0;
        this.bestEpoch = epoch;
        if (options.restoreBestWeights) bestWeights = ctx.model.stateDict();
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
      return { best, wait, bestEpoch: this.bestEpoch };
    },
    setState(state) {
      const s = state as { best: number; wait: number; bestEpoch: number | null };
      best = s.best;
      wait = s.wait;
      this.bestEpoch = s.bestEpoch;
    },
  };
}

export interface ModelCheckpointOptions {
  /** Receives the bytes of each checkpoint (a safetensors file) — e.g. to write it to disk. */
  save: (bytes: Uint8Array, info: { epoch: number; logs: Logs }) => Awaitable;
  /** "checkpoint" (default): everything needed to resume; "weights": the model's weights only. */
  format?: "checkpoint" | "weights";
  /** Save only when the monitored value improves. */
  saveBestOnly?: boolean;
  /** Default "val_loss". */
  monitor?: string;
  mode?: Mode;
}

/**
 * Saves a checkpoint (or the weights) at the end of every epoch, or only of the best ones.
 * It runs after the other callbacks, so the checkpoint holds their final state for the epoch.
 */
export function modelCheckpoint(options: ModelCheckpointOptions): Callback {
  const op = "modelCheckpoint";
  if (typeof options?.save !== "function") throw new TypeError(`${op}: options.save must be a function receiving the bytes`);
  const monitor = options.monitor ?? "val_loss";
  const mode = resolveMode(options.mode ?? "auto", monitor);
  let best = mode === "min" ? Infinity : -Infinity;
  return {
    runLast: true,
    async onEpochEnd(epoch, logs, ctx) {
      if (options.saveBestOnly) {
        const v = monitored(op, logs, monitor);
        if (!(mode === "min" ? v < best : v > best)) return;
        best = v;
      }
      const bytes = options.format === "weights" ? encodeWeights(ctx.model) : encodeCheckpoint(ctx.checkpoint());
      await options.save(bytes, { epoch, logs });
    },
    getState: () => ({ best }),
    setState(state) {
      best = (state as { best: number }).best;
    },
  };
}

/**
 * Sets the optimizer's learning rate from a schedule: `schedule(epoch)` before each epoch, or
 * with `per: "batch"`, `schedule(step)` before each batch (step = optimizer steps so far).
 */
export function learningRateScheduler(schedule: Schedule, options: { per?: "epoch" | "batch" } = {}): Callback {
  if (typeof schedule !== "function") throw new TypeError("learningRateScheduler: schedule must be a function of the epoch (or step)");
  const per = options.per ?? "epoch";
  checkArg(per === "epoch" || per === "batch", "learningRateScheduler", `per must be "epoch" or "batch", got ${String(per)}`);
  return per === "epoch"
    ? { onEpochBegin: (epoch, ctx) => void (ctx.optimizer.lr = schedule(epoch)) }
    : { onBatchBegin: (_batch, ctx) => void (ctx.optimizer.lr = schedule(ctx.globalStep)) };
}

export interface GroupReweightingOptions {
  /** Which outputs to re-weight (default: all). */
  outputs?: readonly string[];
  /** Base weight per group id (default: the group weights fit() started with). */
  base?: Readonly<Record<number, number>>;
}

/**
 * After each epoch, sets every group's weight inversely proportional to its validation loss,
 * w_g ∝ base_g / loss_g, normalised to sum 1 (inverseLossWeights from @zerograd/losses): groups
 * the model does badly on count more in the next epoch. Needs validation data with groups.
 */
export function groupReweighting(options: GroupReweightingOptions = {}): Callback {
  let base: Record<string, Record<number, number>> = {};
  return {
    onTrainBegin(ctx) {
      if (ctx.groupIds.length === 0) throw new RangeError("groupReweighting: needs data.groups (a group id per sample)");
      base = Object.fromEntries(Object.entries(ctx.groupWeights).map(([o, w]) => [o, options.base ?? { ...w }]));
    },
    onEpochEnd(_epoch, _logs, ctx) {
      const losses = ctx.validationGroupLosses();
      const ids = ctx.groupIds;
      for (const [output, perGroup] of Object.entries(losses)) {
        if (options.outputs && !options.outputs.includes(output)) continue;
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
