/**
 * Worked examples from the questions users bring from Keras and PyTorch. Every expected value is
 * computed here by hand (plain float64 Math), not by the implementation.
 */
import { add, gradients, mul, tensor } from "@zerograd/autograd";
import {
  binaryCrossEntropy, categoricalCrossEntropy, maskAnd, maskFromNaN, maskFromPadding, meanSquaredError, sparseCategoricalCrossEntropy,
} from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { expectClose, leaf, logSigmoid, logSoftmaxRow, sigmoid, sum, valueAndGradOf } from "./helpers.js";

const bce = (p: number, z: number) => -(z * Math.log(p) + (1 - z) * Math.log(1 - p));

describe("masked BCE with a −1 sentinel (multi-label, some labels missing)", () => {
  const P = [[0.9, 0.2, 0.7], [0.6, 0.1, 0.3]];
  const Z = [[1, 0, -1], [-1, -1, 1]];

  test("the loss is the mean over the labels that exist; missing labels get gradient exactly 0", () => {
    const { value, grad } = valueAndGradOf(leaf(P), (p) => binaryCrossEntropy(p, Z, { maskValue: -1 }));
    expectClose(value, (bce(0.9, 1) + bce(0.2, 0) + bce(0.3, 1)) / 3);
    expect([grad[2], grad[3], grad[4]]).toEqual([0, 0, 0]);
  });

  test("the common Keras recipe (zero the masked pairs, then average over the label axis, then the batch) gives a different number", () => {
    // binary_crossentropy(y_true·mask, y_pred·mask): masked pairs become (0, 0) → −log(1 − 1e-7) each,
    // and every row is averaged over all 3 labels before the batch mean.
    const eps = -Math.log(1 - 1e-7);
    const recipe = ((bce(0.9, 1) + bce(0.2, 0) + eps) / 3 + (eps + eps + bce(0.3, 1)) / 3) / 2;
    const correct = (bce(0.9, 1) + bce(0.2, 0) + bce(0.3, 1)) / 3;
    expect(Math.abs(recipe - correct)).toBeGreaterThan(0.05);
    expectClose(binaryCrossEntropy(leaf(P), Z, { maskValue: -1 }).item(), correct);
  });
});

describe("masked sparse categorical cross-entropy with integer labels", () => {
  const LOGITS = [[1, 2, 0.5], [0, 0, 0], [2, -1, 0.3], [0.2, 0.1, 0.4]];

  test("labels −1 are missing: the mean is over the labelled rows only", () => {
    const { value, grad } = valueAndGradOf(leaf(LOGITS), (x) => sparseCategoricalCrossEntropy(x, [2, -1, 0, -1], { fromLogits: true, maskValue: -1 }));
    expectClose(value, -(logSoftmaxRow(LOGITS[0]!)[2]! + logSoftmaxRow(LOGITS[2]!)[0]!) / 2);
    expect(grad.slice(3, 6)).toEqual([0, 0, 0]);
    expect(grad.slice(9, 12)).toEqual([0, 0, 0]);
  });

  test("a batch with no label at all gives 0 and zero gradients (sum(l·m)/sum(m) would be 0/0 = NaN)", () => {
    const { value, grad } = valueAndGradOf(leaf(LOGITS), (x) => sparseCategoricalCrossEntropy(x, [-1, -1, -1, -1], { fromLogits: true, maskValue: -1 }));
    expect(value).toBe(0);
    expect(grad.every((g) => g === 0)).toBe(true);
  });
});

describe("a two-head model: classification + regression, both heads partly missing", () => {
  test("total = CE(labels, −1 missing) + 0.5·MSE(targets, NaN missing); missing entries get no gradient", () => {
    const logits = leaf([[0.5, 1.5, -0.5], [2, 0, 0], [0, 0.3, 1], [1, -1, 0]]);
    const values = leaf([[0.4, 9], [7, 7], [1.5, 1.8], [3, -0.5]]);
    const labels = [1, -1, 2, 0];
    const targets = [[0.5, NaN], [NaN, NaN], [1, 2], [NaN, -1]];
    const total = add(
      sparseCategoricalCrossEntropy(logits, labels, { fromLogits: true, maskValue: -1 }),
      mul(meanSquaredError(values, targets, { maskValue: NaN }), 0.5),
    );
    const rows = [[0.5, 1.5, -0.5], [0, 0.3, 1], [1, -1, 0]];
    const ce = -(logSoftmaxRow(rows[0]!)[1]! + logSoftmaxRow(rows[1]!)[2]! + logSoftmaxRow(rows[2]!)[0]!) / 3;
    const mse = ((0.4 - 0.5) ** 2 + (1.5 - 1) ** 2 + (1.8 - 2) ** 2 + (-0.5 + 1) ** 2) / 4;
    expectClose(total.item(), ce + 0.5 * mse);
    const [gLogits, gValues] = gradients(total, [logits, values]);
    expect(Array.from(gLogits!.data.slice(3, 6))).toEqual([0, 0, 0]);
    expect([gValues!.data[1], gValues!.data[2], gValues!.data[3], gValues!.data[6]]).toEqual([0, 0, 0, 0]);
    // the kept regression gradients are 0.5 · 2d / 4
    expectClose([gValues!.data[0]!, gValues!.data[4]!], [(0.5 * 2 * (0.4 - 0.5)) / 4, (0.5 * 2 * 0.5) / 4]);
  });
});

describe("multi-label BCE from logits with per-label and contextual (per-sample-per-label) weights", () => {
  test("weights = label weight × context weight, per element; a missing label is masked", () => {
    const X = [[1.2, -0.4, 0.3], [-2, 0.8, 1.5]];
    const Z = [[1, 0, -1], [0, 1, 1]];
    const labelWeights = [1, 3, 0.5]; // rare labels count more
    const context = [[1, 2, 1], [0.5, 1, 1]]; // e.g. annotator confidence
    const weights = mul(tensor(labelWeights, { dtype: "float64" }), tensor(context, { dtype: "float64" }));
    const elementwise = (x: number, z: number) => -(z * logSigmoid(x) + (1 - z) * logSigmoid(-x));
    const kept = [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]];
    const w = (n: number, k: number) => labelWeights[k]! * context[n]![k]!;
    const numerator = sum(kept.map(([n, k]) => w(n!, k!) * elementwise(X[n!]![k!]!, Z[n!]![k!]!)));
    const mean = valueAndGradOf(leaf(X), (x) => binaryCrossEntropy(x, Z, { fromLogits: true, maskValue: -1, weights }));
    expectClose(mean.value, numerator / 5);
    const weighted = binaryCrossEntropy(leaf(X), Z, { fromLogits: true, maskValue: -1, weights, reduction: "weightedMean" }).item();
    expectClose(weighted, numerator / sum(kept.map(([n, k]) => w(n!, k!))));
    // gradient of the mean: w·(σ(x) − z) / 5, and 0 for the missing label
    expectClose(mean.grad, [0, 1, 2, 3, 4, 5].map((i) => {
      const n = Math.floor(i / 3), k = i % 3;
      return Z[n]![k] === -1 ? 0 : (w(n, k) * (sigmoid(X[n]![k]!) - Z[n]![k]!)) / 5;
    }));
  });
});

describe("group-weighted categorical cross-entropy where one group is empty", () => {
  test("total = Σ over present groups of w_g · mean within g; the empty group adds 0, not NaN", () => {
    const X = [[2, 0, 1], [0.5, 0.5, 3], [1, 1, 1], [-1, 2, 0]];
    const Z = [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0]];
    const groups = [0, 0, 2, 2]; // group 1 has no sample in this batch
    const groupWeights = [1, 3, 0.5];
    const ce = X.map((row, n) => -sum(logSoftmaxRow(row).map((v, c) => Z[n]![c]! * v)));
    const loss = categoricalCrossEntropy(leaf(X), Z, { fromLogits: true, groups, groupWeights }).item();
    expectClose(loss, 1 * ((ce[0]! + ce[1]!) / 2) + 0.5 * ((ce[2]! + ce[3]!) / 2));
    expect(Number.isFinite(loss)).toBe(true);
  });
});

describe("masked MSE over padded sequences (mask from target != 0)", () => {
  const Y = [[0.4, 1.0, 5, 5], [2.5, 5, 5, 5]];
  const T = [[0.5, 1.2, 0, 0], [2.0, 0, 0, 0]];

  test("the mean is over the real time steps only, with maskFromPadding or maskValue: 0", () => {
    const expected = ((0.4 - 0.5) ** 2 + (1.0 - 1.2) ** 2 + (2.5 - 2.0) ** 2) / 3;
    expectClose(meanSquaredError(leaf(Y), T, { mask: maskFromPadding(T) }).item(), expected);
    const { value, grad } = valueAndGradOf(leaf(Y), (y) => meanSquaredError(y, T, { maskValue: 0 }));
    expectClose(value, expected);
    expect([grad[2], grad[3], grad[5], grad[6], grad[7]]).toEqual([0, 0, 0, 0, 0]);
  });

  test("a batch of pure padding gives 0, where Keras's sum(l·m)/sum(m) gives 0/0 = NaN", () => {
    const { value, grad } = valueAndGradOf(leaf(Y), (y) => meanSquaredError(y, [[0, 0, 0, 0], [0, 0, 0, 0]], { maskValue: 0 }));
    expect(value).toBe(0);
    expect(grad.every((g) => g === 0)).toBe(true);
  });
});

describe("two masks ANDed", () => {
  test("missing values (NaN) AND samples whose source has no such target", () => {
    const Y = [[1, 2], [3, 4], [5, 6]];
    const T = [[1.5, NaN], [2, 2], [NaN, 7]];
    const fromSource = [[1], [0], [1]]; // sample 1 comes from a data set without this target
    const mask = maskAnd(maskFromNaN(T), fromSource);
    expect(mask.toArray()).toEqual([[1, 0], [0, 0], [0, 1]]);
    const { value, grad } = valueAndGradOf(leaf(Y), (y) => meanSquaredError(y, T, { mask }));
    expectClose(value, ((1 - 1.5) ** 2 + (6 - 7) ** 2) / 2);
    expectClose(grad, [(2 * (1 - 1.5)) / 2, 0, 0, 0, 0, (2 * (6 - 7)) / 2]);
  });
});

describe("the README snippets run and give the documented results", () => {
  test("multi-label BCE with −1, label weights and posWeight; sparse CE as PyTorch's", () => {
    const logits = tensor([[2.0, -1.0, 0.3], [0.5, 3.0, -2.0]], { requiresGrad: true, dtype: "float64" });
    const loss = binaryCrossEntropy(logits, [[1, -1, 0], [0, 1, -1]], { fromLogits: true, maskValue: -1, weights: [1, 3, 0.5], posWeight: 2 });
    loss.backward();
    expect([logits.grad!.data[1], logits.grad!.data[5]]).toEqual([0, 0]);
    // kept: (2, z=1, w=1), (0.3, z=0, w=0.5), (0.5, z=0, w=1), (3, z=1, w=3); positive terms ×2
    expectClose(loss.item(), (2 * -logSigmoid(2) + 0.5 * -logSigmoid(-0.3) + -logSigmoid(-0.5) + 3 * 2 * -logSigmoid(3)) / 4);

    const scores = [[1.0, 0.2, -0.5], [0.1, 0.1, 2.0], [0.3, 1.5, 0.0]];
    const ce = sparseCategoricalCrossEntropy(leaf(scores), [2, -100, 1], { fromLogits: true, ignoreIndex: -100, classWeights: [1, 2, 0.5], reduction: "weightedMean" });
    expectClose(ce.item(), (-0.5 * logSoftmaxRow(scores[0]!)[2]! - 2 * logSoftmaxRow(scores[2]!)[1]!) / (0.5 + 2));
  });

  test("the root README's ten lines: a NaN label adds nothing", () => {
    const x = tensor([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.2]]);
    const w = tensor([[0.1], [-0.2]], { requiresGrad: true });
    const logits = mul(x, 1).matmul(w);
    const loss = binaryCrossEntropy(logits, tensor([[1], [NaN], [0]]), { fromLogits: true, maskValue: NaN });
    loss.backward();
    const z0 = 0.5 * 0.1 + -1.0 * -0.2, z2 = -0.7 * 0.1 + 1.2 * -0.2;
    expectClose(loss.item(), (-logSigmoid(z0) - logSigmoid(-z2)) / 2, 1e-6);
    const g = [0, 1].map((k) => ((sigmoid(z0) - 1) * [0.5, -1.0][k]! + sigmoid(z2) * [-0.7, 1.2][k]!) / 2);
    expectClose(w.grad!.data, g, 1e-6);
  });
});
