/**
 * Everything a run of fit() carries from step to step and from epoch to epoch, as one object:
 * the epoch and step counters, the history, the group weights and — by reference — the model,
 * the optimizer, the generators and the callbacks. `save()` is a checkpoint of all of it;
 * `restore(checkpoint)` puts a checkpoint back, checking every part before writing any.
 */
import { Random } from "@zerograd/tensor";
import type { AnyModule } from "../module.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { TrainingCheckpoint } from "../serialize.js";
import type { Callback, History } from "./callbacks.js";
import { range } from "./data.js";
import { copyLists, copyNested } from "./runtime.js";

type GroupWeights = Record<string, Record<number, number>>;

export class RunState {
  epoch = 0;
  /** Optimizer steps taken, over all epochs. */
  globalStep = 0;
  readonly history: History = { epochs: [], history: {} };
  /** The model's generators (dropout), by name. */
  readonly generators: [string, Random][];

  constructor(
    readonly op: string,
    readonly model: AnyModule,
    readonly optimizer: Optimizer,
    readonly shuffleRng: Random,
    readonly callbacks: readonly Callback[],
    /** The plan's output names and the run's group ids (what group weights must cover). */
    readonly outputs: readonly string[],
    readonly ids: readonly number[],
    public groupWeights: GroupWeights,
  ) {
    this.generators = model.namedGenerators();
  }

  /** The complete state between epochs: resuming from it continues bitwise from here. */
  save(): TrainingCheckpoint {
    return {
      epoch: this.epoch,
      globalStep: this.globalStep,
      weights: this.model.stateDict(),
      optimizer: this.optimizer.stateDict(),
      rng: { shuffle: this.shuffleRng.getState(), model: Object.fromEntries(this.generators.map(([n, g]) => [n, g.getState()])) },
      history: copyLists(this.history.history),
      groupWeights: copyNested(this.groupWeights),
      callbacks: this.callbacks.map((cb) => ({ kind: kindOf(cb), state: cb.getState?.() ?? null })),
    };
  }

  /**
   * Puts a checkpoint's state back. Every part is checked before anything is written (model and
   * optimizer check their own states completely first); if a callback's setState still throws,
   * the model, the optimizer and the generators are put back as they were.
   */
  restore(ck: TrainingCheckpoint): void {
    const bad = (rule: string): never => {
      throw new RangeError(`${this.op}: the checkpoint (resume) ${rule}`);
    };
    if (!isRecord(ck)) bad("must be an object (see decodeCheckpoint)");
    const count = (v: unknown, name: string) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : bad(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`));
    const epoch = count(ck.epoch, "epoch");
    const globalStep = count(ck.globalStep, "globalStep");
    this.checkGenerators(ck, bad);
    const history = readHistory(ck, epoch, bad);
    const groupWeights = this.readGroupWeights(ck, bad);
    const states = this.callbackStates(ck, bad);
    this.write(ck, states);
    this.epoch = epoch;
    this.globalStep = globalStep;
    this.history.history = history;
    this.history.epochs = [...range(0, epoch)];
    if (groupWeights) this.groupWeights = groupWeights;
  }

  /** The same generator names as the model's, and well-formed states. */
  private checkGenerators(ck: TrainingCheckpoint, bad: (rule: string) => never): void {
    if (!isRecord(ck.rng) || !isRecord(ck.rng.model)) bad("rng must be { shuffle, model }");
    const savedNames = Object.keys(ck.rng.model).sort().join(", ");
    const names = this.generators.map(([n]) => n).sort().join(", ");
    if (savedNames !== names) bad(`has the generators [${savedNames}], which do not match the model's [${names}]`);
    for (const [name, state] of [["shuffle", ck.rng.shuffle], ...Object.entries(ck.rng.model)] as [string, unknown][]) {
      if (!isGeneratorState(state)) bad(`has a malformed state for the generator ${JSON.stringify(name)}: expected four 32-bit words and a number, got ${JSON.stringify(state)}`);
    }
  }

  /** Per output, a finite weight ≥ 0 for every group id of this run (null: the run has no groups). */
  private readGroupWeights(ck: TrainingCheckpoint, bad: (rule: string) => never): GroupWeights | null {
    if (!isRecord(ck.groupWeights)) bad("groupWeights must be an object");
    if (this.ids.length === 0) {
      if (Object.keys(ck.groupWeights).length > 0) bad("has group weights, but the data has no groups");
      return null;
    }
    const out: GroupWeights = {};
    for (const output of this.outputs) {
      const w = ck.groupWeights[output];
      const label = output ? `output ${JSON.stringify(output)}` : "the output";
      if (!isRecord(w)) bad(`has no group weights for ${label}`);
      out[output] = {};
      for (const id of this.ids) {
        const v = w[id];
        if (typeof v !== "number" || !(v >= 0 && v < Infinity)) bad(`has no finite weight ≥ 0 for group ${id} of ${label}`);
        out[output]![id] = v;
      }
    }
    return out;
  }

  /** The k-th callback of a kind takes the k-th saved state of that kind. */
  private callbackStates(ck: TrainingCheckpoint, bad: (rule: string) => never): [Callback, unknown][] {
    if (!Array.isArray(ck.callbacks)) bad("callbacks must be a list of { kind, state }");
    const savedKinds = ck.callbacks.map((c, i) => (isRecord(c) && typeof c.kind === "string" ? c.kind : bad(`callback ${i} must be { kind, state }`)));
    const seen = new Map<string, number>();
    const states: [Callback, unknown][] = [];
    this.callbacks.forEach((cb, i) => {
      const kind = kindOf(cb);
      const k = seen.get(kind) ?? 0;
      seen.set(kind, k + 1);
      const at = savedKinds.map((s, j) => (s === kind ? j : -1)).filter((j) => j >= 0)[k];
      if (!cb.setState) return;
      if (at === undefined) bad(`holds no state for callback ${i} (${kind}${k > 0 ? ` #${k + 1}` : ""}); it saved the callbacks [${savedKinds.join(", ")}]: resume with the callbacks of the run that wrote it`);
      const state = ck.callbacks[at]!.state;
      if (state !== null && state !== undefined) states.push([cb, state]);
    });
    return states;
  }

  /** Everything is checked: write it all, or put everything back. */
  private write(ck: TrainingCheckpoint, states: [Callback, unknown][]): void {
    const tensors = [...this.model.namedParameters(), ...this.model.namedBuffers()].map(([, t]) => t.value.data);
    const modelBefore = tensors.map((d) => d.slice());
    const optimizerBefore = this.optimizer.stateDict();
    const generatorsBefore = [this.shuffleRng, ...this.generators.map(([, g]) => g)].map((g) => [g, g.getState()] as const);
    this.model.loadStateDict(ck.weights);
    try {
      this.optimizer.loadStateDict(ck.optimizer);
      this.shuffleRng.setState(ck.rng.shuffle);
      for (const [name, g] of this.generators) g.setState(ck.rng.model[name]!);
      for (const [cb, state] of states) cb.setState!(state);
    } catch (e) {
      tensors.forEach((d, i) => d.set(modelBefore[i]!));
      this.optimizer.loadStateDict(optimizerBefore);
      for (const [g, state] of generatorsBefore) g.setState(state);
      throw e;
    }
  }
}

/** One number per completed epoch for every logged value. */
function readHistory(ck: TrainingCheckpoint, epoch: number, bad: (rule: string) => never): Record<string, number[]> {
  if (!isRecord(ck.history)) bad("history must be an object of lists");
  const history: Record<string, number[]> = {};
  for (const [key, values] of Object.entries(ck.history)) {
    if (!Array.isArray(values) || values.length !== epoch || !values.every((v) => typeof v === "number")) bad(`history ${JSON.stringify(key)} must be a list of ${epoch} numbers (one per completed epoch), got ${JSON.stringify(values)}`);
    history[key] = [...(values as number[])];
  }
  return history;
}

export function kindOf(cb: Callback): string {
  return cb.kind ?? "callback";
}

/** A generator state as Random.getState() writes it: four 32-bit words (not all 0) and the cached normal (NaN for none). */
function isGeneratorState(s: unknown): s is number[] {
  if (!Array.isArray(s) || s.length !== 5) return false;
  const words = s.slice(0, 4);
  return words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32) && words.some((w) => w !== 0) && typeof s[4] === "number" && (Number.isNaN(s[4]) || Number.isFinite(s[4]));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
