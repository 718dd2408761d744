import { Tensor, sqrt, tensor } from "@zerograd/autograd";
import { binaryCrossEntropy, inverseLossWeights, meanSquaredError, sparseAccuracy, sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { NDArray, Random } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import {
  Adam,
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  MaxPool2D,
  Module,
  MultiHead,
  SGD,
  Sequential,
  type TrainingContext,
  decodeCheckpoint,
  earlyStopping,
  evaluate,
  fit,
  groupReweighting,
  learningRateScheduler,
  manualSeed,
  modelCheckpoint,
  predict,
  stepDecay,
} from "../src/index.js";
import { splitDigits } from "./helpers/digits.js";

const silent = { verbose: "silent" } as const;
const logits = (loss: typeof sparseCategoricalCrossEntropy | typeof binaryCrossEntropy, extra: Record<string, unknown> = {}) => ({ loss, options: { fromLogits: true, ...extra } });

/** Returns its input: predictions equal x, so losses can be worked out by hand. */
class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Returns its input under two names. */
class TwoIdentities extends Module<[Tensor], Record<string, Tensor>> {
  forward(x: Tensor): Record<string, Tensor> {
    return { a: x, b: x };
  }
}

const testAccuracy = (model: Module, x: NDArray, y: NDArray) => sparseAccuracy(predict(model, x, { batchSize: 256 }) as NDArray, y);

describe("fit learns", () => {
  test("XOR", async () => {
    manualSeed(1);
    const model = new Sequential([new Dense(2, 8, { activation: "tanh" }), new Dense(8, 1)]);
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tensor([[0], [1], [1], [0]]);
    const history = await fit(model, { x, y }, { optimizer: new Adam(model.parameters(), { lr: 0.05 }), loss: logits(binaryCrossEntropy), metrics: ["accuracy"], epochs: 300, batchSize: 4, ...silent });
    expect(history.history.accuracy!.at(-1)).toBe(1);
    expect(history.history.loss!.at(-1)).toBeLessThan(0.05);
    const p = predict(model, x) as NDArray;
    expect(Array.from(p.data).map((v) => (v > 0 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });

  test("a linear regression recovers its coefficients", async () => {
    const rng = new Random(4);
    const n = 256;
    const x = new Float32Array(n * 2), y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = rng.uniform(-1, 1);
      x[2 * i + 1] = rng.uniform(-1, 1);
      y[i] = 3 * x[2 * i]! - 2 * x[2 * i + 1]! + 1 + 0.01 * rng.normal();
    }
    const model = new Dense(2, 1, { seed: 2 });
    const history = await fit(model, { x: new NDArray(x, [n, 2]), y: new NDArray(y, [n, 1]) }, { optimizer: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }), loss: meanSquaredError, metrics: ["mae"], epochs: 20, batchSize: 16, seed: 3, ...silent });
    expect(Array.from(model.weight.data)[0]).toBeCloseTo(3, 1);
    expect(Array.from(model.weight.data)[1]).toBeCloseTo(-2, 1);
    expect(model.bias!.data[0]).toBeCloseTo(1, 1);
    expect(history.history.mae!.at(-1)).toBeLessThan(0.02);
  });

  test("an MLP on the digits: ≥ 95 % test accuracy", async () => {
    const { train, test: held } = splitDigits(0.25, 1);
    manualSeed(3);
    const model = new Sequential([new Dense(64, 64, { activation: "relu" }), new Dropout(0.1), new Dense(64, 10)]);
    const history = await fit(model, { x: train.x, y: train.y }, {
      optimizer: new Adam(model.parameters(), { lr: 0.005 }),
      loss: logits(sparseCategoricalCrossEntropy),
      metrics: ["accuracy"],
      epochs: 12,
      validationSplit: 0.1,
      seed: 5,
      ...silent,
    });
    expect(history.history.val_accuracy!.at(-1)).toBeGreaterThan(0.9);
    expect(testAccuracy(model, held.x, held.y)).toBeGreaterThanOrEqual(0.95);
  });

  test("a small CNN on the digits: ≥ 97 % test accuracy", async () => {
    const { train, test: held } = splitDigits(0.25, 1);
    const images = (x: NDArray) => new NDArray(x.data, [x.shape[0]!, 8, 8, 1]);
    manualSeed(3);
    const model = new Sequential([
      new Conv2D(1, 8, 3, { padding: "same", activation: "relu" }),
      new MaxPool2D(2),
      new Conv2D(8, 16, 3, { padding: "same", activation: "relu" }),
      new MaxPool2D(2),
      new Flatten(),
      new Dense(64, 10),
    ]);
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    await fit(model, { x: images(train.x), y: train.y }, {
      optimizer,
      loss: logits(sparseCategoricalCrossEntropy),
      epochs: 10,
      seed: 5,
      callbacks: [learningRateScheduler(stepDecay(0.01, 4, 0.3))],
      ...silent,
    });
    expect(testAccuracy(model, images(held.x), held.y)).toBeGreaterThanOrEqual(0.97);
  });

  test("a multi-output model with 50 % of each head's labels missing learns every head", async () => {
    const { train, test: held } = splitDigits(0.25, 2);
    const n = train.count;
    // Three heads on one trunk: the digit (missing = −1), its parity (missing = NaN) and the digit / 9 (missing = NaN).
    // Each head loses a different, independent half of its labels.
    const rng = new Random(11);
    const digit = new Float32Array(n), odd = new Float32Array(n), value = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const d = train.y.data[i]!;
      digit[i] = rng.next() < 0.5 ? -1 : d;
      odd[i] = rng.next() < 0.5 ? NaN : d % 2;
      value[i] = rng.next() < 0.5 ? NaN : d / 9;
    }
    manualSeed(5);
    const model = new MultiHead(new Sequential([new Dense(64, 64, { activation: "relu" })]), {
      digit: new Dense(64, 10),
      odd: new Dense(64, 1),
      value: new Dense(64, 1),
    });
    const loss = {
      digit: logits(sparseCategoricalCrossEntropy, { ignoreIndex: -1 }),
      odd: logits(binaryCrossEntropy, { maskValue: NaN }),
      value: { loss: meanSquaredError, options: { maskValue: NaN } },
    };
    const y = { digit: new NDArray(digit, [n]), odd: new NDArray(odd, [n, 1]), value: new NDArray(value, [n, 1]) };
    const history = await fit(model, { x: train.x, y }, {
      optimizer: new Adam(model.parameters(), { lr: 0.005 }),
      loss,
      lossWeights: { digit: 1, odd: 0.5, value: 2 },
      metrics: { digit: ["accuracy"], odd: ["accuracy"], value: ["mae"] },
      epochs: 25,
      seed: 6,
      ...silent,
    });
    for (const key of ["loss", "digit_loss", "odd_loss", "value_loss", "digit_accuracy", "odd_accuracy", "value_mae"]) {
      expect(history.history[key]!.every(Number.isFinite), key).toBe(true);
    }
    // Every head works on the test set, where all labels are known.
    const out = predict(model, held.x) as Record<string, NDArray>;
    const labels = Array.from(held.y.data);
    expect(sparseAccuracy(out.digit!, held.y)).toBeGreaterThanOrEqual(0.93);
    const oddAcc = Array.from(out.odd!.data).filter((v, i) => (v > 0 ? 1 : 0) === labels[i]! % 2).length / labels.length;
    expect(oddAcc).toBeGreaterThanOrEqual(0.93);
    const mae = Array.from(out.value!.data).reduce((s, v, i) => s + Math.abs(v - labels[i]! / 9), 0) / labels.length;
    // The best constant (the median of the known training values) as the baseline to beat by half.
    const known = Array.from(value).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    const median = known[Math.floor(known.length / 2)]!;
    const baseline = labels.reduce((s, l) => s + Math.abs(median - l / 9), 0) / labels.length;
    expect(baseline).toBeGreaterThan(0.25);
    expect(mae).toBeLessThan(0.5 * baseline);
    // The logged total is the weighted sum of the output losses.
    const last = (k: string) => history.history[k]!.at(-1)!;
    expect(last("loss")).toBeCloseTo(last("digit_loss") + 0.5 * last("odd_loss") + 2 * last("value_loss"), 5);
  }, 30_000);
});

describe("missing labels inside fit", () => {
  test("a batch without labels for an output adds 0 and moves none of that head's weights", async () => {
    manualSeed(2);
    const model = new MultiHead(new Dense(2, 3), { a: new Dense(3, 1), b: new Dense(3, 1) });
    const headB = Array.from(model.heads.b.weight.data);
    const x = tensor([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const y = { a: tensor([[1], [2], [3], [4]]), b: tensor([[NaN], [NaN], [1], [0]]) };
    const batches: number[] = [];
    let afterFirst: number[] = [];
    await fit(model, { x, y }, {
      optimizer: new SGD(model.parameters(), { lr: 0.01 }),
      loss: { a: meanSquaredError, b: { loss: meanSquaredError, options: { maskValue: NaN } } },
      batchSize: 2,
      shuffle: false,
      callbacks: [
        {
          onBatchEnd(b, logs) {
            batches.push(logs.loss!);
            if (b === 0) afterFirst = Array.from(model.heads.b.weight.data);
          },
        },
      ],
      ...silent,
    });
    expect(batches.every(Number.isFinite)).toBe(true);
    expect(afterFirst).toEqual(headB);
    expect(Array.from(model.heads.b.weight.data)).not.toEqual(headB); // the second batch had labels
  });

  test("an unmasked NaN label is reported, not trained on", async () => {
    const model = new Identity();
    const p = new Dense(1, 1, { seed: 1 });
    await expect(fit(new Sequential([p, model]), { x: tensor([[1], [2]]), y: tensor([[1], [NaN]]) }, { optimizer: new SGD(p.parameters()), loss: meanSquaredError, ...silent })).rejects.toThrow(/target is NaN at unmasked element/);
  });
});

describe("evaluate: exact masked, weighted and grouped losses", () => {
  // The Identity model predicts x itself, so every number below is worked out by hand.
  const x = tensor([[1], [2], [3], [4]]);
  const y = tensor([[0], [0], [NaN], [0]]);

  test("masks: the mean is over the labels that exist", () => {
    const logs = evaluate(new Identity(), { x, y }, { loss: { loss: meanSquaredError, options: { maskValue: NaN } }, metrics: ["mae", "mse"] });
    // (1 + 4 + 16) / 3; MAE (1 + 2 + 4) / 3
    expect(logs.loss).toBeCloseTo(7, 5);
    expect(logs.mae).toBeCloseTo(7 / 3, 5);
    expect(logs.mse).toBeCloseTo(7, 5);
  });

  test("sample weights multiply each sample's loss; 'mean' still divides by the count of labels", () => {
    const logs = evaluate(new Identity(), { x, y, sampleWeight: [2, 0, 5, 1] }, { loss: { loss: meanSquaredError, options: { maskValue: NaN } } });
    expect(logs.loss).toBeCloseTo((2 * 1 + 0 * 4 + 1 * 16) / 3, 5);
  });

  test("per-sample loss options (mask, weights) with one row per sample are sliced with the batches", () => {
    const opts = { loss: meanSquaredError, options: { mask: [[1], [1], [0], [0]], weights: [[1], [3], [1], [1]] } };
    const logs = evaluate(new Identity(), { x, y: tensor([[0], [0], [0], [0]]) }, { loss: opts, batchSize: 1 });
    expect(logs.loss).toBeCloseTo((1 + 3 * 4) / 2, 5);
  });

  test("class weights weigh each sample by its label's class (binary: [w₀, w₁])", () => {
    const logitsX = tensor([[0], [0], [0]]); // BCE from logit 0 is log 2 for either label
    const logs = evaluate(new Identity(), { x: logitsX, y: tensor([[1], [0], [NaN]]) }, { loss: logits(binaryCrossEntropy, { maskValue: NaN }), classWeight: [1, 3] });
    expect(logs.loss).toBeCloseTo(((3 + 1) * Math.log(2)) / 2, 5);
  });

  test("groups: Σ_g w_g·(mean within g); default weights are equal and sum to 1", () => {
    const data = { x, y: tensor([[0], [0], [0], [0]]), groups: [0, 0, 1, 1] };
    // group 0: (1 + 4)/2 = 2.5; group 1: (9 + 16)/2 = 12.5
    expect(evaluate(new Identity(), data, { loss: meanSquaredError }).loss).toBeCloseTo(0.5 * 2.5 + 0.5 * 12.5, 5);
    expect(evaluate(new Identity(), data, { loss: meanSquaredError, groupWeights: [0.9, 0.1] }).loss).toBeCloseTo(0.9 * 2.5 + 0.1 * 12.5, 5);
  });

  test("several outputs: loss weights, per-output logs and metrics", () => {
    const logs = evaluate(new TwoIdentities(), { x, y: { a: tensor([[0], [0], [0], [0]]), b: tensor([[1], [2], [3], [0]]) } }, {
      loss: { a: meanSquaredError, b: meanSquaredError },
      lossWeights: { a: 0.5 },
      metrics: { b: ["mae"] },
    });
    expect(logs.a_loss).toBeCloseTo(30 / 4, 5);
    expect(logs.b_loss).toBeCloseTo(16 / 4, 5);
    expect(logs.loss).toBeCloseTo(0.5 * 7.5 + 4, 5);
    expect(logs.b_mae).toBeCloseTo(1, 5);
    expect(Object.keys(logs)).toEqual(["loss", "a_loss", "b_loss", "b_mae"]);
  });

  test("an output with no label at all has loss 0 and metric 0, not NaN", () => {
    const logs = evaluate(new TwoIdentities(), { x, y: { a: tensor([[0], [0], [0], [0]]), b: tensor([[NaN], [NaN], [NaN], [NaN]]) } }, {
      loss: { a: meanSquaredError, b: { loss: meanSquaredError, options: { maskValue: NaN } } },
      metrics: { b: ["mae"] },
    });
    expect(logs.b_loss).toBe(0);
    expect(logs.b_mae).toBe(0);
    expect(logs.loss).toBeCloseTo(7.5, 5);
  });
});

describe("predict", () => {
  test("batches give the same values as one call, in inference mode, and the mode is restored", () => {
    manualSeed(4);
    const model = new Sequential([new Dense(3, 5), new Dropout(0.5), new Dense(5, 2)]);
    const x = new NDArray(Float32Array.from({ length: 30 }, (_, i) => Math.sin(i)), [10, 3]);
    const whole = model.eval().call(new Tensor(x));
    model.train();
    const batched = predict(model, x, { batchSize: 3 }) as NDArray;
    expect(Array.from(batched.data)).toEqual(Array.from(whole.data));
    expect(model.training).toBe(true);
  });

  test("inputs may be flat values with a shape, typed arrays or nested arrays", () => {
    const d = new Dense(2, 1, { seed: 1 });
    d.loadStateDict({ weight: new NDArray(new Float32Array([1, 10]), [1, 2]), bias: new NDArray(new Float32Array([0]), [1]) });
    expect(Array.from((predict(d, { data: new Float64Array([1, 2, 3, 4]), shape: [2, 2] }) as NDArray).data)).toEqual([21, 43]);
    expect(Array.from((predict(d, [[1, 2], [3, 4]]) as NDArray).data)).toEqual([21, 43]);
    expect(() => predict(d, { data: new Float32Array(3), shape: [2, 2] })).toThrow(/3 values do not fill the shape/);
  });

  test("records of outputs come back as records; named inputs go in as records", () => {
    class Named extends Module<[Record<string, Tensor>], Record<string, Tensor>> {
      forward(x: Record<string, Tensor>) {
        return { sum: x.a!.add(x.b!), a: x.a! };
      }
    }
    const out = predict(new Named(), { a: [[1], [2]], b: [[10], [20]] }, { batchSize: 1 }) as Record<string, NDArray>;
    expect(Array.from(out.sum!.data)).toEqual([11, 22]);
    expect(() => predict(new Named(), { a: [[1], [2]], b: [[10]] })).toThrow(/x.b must have 2 samples along axis 0/);
  });
});

describe("callbacks", () => {
  const data = () => ({ x: tensor([[1], [2], [3], [4]]), y: tensor([[2], [4], [6], [8]]) });
  const linear = () => new Dense(1, 1, { seed: 3 });

  test("hooks run in order with the epoch and batch indices", async () => {
    const calls: string[] = [];
    const model = linear();
    await fit(model, data(), {
      optimizer: new SGD(model.parameters(), { lr: 0.01 }),
      loss: meanSquaredError,
      epochs: 2,
      batchSize: 3,
      callbacks: [
        {
          onTrainBegin: () => void calls.push("train+"),
          onEpochBegin: (e) => void calls.push(`epoch${e}+`),
          onBatchBegin: (b) => void calls.push(`b${b}+`),
          onBatchEnd: (b, logs) => void calls.push(`b${b}-${logs.size}`),
          onEpochEnd: async (e, logs) => void calls.push(`epoch${e}-${Object.keys(logs).join(",")}`),
          onTrainEnd: () => void calls.push("train-"),
        },
      ],
      ...silent,
    });
    expect(calls).toEqual(["train+", "epoch0+", "b0+", "b0-3", "b1+", "b1-1", "epoch0-loss,lr", "epoch1+", "b0+", "b0-3", "b1+", "b1-1", "epoch1-loss,lr", "train-"]);
  });

  test("earlyStopping stops when val_loss stops improving, and can restore the best weights", async () => {
    const model = linear();
    const optimizer = new SGD(model.parameters(), { lr: 0.01 });
    const stop = earlyStopping({ patience: 2, restoreBestWeights: true });
    let best: number[] = [];
    const lines: string[] = [];
    const history = await fit(model, data(), {
      optimizer,
      loss: meanSquaredError,
      epochs: 20,
      validationData: { x: tensor([[1]]), y: tensor([[2]]) },
      callbacks: [
        learningRateScheduler((epoch) => (epoch < 2 ? 0.01 : 0)), // no progress after epoch 2
        { onEpochEnd: (e) => void (e === 1 && (best = Array.from(model.weight.data))) },
        stop,
      ],
      verbose: "line",
      write: (s) => void lines.push(s),
    });
    // Epochs 3 and 4 (indices 2, 3) do not improve on epoch 2 (index 1): stop after index 3.
    expect(history.epochs).toEqual([0, 1, 2, 3]);
    expect(stop.stoppedEpoch).toBe(3);
    expect(stop.bestEpoch).toBe(1);
    expect(Array.from(model.weight.data)).toEqual(best);
    expect(lines.at(-1)).toMatch(/^Epoch 4: early stopping \(val_loss has not improved for 2 epochs; best .* at epoch 2\)\n$/);
  });

  test("learningRateScheduler per epoch and per batch sets the rate the optimizer uses", async () => {
    const model = linear();
    const history = await fit(model, data(), { optimizer: new SGD(model.parameters()), loss: meanSquaredError, epochs: 3, callbacks: [learningRateScheduler(stepDecay(0.1, 1, 0.5))], ...silent });
    expect(history.history.lr).toEqual([0.1, 0.05, 0.025]);
    const rates: number[] = [];
    const opt = new SGD(model.parameters());
    await fit(model, data(), { optimizer: opt, loss: meanSquaredError, epochs: 2, batchSize: 2, callbacks: [learningRateScheduler((t) => 0.1 / (t + 1), { per: "batch" }), { onBatchEnd: () => void rates.push(opt.lr) }], ...silent });
    expect(rates).toEqual([0.1, 0.05, 0.1 / 3, 0.025]);
  });

  test("modelCheckpoint hands over a checkpoint per epoch, or only the best ones", async () => {
    const model = linear();
    const saved: { epoch: number; bytes: Uint8Array }[] = [];
    const best: number[] = [];
    await fit(model, data(), {
      optimizer: new SGD(model.parameters(), { lr: 0.01 }),
      loss: meanSquaredError,
      epochs: 3,
      callbacks: [
        modelCheckpoint({ save: (bytes, { epoch }) => void saved.push({ epoch, bytes }) }),
        modelCheckpoint({ save: (_b, { epoch }) => void best.push(epoch), saveBestOnly: true, monitor: "loss" }),
      ],
      ...silent,
    });
    expect(saved.map((s) => s.epoch)).toEqual([0, 1, 2]);
    const ck = decodeCheckpoint(saved[2]!.bytes);
    expect(ck.epoch).toBe(3);
    expect(ck.globalStep).toBe(3);
    expect(Array.from(ck.weights.weight!.data)).toEqual(Array.from(model.weight.data));
    expect(ck.history.loss).toHaveLength(3);
    expect(best).toEqual([0, 1, 2]); // the loss falls every epoch
  });

  test("groupReweighting sets each group's weight from its validation loss with inverseLossWeights", async () => {
    // Group 1's targets are far from what a constant can fit: its validation loss is higher.
    const x = tensor([[1], [1], [1], [1], [1], [1]]);
    const y = tensor([[1], [1], [1], [5], [-3], [9]]);
    const groups = [0, 0, 0, 1, 1, 1];
    const model = new Dense(1, 1, { seed: 1 });
    let seen: Record<string, Record<number, number>> = {};
    let expected: number[] = [];
    await fit(model, { x, y, groups }, {
      optimizer: new SGD(model.parameters(), { lr: 0.05 }),
      loss: meanSquaredError,
      validationData: { x, y, groups },
      groupWeights: { 0: 0.5, 1: 0.5 },
      epochs: 2,
      callbacks: [
        {
          onEpochEnd(_e, _logs, ctx: TrainingContext) {
            const losses = ctx.validationGroupLosses()[""]!;
            // each group's own validation loss, recomputed from the predictions
            const p = (predict(model, x) as NDArray).data;
            const target = [1, 1, 1, 5, -3, 9];
            const mse = (ids: number[]) => ids.reduce((s, i) => s + (p[i]! - target[i]!) ** 2, 0) / ids.length;
            expect(losses[0]).toBeCloseTo(mse([0, 1, 2]), 4);
            expect(losses[1]).toBeCloseTo(mse([3, 4, 5]), 4);
            expected = inverseLossWeights(losses, [0.5, 0.5]);
          },
        },
        groupReweighting(),
        { onEpochEnd: (_e, _l, ctx) => void (seen = structuredClone(ctx.groupWeights)) },
      ],
      ...silent,
    });
    expect(seen[""]![0]).toBeCloseTo(expected[0]!, 12);
    expect(seen[""]![1]).toBeCloseTo(expected[1]!, 12);
    expect(seen[""]![0]).toBeGreaterThan(seen[""]![1]!);
  });
});

describe("progress display", () => {
  const run = async (verbose: "line" | "bar" | "silent") => {
    const out: string[] = [];
    const model = new Dense(1, 1, { seed: 1 });
    await fit(model, { x: tensor([[1], [2], [3]]), y: tensor([[1], [2], [3]]) }, { optimizer: new SGD(model.parameters(), { lr: 0.01 }), loss: meanSquaredError, metrics: ["mae"], epochs: 2, batchSize: 2, verbose, write: (s) => void out.push(s) });
    return out.join("");
  };

  test("line: one plain line per epoch with the logs", async () => {
    const text = await run("line");
    const lines = text.split("\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2  2\/2 - \d+s \d+(ms|us)\/step - loss: \d\.\d{4} - mae: \d\.\d{4} - lr: 0\.0100$/);
    expect(text).not.toContain("\r");
  });

  test("bar: redrawn in place; silent: nothing", async () => {
    const text = await run("bar");
    expect(text).toContain("\r");
    expect(text).toContain("[==============================]");
    expect(await run("silent")).toBe("");
  });
});

describe("fit errors", () => {
  const model = () => new Dense(1, 1, { seed: 1 });
  const d = { x: tensor([[1], [2]]), y: tensor([[1], [2]]) };

  test("options and data are checked up front", async () => {
    const m = model();
    const optimizer = new SGD(m.parameters());
    await expect(fit(m, d, { loss: meanSquaredError } as never)).rejects.toThrow("fit: options.optimizer must be an Optimizer (SGD, Adam, …)");
    await expect(fit(m, d, { optimizer, loss: meanSquaredError, batchSize: 0 })).rejects.toThrow("fit: batchSize must be an integer ≥ 1, got 0");
    await expect(fit(m, { x: d.x }, { optimizer, loss: meanSquaredError })).rejects.toThrow("fit: no targets for the output (y is missing)");
    await expect(fit(m, { x: d.x, y: tensor([[1]]) }, { optimizer, loss: meanSquaredError })).rejects.toThrow("fit: y must have 2 samples along axis 0 (as x): [1,1]");
    await expect(fit(m, d, { optimizer, loss: { a: meanSquaredError } })).rejects.toThrow(/y must be a record of arrays by output name/);
    await expect(fit(m, { x: d.x, y: { a: d.y } }, { optimizer, loss: { a: meanSquaredError } })).rejects.toThrow(/the model returned a Tensor \[2,1\], but losses were given per output name/);
    await expect(fit(m, d, { optimizer, loss: meanSquaredError, validationSplit: 1 })).rejects.toThrow(/validationSplit must be in \(0, 1\)/);
    await expect(fit(m, d, { optimizer, loss: meanSquaredError, metrics: ["accuracy"] })).rejects.toThrow(/"accuracy" needs a classification loss/);
    await expect(fit(m, d, { optimizer, loss: meanSquaredError, metrics: ["f1" as never] })).rejects.toThrow(/unknown metric "f1"/);
  });

  test("a loss that becomes NaN stops training with a clear error", async () => {
    const m = model();
    await expect(fit(m, { x: tensor([[1e30], [2e30]]), y: d.y }, { optimizer: new SGD(m.parameters(), { lr: 1e10 }), loss: meanSquaredError, epochs: 3, ...silent })).rejects.toThrow(/fit: the loss is (NaN|Infinity) at epoch \d, batch 1/);
  });
});

describe("training and inference modes", () => {
  const x = new NDArray(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3 + 1), [8, 3]);
  const y = new NDArray(Float32Array.from({ length: 8 }, (_, i) => Math.cos(i)), [8, 1]);

  test("a layer frozen with eval() stays frozen through fit, predict and evaluate", async () => {
    const bn = new BatchNormalization(4);
    const model = new Sequential([new Dense(3, 4, { seed: 1 }), bn, new Dense(4, 1, { seed: 2 })]);
    model.train();
    bn.eval(); // use the running statistics, never update them
    const stats = Array.from(bn.running_mean.data);
    await fit(model, { x, y }, { optimizer: new Adam(model.parameters()), loss: meanSquaredError, epochs: 2, batchSize: 4, validationSplit: 0.25, ...silent });
    expect(Array.from(bn.running_mean.data)).toEqual(stats);
    expect([model.training, bn.training]).toEqual([true, false]);
    predict(model, x);
    evaluate(model, { x, y }, { loss: meanSquaredError });
    expect([model.training, bn.training, model.at(0).training]).toEqual([true, false, true]);
  });

  test("a model in inference mode is trained in training mode, then put back in inference mode", async () => {
    const bn = new BatchNormalization(4);
    const model = new Sequential([new Dense(3, 4, { seed: 1 }), bn, new Dense(4, 1, { seed: 2 })]).eval();
    await fit(model, { x, y }, { optimizer: new Adam(model.parameters()), loss: meanSquaredError, batchSize: 4, ...silent });
    expect(Array.from(bn.running_mean.data)).not.toEqual([0, 0, 0, 0]); // batch statistics were used and tracked
    expect(model.modules().map((m) => m.training)).toEqual([false, false, false, false]);
  });
});

describe("non-finite gradients", () => {
  /** sqrt(0·z): a finite loss (0) whose gradient is ∞·0 = NaN. */
  class SqrtNet extends Module {
    norm = new BatchNormalization(3);
    lin = new Dense(3, 1, { seed: 1, bias: false });
    forward(x: Tensor): Tensor {
      return sqrt(this.lin.call(this.norm.call(x)).mul(0));
    }
  }

  test("stop training, name the parameter, epoch and batch, and leave the model as before the step", async () => {
    const model = new SqrtNet();
    const before = model.stateDict();
    const x = new NDArray(Float32Array.from({ length: 12 }, (_, i) => i), [4, 3]);
    const y = new NDArray(new Float32Array(4), [4, 1]);
    await expect(fit(model, { x, y }, { optimizer: new SGD(model.parameters(), { lr: 0.1 }), loss: meanSquaredError, ...silent })).rejects.toThrow(
      'fit: the gradient of "norm.weight" [3] holds NaN (element 0) at epoch 1, batch 1; the step was not applied',
    );
    const after = model.stateDict();
    for (const k of Object.keys(before)) expect(Array.from(after[k]!.data), k).toEqual(Array.from(before[k]!.data)); // weights and batch-norm statistics
  });
});

describe("dropLast", () => {
  const n = 33;
  const x = new NDArray(Float32Array.from({ length: n * 3 }, (_, i) => Math.sin(i)), [n, 3]);
  const y = new NDArray(Float32Array.from({ length: n }, (_, i) => Math.cos(i)), [n, 1]);
  const bnNet = () => new Sequential([new Dense(3, 4, { seed: 1 }), new BatchNormalization(4), new Dense(4, 1, { seed: 2 })]);

  test("a last batch of one row stops BatchNormalization, with a hint; dropLast leaves it out", async () => {
    const m = bnNet();
    await expect(fit(m, { x, y }, { optimizer: new Adam(m.parameters()), loss: meanSquaredError, batchSize: 32, ...silent })).rejects.toThrow(/pass dropLast: true/);
    const batches: number[] = [];
    const history = await fit(m, { x, y }, { optimizer: new Adam(m.parameters()), loss: meanSquaredError, batchSize: 32, epochs: 2, dropLast: true, callbacks: [{ onBatchEnd: (_b, logs) => void batches.push(logs.size!) }], ...silent });
    expect(batches).toEqual([32, 32]);
    expect(history.history.loss!.every(Number.isFinite)).toBe(true);
  });

  test("the epoch's logs cover the rows trained on", async () => {
    const m = new Dense(3, 1, { seed: 4 });
    const history = await fit(m, { x, y }, { optimizer: new SGD(m.parameters(), { lr: 0 }), loss: meanSquaredError, metrics: ["mae"], batchSize: 10, shuffle: false, dropLast: true, ...silent });
    // lr 0: the predictions never change; rows 0..29 were trained on, 30..32 dropped.
    const p = (predict(m, x) as NDArray).data;
    const mse = Array.from({ length: 30 }, (_, i) => (p[i]! - y.data[i]!) ** 2).reduce((a, b) => a + b) / 30;
    const mae = Array.from({ length: 30 }, (_, i) => Math.abs(p[i]! - y.data[i]!)).reduce((a, b) => a + b) / 30;
    expect(history.history.loss![0]).toBeCloseTo(mse, 6);
    expect(history.history.mae![0]).toBeCloseTo(mae, 6);
  });

  test("dropLast with fewer rows than one batch is an error", async () => {
    const m = new Dense(3, 1, { seed: 4 });
    await expect(fit(m, { x, y }, { optimizer: new SGD(m.parameters()), loss: meanSquaredError, batchSize: 64, dropLast: true, ...silent })).rejects.toThrow(
      "fit: dropLast with batchSize 64 leaves no batch: the training data has 33 rows",
    );
  });
});

describe("groups in the validation data", () => {
  const n = 40;
  const rng = new Random(3);
  const x = new NDArray(Float32Array.from({ length: n * 3 }, () => rng.normal()), [n, 3]);
  const y = new NDArray(Float32Array.from({ length: n }, (_, i) => x.data[i * 3]!), [n, 1]);
  const groups = new NDArray(Float32Array.from({ length: n }, (_, i) => Math.floor(i / 10)), [n]); // 0..3, contiguous: validationSplit 0.25 holds group 3 only

  test("a group only in the validation data gets a default weight: equal over all the groups", async () => {
    const m = new Dense(3, 1, { seed: 1 });
    let seen: Record<string, Record<number, number>> = {};
    const history = await fit(m, { x, y, groups }, {
      optimizer: new Adam(m.parameters()),
      loss: meanSquaredError,
      validationSplit: 0.25,
      epochs: 2,
      batchSize: 4,
      callbacks: [{ onEpochEnd: (_e, _l, ctx) => void (seen = structuredClone(ctx.groupWeights)) }],
      ...silent,
    });
    expect(seen[""]).toEqual({ 0: 0.25, 1: 0.25, 2: 0.25, 3: 0.25 });
    // val_loss = ¼ · (mean squared error within group 3), worked out from the predictions
    const p = (predict(m, x) as NDArray).data;
    const within = Array.from({ length: 10 }, (_, k) => (p[30 + k]! - y.data[30 + k]!) ** 2).reduce((a, b) => a + b) / 10;
    expect(history.history.val_loss!.at(-1)).toBeCloseTo(0.25 * within, 6);
  });

  test("given group weights without a weight for a validation-only group: an error before training", async () => {
    const m = new Dense(3, 1, { seed: 1 });
    let began = false;
    await expect(
      fit(m, { x, y, groups }, { optimizer: new Adam(m.parameters()), loss: meanSquaredError, validationSplit: 0.25, groupWeights: [0.3, 0.3, 0.4], callbacks: [{ onTrainBegin: () => void (began = true) }], ...silent }),
    ).rejects.toThrow("fit: groupWeights has no finite weight ≥ 0 for group 3 (it appears only in the validation data)");
    expect(began).toBe(false);
  });

  test("evaluate with fit's current group weights reproduces val_loss", async () => {
    const xs = tensor([[1], [1], [1], [1], [1], [1]]);
    const ys = tensor([[1], [1], [1], [5], [-3], [9]]);
    const g = [0, 0, 0, 1, 1, 1];
    const m = new Dense(1, 1, { seed: 1 });
    let last: Record<number, number> = {};
    const history = await fit(m, { x: xs, y: ys, groups: g }, {
      optimizer: new SGD(m.parameters(), { lr: 0.05 }),
      loss: meanSquaredError,
      validationData: { x: xs, y: ys, groups: g },
      epochs: 3,
      callbacks: [groupReweighting(), { onEpochBegin: (_e, ctx) => void (last = { ...ctx.groupWeights[""] }) }],
      ...silent,
    });
    expect(last[0]).not.toBeCloseTo(0.5, 3); // re-weighted by then
    const logs = evaluate(m, { x: xs, y: ys, groups: g }, { loss: meanSquaredError, groupWeights: last });
    expect(logs.loss).toBeCloseTo(history.history.val_loss!.at(-1)!, 6);
    expect(evaluate(m, { x: xs, y: ys, groups: g }, { loss: meanSquaredError }).loss).not.toBeCloseTo(logs.loss!, 3); // the default: equal weights
  });
});

describe("fit checks its options before training", () => {
  const m = () => new Dense(1, 1, { seed: 1 });
  const d = { x: tensor([[1], [2]]), y: tensor([[1], [2]]) };

  test("clipping values", async () => {
    for (const [key, value] of [["clipGradNorm", 0], ["clipGradNorm", NaN], ["clipGradValue", -1], ["clipGradValue", Infinity]] as const) {
      const model = m();
      let began = false;
      await expect(fit(model, d, { optimizer: new SGD(model.parameters()), loss: meanSquaredError, [key]: value, callbacks: [{ onTrainBegin: () => void (began = true) }], ...silent })).rejects.toThrow(
        `fit: ${key} must be a finite number > 0, got ${value}`,
      );
      expect(began).toBe(false);
    }
  });

  test("per-sample loss options cannot apply to validationData", async () => {
    const model = m();
    const loss = { loss: meanSquaredError, options: { mask: [[1], [0]] } };
    await expect(fit(model, d, { optimizer: new SGD(model.parameters()), loss, validationData: { x: tensor([[3]]), y: tensor([[3]]) }, ...silent })).rejects.toThrow(
      "fit: the loss option mask holds one row per training sample (2), so it cannot apply to validationData; give per-sample weights as data.sampleWeight (validationData takes its own) or use validationSplit",
    );
  });

  test("a frozen parameter is accepted and left alone", async () => {
    const model = new Dense(2, 1, { seed: 3 });
    model.weight.requireGrad(false);
    const weight = Array.from(model.weight.data), bias = Array.from(model.bias!.data);
    await fit(model, { x: tensor([[1, 2], [3, 4]]), y: tensor([[1], [2]]) }, { optimizer: new SGD(model.parameters(), { lr: 0.1 }), loss: meanSquaredError, epochs: 2, ...silent });
    expect(Array.from(model.weight.data)).toEqual(weight);
    expect(Array.from(model.bias!.data)).not.toEqual(bias);
  });
});
