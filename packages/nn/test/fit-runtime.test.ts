/** trainStep, and fit() in constrained runtimes: no structuredClone/console/process/timers, an abort signal, yielding. */
import { Tensor, tensor } from "@zerograd/autograd";
import { meanSquaredError } from "@zerograd/losses";
import { NDArray, kernels, useKernels } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { Adam, Dense, Dropout, type Module, SGD, Sequential, earlyStopping, fit, groupReweighting, modelCheckpoint, trainStep } from "../src/index.js";
import { nextTurn } from "../src/train/runtime.js";

const silent = { verbose: "silent" } as const;
const weightsOf = (m: Module) => m.parameters().map((p) => Array.from(p.value.data));

/** 10 rows: y = 2·x₀ − x₁ + 0.5. */
function regression() {
  const x = new NDArray(Float32Array.from({ length: 20 }, (_, i) => Math.cos(i * 1.3)), [10, 2]);
  const y = new NDArray(Float32Array.from({ length: 10 }, (_, r) => 2 * x.data[2 * r]! - x.data[2 * r + 1]! + 0.5), [10, 1]);
  return { x, y };
}

describe("trainStep", () => {
  test("a hand-written loop with trainStep reaches bitwise the weights fit() reaches", async () => {
    const { x, y } = regression();
    const a = new Dense(2, 1, { seed: 4 });
    await fit(a, { x, y }, { optimizer: new SGD(a.parameters(), { lr: 0.1 }), loss: meanSquaredError, batchSize: 4, shuffle: false, epochs: 3, clipGradNorm: 0.5, ...silent });

    const b = new Dense(2, 1, { seed: 4 });
    const optimizer = new SGD(b.parameters(), { lr: 0.1 });
    const losses: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let start = 0; start < 10; start += 4) {
        const end = Math.min(10, start + 4);
        const xb = new Tensor(new NDArray(x.data.slice(start * 2, end * 2), [end - start, 2]));
        const yb = new NDArray(y.data.slice(start, end), [end - start, 1]);
        losses.push(trainStep(b, optimizer, () => meanSquaredError(b.call(xb), yb), { clipGradNorm: 0.5 }).loss);
      }
    }
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(losses.every(Number.isFinite)).toBe(true);
  });

  test("the gradients are scanned for NaN and ±Infinity once per step (by trainStep, not again by the optimizer)", () => {
    const m = new Sequential([new Dense(3, 4, { seed: 1 }), new Dense(4, 1, { seed: 2 })]);
    const optimizer = new Adam(m.parameters(), { lr: 0.1 });
    const active = kernels();
    let scans = 0;
    const previous = useKernels({ ...active, name: "counting", firstNonFinite: (g, rows, cols) => (scans++, active.firstNonFinite(g, rows, cols)) });
    try {
      trainStep(m, optimizer, () => meanSquaredError(m.call(tensor([[1, 2, 3]])), tensor([[1]])));
      expect(scans).toBe(4);
      optimizer.step(); // called directly, the optimizer scans for itself
      expect(scans).toBe(8);
    } finally {
      useKernels(previous);
    }
  });

  test("named losses are summed and each returned; a NaN loss changes nothing", () => {
    const m = new Dense(2, 1, { seed: 1 });
    const optimizer = new SGD(m.parameters(), { lr: 0.1 });
    const x = tensor([[1, 2]]);
    const result = trainStep(m, optimizer, () => {
      const out = m.call(x);
      return { a: meanSquaredError(out, tensor([[1]])), b: meanSquaredError(out, tensor([[3]])) };
    });
    expect(result.loss).toBeCloseTo(result.losses.a! + result.losses.b!, 5);
    const before = weightsOf(m);
    expect(() => trainStep(m, optimizer, () => meanSquaredError(m.call(x), tensor([[NaN]]), { maskValue: 7 }))).toThrow(/meanSquaredError: target is NaN/);
    expect(() => trainStep(m, optimizer, () => m.call(x).mul(NaN).sum())).toThrow(/^trainStep: the loss is NaN; the step was not applied \(.*detectAnomaly: true/);
    expect(weightsOf(m)).toEqual(before);
    expect(() => trainStep(m, optimizer, () => meanSquaredError(m.call(x), tensor([[1]])), { clipnorm: 1 } as never)).toThrow(/trainStep: unknown option "clipnorm"/);
    expect(() => trainStep(m, new SGD(new Dense(2, 1).parameters()), () => meanSquaredError(m.call(x), tensor([[1]])))).toThrow(/trainStep: the optimizer's parameter 0 \[1,2\] is not a parameter of the model/);
  });
});

/** Runs f with the named globals removed, putting them back afterwards. */
async function without<T>(names: string[], f: () => Promise<T>): Promise<T> {
  const g = globalThis as Record<string, unknown>;
  const saved = names.map((n) => [n, Object.getOwnPropertyDescriptor(g, n)] as const);
  for (const n of names) delete g[n];
  try {
    expect(names.every((n) => g[n] === undefined)).toBe(true);
    return await f();
  } finally {
    for (const [n, d] of saved) if (d) Object.defineProperty(g, n, d);
  }
}

const CONSTRAINED = ["structuredClone", "console", "process", "setTimeout", "setInterval", "setImmediate", "MessageChannel", "queueMicrotask", "performance"];

describe("constrained runtimes", () => {
  test("without structuredClone, console, process, timers or performance fit() trains, silently, with checkpoints and every built-in callback", async () => {
    const { x, y } = regression();
    const groups = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
    const train = async () => {
      const m = new Sequential([new Dense(2, 4, { seed: 2 }), new Dropout(0.1, { seed: 3 }), new Dense(4, 1, { seed: 5 })]);
      const saved: Uint8Array[] = [];
      const history = await fit(m, { x, y, groups }, {
        optimizer: new SGD(m.parameters(), { lr: 0.05 }),
        loss: meanSquaredError,
        validationData: { x, y, groups },
        epochs: 3,
        batchSize: 4,
        callbacks: [earlyStopping({ patience: 5, restoreBestWeights: true }), groupReweighting(), modelCheckpoint({ save: (bytes) => void saved.push(bytes) })],
      });
      return { history, weights: weightsOf(m), saved: saved.length };
    };
    const written: string[] = [];
    const plain = await train();
    const constrained = await without(CONSTRAINED, train);
    const withWrite = await without(CONSTRAINED, async () => {
      const m = new Dense(2, 1, { seed: 2 });
      return fit(m, { x, y }, { optimizer: new SGD(m.parameters()), loss: meanSquaredError, epochs: 2, verbose: "line", write: (s) => void written.push(s) });
    });
    expect(constrained.history).toEqual(plain.history);
    expect(constrained.weights).toEqual(plain.weights);
    expect(constrained.saved).toBe(3);
    expect(withWrite.epochs).toEqual([0, 1]);
    expect(written.join("")).toMatch(/^Epoch 1\/2  1\/1 - .*\nEpoch 2\/2  1\/1 - .*\n$/);
  });

  test("nextTurn settles with whatever scheduling exists, or none", async () => {
    for (const missing of [[], ["MessageChannel"], ["MessageChannel", "setTimeout"], ["MessageChannel", "setTimeout", "queueMicrotask"]]) {
      await expect(without(missing, () => nextTurn().then(() => "settled"))).resolves.toBe("settled");
    }
  });
});

describe("an abort signal", () => {
  test("stops after a whole step: the model is consistent and the history of the completed epochs is returned", async () => {
    const { x, y } = regression();
    const m = new Dense(2, 1, { seed: 2 });
    const controller = new AbortController();
    let atAbort: number[][] = [];
    let steps = 0;
    let ended = false;
    const history = await fit(m, { x, y }, {
      optimizer: new SGD(m.parameters(), { lr: 0.05 }),
      loss: meanSquaredError,
      epochs: 5,
      batchSize: 4,
      signal: controller.signal,
      callbacks: [
        {
          onBatchEnd: (_b, _logs, ctx) => {
            steps = ctx.globalStep;
            if (ctx.globalStep === 5) {
              controller.abort();
              atAbort = weightsOf(m);
            }
          },
          onTrainEnd: () => void (ended = true),
        },
      ],
      ...silent,
    });
    expect(steps).toBe(5); // epoch 1 (3 steps) and 2 of epoch 2's 3 steps
    expect(history.epochs).toEqual([0]);
    expect(history.history.loss).toHaveLength(1);
    expect(weightsOf(m)).toEqual(atAbort);
    expect(weightsOf(m).flat().every(Number.isFinite)).toBe(true);
    expect(ended).toBe(false);
  });

  test("an already aborted signal trains nothing", async () => {
    const { x, y } = regression();
    const m = new Dense(2, 1, { seed: 2 });
    const before = weightsOf(m);
    const history = await fit(m, { x, y }, { optimizer: new SGD(m.parameters()), loss: meanSquaredError, signal: { aborted: true }, ...silent });
    expect(history.epochs).toEqual([]);
    expect(weightsOf(m)).toEqual(before);
  });
});

describe("yielding to the event loop", () => {
  /** Whether a task queued before fit() ran while fit() was still training (seen from its last batch). */
  async function taskRanDuringTraining(yieldEvery: number | undefined): Promise<boolean> {
    const { x, y } = regression();
    const m = new Dense(2, 1, { seed: 2 });
    let ran = false;
    let seen = false;
    setTimeout(() => void (ran = true), 0);
    await fit(m, { x, y }, {
      optimizer: new SGD(m.parameters()),
      loss: meanSquaredError,
      epochs: 2,
      batchSize: 2,
      ...(yieldEvery === undefined ? {} : { yieldEvery }),
      callbacks: [{ onBatchEnd: (b, _l, ctx) => void (ctx.globalStep === 10 && (seen = ran)) }],
      ...silent,
    });
    return seen;
  }

  test("yieldEvery: 0 lets other tasks run between batches; Node's default (never) does not", async () => {
    expect(await taskRanDuringTraining(0)).toBe(true);
    expect(await taskRanDuringTraining(undefined)).toBe(false);
    expect(await taskRanDuringTraining(Infinity)).toBe(false);
  });
});
