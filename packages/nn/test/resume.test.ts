/**
 * Resuming from checkpoints: a resumed run equals an uninterrupted one bitwise, with every
 * built-in callback; bad checkpoints are refused before anything changes; callback states are
 * matched by kind; checkpoints are taken between epochs only.
 */
import { meanSquaredError } from "@zerograd/losses";
import { NDArray, Random } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import {
  Adam,
  type Callback,
  Dense,
  Dropout,
  type Module,
  Sequential,
  type TrainingCheckpoint,
  decodeCheckpoint,
  earlyStopping,
  encodeCheckpoint,
  fit,
  groupReweighting,
  learningRateScheduler,
  modelCheckpoint,
} from "../src/index.js";

/** 60 rows, 3 features, 3 groups (i mod 3) whose targets scale differently. */
function groupedData(n = 60, seed = 4) {
  const r = new Random(seed);
  const x = new Float32Array(n * 3), y = new Float32Array(n), g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) x[i * 3 + j] = r.normal();
    g[i] = i % 3;
    y[i] = x[i * 3]! * (g[i]! + 1) + 0.1 * r.normal();
  }
  return { x: new NDArray(x, [n, 3]), y: new NDArray(y, [n, 1]), groups: new NDArray(g, [n]) };
}

const net = (seed = 1) => new Sequential([new Dense(3, 4, { seed, activation: "tanh" }), new Dropout(0.2, { seed: seed + 10 }), new Dense(4, 1, { seed: seed + 1 })]);
const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const snapshot = (m: Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, bits(v.flat())]));
const data = groupedData();
const options = (m: Module, callbacks: Callback[]) => ({ optimizer: new Adam(m.parameters(), { lr: 0.05 }), loss: meanSquaredError, batchSize: 8, seed: 1, validationSplit: 0.3, verbose: "silent" as const, callbacks });

/** Runs 4 epochs in one go, and 2 + checkpoint (through its bytes) + 2 on a differently initialised model. */
async function wholeAndResumed(makeCallbacks: () => Callback[]) {
  const whole = net();
  const wholeHistory = await fit(whole, data, { ...options(whole, makeCallbacks()), epochs: 4 });
  const first = net();
  let saved: Uint8Array | null = null;
  await fit(first, data, { ...options(first, [...makeCallbacks(), modelCheckpoint({ save: (b) => void (saved = b) })]), epochs: 2 });
  const resumed = net(50);
  const history = await fit(resumed, data, { ...options(resumed, [...makeCallbacks(), modelCheckpoint({ save: () => {} })]), epochs: 4, resume: decodeCheckpoint(saved!) });
  return { whole, wholeHistory, resumed, history };
}

describe("resume equals an uninterrupted run, bitwise, with the stateful callbacks", () => {
  test("groupReweighting: its base weights are saved, not re-read from the re-weighted ones", async () => {
    const { whole, wholeHistory, resumed, history } = await wholeAndResumed(() => [groupReweighting()]);
    expect(snapshot(resumed)).toEqual(snapshot(whole));
    expect(history.history).toEqual(wholeHistory.history);
  });

  test("earlyStopping with restoreBestWeights: the best weights travel in the checkpoint", async () => {
    // minDelta 1e9: only epoch 0 improves (on Infinity), so the best weights are epoch 0's, taken before the checkpoint.
    const stop = () => earlyStopping({ monitor: "loss", patience: 100, minDelta: 1e9, restoreBestWeights: true });
    const { whole, resumed } = await wholeAndResumed(() => [stop()]);
    expect(snapshot(resumed)).toEqual(snapshot(whole));
  });

  test("tensors in callback states round-trip through the checkpoint bytes as tensors", async () => {
    const m = net();
    let saved: Uint8Array | null = null;
    let bestAfterEpoch0: Record<string, number[]> = {};
    await fit(m, data, {
      ...options(m, [
        earlyStopping({ monitor: "loss", patience: 100, minDelta: 1e9, restoreBestWeights: true }),
        { onEpochEnd: (e) => void (e === 0 && (bestAfterEpoch0 = snapshot(m))) },
        modelCheckpoint({ save: (b) => void (saved = b) }),
      ]),
      epochs: 2,
    });
    const ck = decodeCheckpoint(saved!);
    const state = ck.callbacks.find((c) => c.kind === "earlyStopping")!.state as { bestWeights: Record<string, NDArray> };
    expect(Object.fromEntries(Object.entries(state.bestWeights).map(([k, v]) => [k, bits(v.flat())]))).toEqual(bestAfterEpoch0);
  });
});

describe("a bad checkpoint is refused before anything changes", () => {
  /** A checkpoint after 1 epoch, and a fresh model and optimizer to resume it into. */
  async function setup() {
    const m = net();
    let saved: Uint8Array | null = null;
    await fit(m, data, { ...options(m, [earlyStopping({ monitor: "loss" }), modelCheckpoint({ save: (b) => void (saved = b) })]), epochs: 1 });
    const fresh = net(7);
    const optimizer = new Adam(fresh.parameters(), { lr: 0.05 });
    return { saved: saved!, fresh, optimizer, before: snapshot(fresh), optimizerBefore: optimizer.stateDict() };
  }

  const resumeWith = (s: Awaited<ReturnType<typeof setup>>, ck: TrainingCheckpoint, callbacks: Callback[] = [earlyStopping({ monitor: "loss" })]) =>
    fit(s.fresh, data, { ...options(s.fresh, callbacks), optimizer: s.optimizer, epochs: 3, resume: ck });

  test("malformed history, generator state or group weights: a clear error; model and optimizer untouched", async () => {
    const s = await setup();
    const cases: [(ck: TrainingCheckpoint) => void, RegExp][] = [
      [(ck) => ((ck as unknown as { history: unknown }).history = { loss: 5 }), /fit: the checkpoint \(resume\) history "loss" must be a list of 1 numbers \(one per completed epoch\), got 5/],
      [(ck) => (ck.history = { loss: [1, 2] }), /history "loss" must be a list of 1 numbers/],
      [(ck) => (ck.rng.shuffle = [1, 2, 3]), /malformed state for the generator "shuffle": expected four 32-bit words and a number, got \[1,2,3\]/],
      [(ck) => (ck.rng.model["1.generator"] = [0, 0, 0, 0, NaN]), /malformed state for the generator "1.generator"/],
      [(ck) => (ck.groupWeights = { "": { 0: 0.5 } }), /has group weights, but the data has no groups/],
      [(ck) => (ck.epoch = -1), /epoch must be a non-negative integer, got -1/],
    ];
    const plain = { x: data.x, y: data.y }; // no groups
    for (const [spoil, message] of cases) {
      const ck = decodeCheckpoint(s.saved);
      spoil(ck);
      await expect(fit(s.fresh, plain, { ...options(s.fresh, [earlyStopping({ monitor: "loss" })]), optimizer: s.optimizer, epochs: 3, resume: ck })).rejects.toThrow(message);
      expect(snapshot(s.fresh)).toEqual(s.before);
      expect(s.optimizer.stateDict()).toEqual(s.optimizerBefore);
    }
  });

  test("a callback state refused by setState puts the weights, optimizer and generators back", async () => {
    const s = await setup();
    const ck = decodeCheckpoint(s.saved);
    (ck.callbacks.find((c) => c.kind === "earlyStopping")!.state as { wait: number }).wait = -2;
    const dropoutState = s.fresh.namedGenerators()[0]![1].getState();
    await expect(resumeWith(s, ck)).rejects.toThrow("earlyStopping.setState: wait must be a non-negative integer, got -2");
    expect(snapshot(s.fresh)).toEqual(s.before);
    expect(s.optimizer.stateDict()).toEqual(s.optimizerBefore);
    expect(s.fresh.namedGenerators()[0]![1].getState()).toEqual(dropoutState);
  });

  test("restoreBestWeights on a state saved without best weights: an explicit error", async () => {
    const s = await setup(); // saved by earlyStopping without restoreBestWeights
    await expect(resumeWith(s, decodeCheckpoint(s.saved), [earlyStopping({ monitor: "loss", restoreBestWeights: true })])).rejects.toThrow(
      "earlyStopping.setState: restoreBestWeights needs the weights of the best epoch (1), but the saved state has none (it was saved without restoreBestWeights)",
    );
    expect(snapshot(s.fresh)).toEqual(s.before);
  });
});

describe("callback states are matched by kind", () => {
  test("a callback with state that the checkpoint does not hold: a clear error", async () => {
    const m = net();
    let saved: Uint8Array | null = null;
    await fit(m, data, { ...options(m, [earlyStopping({ monitor: "loss" }), modelCheckpoint({ save: (b) => void (saved = b) })]), epochs: 1 });
    const mine: Callback = { kind: "mine", getState: () => ({ n: 1 }), setState: () => {} };
    const fresh = net(3);
    await expect(fit(fresh, data, { ...options(fresh, [mine]), epochs: 2, resume: decodeCheckpoint(saved!) })).rejects.toThrow(
      "fit: the checkpoint (resume) holds no state for callback 0 (mine); it saved the callbacks [earlyStopping, modelCheckpoint]: resume with the callbacks of the run that wrote it",
    );
  });

  test("stateless callbacks added or removed do not shift the states of the others", async () => {
    const m = net();
    let saved: Uint8Array | null = null;
    const first = earlyStopping({ monitor: "loss", patience: 100 });
    await fit(m, data, { ...options(m, [learningRateScheduler(() => 0.05), first, modelCheckpoint({ save: (b) => void (saved = b) })]), epochs: 2 });
    expect(first.bestEpoch).toBe(1);
    // Resumed without the scheduler: earlyStopping is now first in the list, yet gets its own state.
    const again = earlyStopping({ monitor: "loss", patience: 100 });
    const fresh = net(3);
    await fit(fresh, data, { ...options(fresh, [again]), epochs: 2, resume: decodeCheckpoint(saved!) }); // 2 of 2 epochs done: no training
    expect(again.bestEpoch).toBe(1);
  });
});

describe("checkpoints are taken between epochs", () => {
  test("ctx.checkpoint() inside an epoch throws; resuming a between-epochs one is exact", async () => {
    const m = net();
    await expect(
      fit(m, data, { ...options(m, [{ onBatchEnd: (_b, _l, ctx) => void ctx.checkpoint() }]), epochs: 1 }),
    ).rejects.toThrow("fit: ctx.checkpoint() was called during epoch 1; checkpoints are taken between epochs (in onTrainBegin, onEpochEnd or onTrainEnd), since a resumed run starts at an epoch boundary");
    const other = net();
    await expect(fit(other, data, { ...options(other, [{ onEpochBegin: (_e, ctx) => void ctx.checkpoint() }]), epochs: 1 })).rejects.toThrow(/during epoch 1/);

    // A checkpoint taken by hand in onEpochEnd, kept in memory (no bytes), resumes exactly.
    const whole = net();
    await fit(whole, data, { ...options(whole, []), epochs: 3 });
    const first = net();
    let ck: TrainingCheckpoint | null = null;
    await fit(first, data, { ...options(first, [{ onEpochEnd: (e, _l, ctx) => void (e === 0 && (ck = ctx.checkpoint())) }]), epochs: 3 });
    const resumed = net(9);
    await fit(resumed, data, { ...options(resumed, []), epochs: 3, resume: decodeCheckpoint(encodeCheckpoint(ck!)) });
    expect(snapshot(resumed)).toEqual(snapshot(whole));
  });
});

describe("callbacks start afresh in every fit()", () => {
  test("an earlyStopping reused for a second model stops as a new one would", async () => {
    const run = async (stop: ReturnType<typeof earlyStopping>) => {
      const m = net();
      return (await fit(m, data, { ...options(m, [stop]), validationSplit: undefined, epochs: 12, callbacks: [stop] })).epochs.length;
    };
    const reused = earlyStopping({ monitor: "loss", patience: 1 });
    const first = await run(reused);
    expect(first).toBeGreaterThan(3); // the loss keeps falling for a while
    expect(await run(reused)).toBe(first); // the same model and data: the same epochs, not "no improvement on the old best"
    expect(reused.bestEpoch).not.toBeNull();
  });
});
