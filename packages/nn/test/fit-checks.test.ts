/** fit(), evaluate() and predict() check their options and all of their data before the first step. */
import * as autograd from "@zerograd/autograd";
import { Tensor, log, tensor } from "@zerograd/autograd";
import { meanSquaredError, sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { NDArray } from "@zerograd/tensor";
import { describe, expect, expectTypeOf, test } from "vitest";
import {
  type AnyModule,
  AvgPool2D,
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  Embedding,
  type FitOptions,
  LayerNormalization,
  Module,
  type Optimizer,
  ProgressBar,
  SGD,
  earlyStopping,
  evaluate,
  fit,
  groupReweighting,
  learningRateScheduler,
  modelCheckpoint,
  predict,
} from "../src/index.js";

const silent = { verbose: "silent" } as const;
const weightsOf = (m: AnyModule) => m.parameters().map((p) => Array.from(p.value.data));

/** 12 rows of 3 features, labels 0/1 alternating; the model has 2 classes. */
function classification(labels?: number[]) {
  const x = new NDArray(Float32Array.from({ length: 36 }, (_, i) => Math.sin(i)), [12, 3]);
  const y = new NDArray(Float32Array.from(labels ?? Array.from({ length: 12 }, (_, i) => i % 2)), [12]);
  return { x, y };
}
const sparse = { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } };

describe("options: one schema, unknown keys refused", () => {
  const model = () => new Dense(1, 1, { seed: 1 });
  const d = { x: tensor([[1], [2]]), y: tensor([[1], [2]]) };

  test("fit(…, { lr }) names fit and lists the known options; near misses get a hint", async () => {
    const m = model();
    const base = { optimizer: new SGD(m.parameters()), loss: meanSquaredError, ...silent };
    const before = weightsOf(m);
    await expect(fit(m, d, { ...base, lr: 0.1 } as never)).rejects.toThrow(TypeError);
    await expect(fit(m, d, { ...base, lr: 0.1 } as never)).rejects.toThrow(/^fit: unknown option "lr"; known options: .*optimizer.*epochs.*batchSize/);
    await expect(fit(m, d, { ...base, epoch: 3 } as never)).rejects.toThrow('fit: unknown option "epoch" (did you mean "epochs"?)');
    await expect(fit(m, d, { ...base, batch_size: 8 } as never)).rejects.toThrow('(did you mean "batchSize"?)');
    await expect(fit(m, d, { ...base, verbose: "loud" } as never)).rejects.toThrow('fit: verbose must be one of "auto", "bar", "line", "silent", got "loud"');
    await expect(fit(m, d, { ...base, yieldEvery: -1 })).rejects.toThrow("fit: yieldEvery must be a number ≥ 0, got -1");
    await expect(fit(m, d, { ...base, signal: {} as never })).rejects.toThrow(/fit: signal must be an AbortSignal/);
    expect(weightsOf(m)).toEqual(before);
  });

  test("evaluate, predict, callbacks, the progress bar and loadStateDict", () => {
    const m = model();
    expect(() => evaluate(m, d, { loss: meanSquaredError, batchsize: 4 } as never)).toThrow('evaluate: unknown option "batchsize" (did you mean "batchSize"?)');
    expect(() => predict(m, d.x, { batch: 4 } as never)).toThrow(/predict: unknown option "batch"/);
    expect(() => earlyStopping({ patiance: 2 } as never)).toThrow('earlyStopping: unknown option "patiance" (did you mean "patience"?)');
    expect(() => earlyStopping({ patience: -1 })).toThrow("earlyStopping: patience must be an integer ≥ 0, got -1");
    expect(() => modelCheckpoint({} as never)).toThrow("modelCheckpoint: options.save is required");
    expect(() => modelCheckpoint({ save: () => {}, save_best_only: true } as never)).toThrow('(did you mean "saveBestOnly"?)');
    expect(() => learningRateScheduler(() => 0.1, { per: "step" } as never)).toThrow('learningRateScheduler: per must be one of "epoch", "batch", got "step"');
    expect(() => groupReweighting({ output: ["a"] } as never)).toThrow('(did you mean "outputs"?)');
    expect(() => new ProgressBar({ total: 3, mode: "line", write: () => {}, widt: 3 } as never)).toThrow('ProgressBar: unknown option "widt" (did you mean "width"?)');
    expect(() => m.loadStateDict(m.stateDict(), { strcit: false } as never)).toThrow('loadStateDict: unknown option "strcit" (did you mean "strict"?)');
  });

  test("layers", () => {
    expect(() => new Dense(2, 2, { activaton: "relu" } as never)).toThrow('Dense: unknown option "activaton" (did you mean "activation"?)');
    expect(() => new Dense(2.5, 2)).toThrow("Dense: inFeatures must be an integer ≥ 1, got 2.5");
    expect(() => new Conv2D(1, 1, 3, { stride: 2 } as never)).toThrow('Conv2D: unknown option "stride" (did you mean "strides"?)');
    expect(() => new AvgPool2D(2, { paddings: "same" } as never)).toThrow('(did you mean "padding"?)');
    expect(() => new Dropout(0.5, { seeds: 1 } as never)).toThrow('(did you mean "seed"?)');
    expect(() => new Embedding(3, 2, { padding_idx: 0 } as never)).toThrow('(did you mean "paddingIdx"?)');
    expect(() => new BatchNormalization(2, { momentum: 2 })).toThrow("BatchNormalization: momentum must be in [0, 1], got 2");
    expect(() => new LayerNormalization(2, { epsilon: 1e-3 } as never)).toThrow(/LayerNormalization: unknown option "epsilon"/);
    expect(() => new Dense(2, 2, { dtype: "float16" } as never)).toThrow('Dense: dtype must be one of "float32", "float64", got "float16"');
  });

  test("the TypeScript types come from the same declarations", () => {
    expectTypeOf<FitOptions["optimizer"]>().toEqualTypeOf<Optimizer>();
    expectTypeOf<FitOptions["epochs"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<FitOptions["verbose"]>().toEqualTypeOf<"auto" | "bar" | "line" | "silent" | undefined>();
    // @ts-expect-error: the optimizer is required
    const missing: FitOptions = { loss: meanSquaredError };
    expect(missing.loss).toBe(meanSquaredError);
  });
});

describe("the data is validated before the first step", () => {
  test("12 rows, y[11] = 2 with 2 classes: refused before any weight changes, naming the row", async () => {
    const m = new Dense(3, 2, { seed: 1 });
    const before = weightsOf(m);
    let began = false;
    const run = fit(m, classification([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 2]), {
      optimizer: new SGD(m.parameters(), { lr: 0.1 }),
      loss: sparse,
      batchSize: 4,
      callbacks: [{ onTrainBegin: () => void (began = true) }],
      ...silent,
    });
    await expect(run).rejects.toThrow(RangeError);
    await expect(run).rejects.toThrow(/^fit: the training data, the output, row 11: sparseCategoricalCrossEntropy: label 2 at unmasked element \[11\]/);
    expect(weightsOf(m)).toEqual(before);
    expect(began).toBe(false);
  });

  test("bad validation data is refused before the first epoch, and said to be the validation data", async () => {
    const m = new Dense(3, 2, { seed: 1 });
    const before = weightsOf(m);
    const validationData = classification([0, 1, 0, 1, -1, 1, 0, 1, 0, 1, 0, 1]);
    await expect(fit(m, classification(), { optimizer: new SGD(m.parameters()), loss: sparse, validationData, ...silent })).rejects.toThrow(/^fit: the validation data, the output, row 4: .*label -1/);
    expect(weightsOf(m)).toEqual(before);
  });

  test("an unmasked NaN target names its row and output; a masked one is accepted", async () => {
    const m = new Dense(3, 2, { seed: 1 });
    const { x } = classification();
    const target = Float32Array.from({ length: 24 }, (_, i) => i % 3);
    target[2 * 7 + 1] = NaN; // row 7
    const y = { a: new NDArray(target, [12, 2]) };
    const net = new (class extends Module<[Tensor], Record<string, Tensor>> {
      inner = m;
      forward(input: Tensor) {
        return { a: this.inner.call(input) };
      }
    })();
    const before = weightsOf(net);
    await expect(fit(net, { x, y }, { optimizer: new SGD(net.parameters()), loss: { a: meanSquaredError }, ...silent })).rejects.toThrow(/^fit: the training data, output "a", row 7: .*target is NaN/);
    expect(weightsOf(net)).toEqual(before);
    const history = await fit(net, { x, y }, { optimizer: new SGD(net.parameters()), loss: { a: { loss: meanSquaredError, options: { maskValue: NaN } } }, ...silent });
    expect(Number.isFinite(history.history.loss![0])).toBe(true);
  });

  test("classWeight must have one weight per class", async () => {
    const m = new Dense(3, 2, { seed: 1 });
    await expect(fit(m, classification(), { optimizer: new SGD(m.parameters()), loss: sparse, classWeight: [1, 2, 3], ...silent })).rejects.toThrow("fit: the training data, the output: classWeight has 3 weights for 2 classes: [12,2]");
    await expect(fit(m, classification(), { optimizer: new SGD(m.parameters()), loss: sparse, classWeight: [1, 2], epochs: 1, ...silent })).resolves.toBeDefined();
  });

  test("evaluate checks the whole data set first and names the row", () => {
    const m = new Dense(3, 2, { seed: 1 });
    expect(() => evaluate(m, classification([0, 1, 0, 1, 0, 3, 0, 1, 0, 1, 0, 1]), { loss: sparse })).toThrow(/^evaluate: the evaluated data, the output, row 5: /);
  });

  test("an optimizer on another model's parameters is refused", async () => {
    const m = new Dense(3, 2, { seed: 1 });
    const other = new Dense(3, 2, { seed: 2 });
    await expect(fit(m, classification(), { optimizer: new SGD(other.parameters()), loss: sparse, ...silent })).rejects.toThrow(
      "fit: the optimizer's parameter 0 [2,3] is not a parameter of the model: build the optimizer on model.parameters()",
    );
  });
});

describe("a NaN loss", () => {
  /** log of its input: NaN for a negative input, whatever the data. */
  class Log extends Module {
    inner = new Dense(1, 1, { seed: 1 });
    forward(x: Tensor) {
      return log(this.inner.call(x));
    }
  }

  test("the message points at detectAnomaly, not only at the data", async () => {
    const m = new Log();
    m.inner.weight.value.data[0] = -1;
    m.inner.bias!.value.data[0] = 0;
    const before = weightsOf(m);
    await expect(fit(m, { x: tensor([[1], [2]]), y: tensor([[1], [2]]) }, { optimizer: new SGD(m.parameters()), loss: meanSquaredError, ...silent })).rejects.toThrow(
      /fit: the loss is NaN at epoch 1, batch 1; the step was not applied \(.*run with detectAnomaly: true to name the first op/,
    );
    expect(weightsOf(m)).toEqual(before);
  });

  test("detectAnomaly: true names the op that made the first non-finite value, and nothing is written", async () => {
    const m = new Log();
    m.inner.weight.value.data[0] = -1;
    m.inner.bias!.value.data[0] = 0;
    const before = weightsOf(m);
    const run = fit(m, { x: tensor([[1], [2]]), y: tensor([[1], [2]]) }, { optimizer: new SGD(m.parameters()), loss: meanSquaredError, detectAnomaly: true, ...silent });
    await expect(run).rejects.toThrow(autograd.AnomalyError);
    await expect(fit(m, { x: tensor([[1], [2]]), y: tensor([[1], [2]]) }, { optimizer: new SGD(m.parameters()), loss: meanSquaredError, detectAnomaly: true, ...silent })).rejects.toThrow(/log \(forward\) produced NaN/);
    expect(weightsOf(m)).toEqual(before);
    expect(autograd.isAnomalyEnabled()).toBe(false);
  });

  test("detectAnomaly: true changes nothing in a healthy run", async () => {
    const train = async (detectAnomaly: boolean) => {
      const m = new Dense(1, 1, { seed: 1 });
      await fit(m, { x: tensor([[1], [2]]), y: tensor([[1], [2]]) }, { optimizer: new SGD(m.parameters()), loss: meanSquaredError, detectAnomaly, epochs: 3, ...silent });
      return weightsOf(m);
    };
    expect(await train(true)).toEqual(await train(false));
  });
});
