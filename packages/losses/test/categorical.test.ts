import { ShapeError, tensor, transpose } from "@zerograd/autograd";
import { categoricalCrossEntropy, sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { expectClose, leaf, logSoftmaxRow, sum, valueAndGradOf } from "./helpers.js";

const LOGITS = [
  [1.5, -0.3, 0.2, 0.9],
  [-1, 2, 0.5, 0],
  [0.3, 0.3, -2, 1],
  [2.2, -0.5, 0.1, -1.3],
  [0, 1, 2, 3],
];

describe("categoricalCrossEntropy", () => {
  test("probabilities, one-hot targets: mean of −log p_true; used as given (no renormalisation)", () => {
    const p = leaf([[0.7, 0.2, 0.1], [0.5, 0.5, 0.5]]);
    const { value, grad } = valueAndGradOf(p, (x) => categoricalCrossEntropy(x, [[1, 0, 0], [0, 0, 1]]));
    // Renormalising the second row would give −log(1/3); the contract uses 0.5 as given.
    expectClose(value, (-Math.log(0.7) - Math.log(0.5)) / 2);
    expectClose(grad, [-1 / 0.7 / 2, 0, 0, 0, 0, -1 / 0.5 / 2]);
  });

  test("logits, soft targets and label smoothing z(1−α) + α/C; gradient softmax − z", () => {
    const rows = LOGITS.slice(0, 2);
    const z = [[0.5, 0.5, 0, 0], [0, 0.1, 0.9, 0]];
    const alpha = 0.1, C = 4;
    const x = leaf(rows);
    const { value, grad } = valueAndGradOf(x, (t) => categoricalCrossEntropy(t, z, { fromLogits: true, labelSmoothing: alpha }));
    const zs = z.map((r) => r.map((v) => v * (1 - alpha) + alpha / C));
    const lp = rows.map(logSoftmaxRow);
    expectClose(value, sum(lp.map((r, n) => -sum(r.map((v, c) => zs[n]![c]! * v)))) / 2);
    expectClose(grad, lp.flatMap((r, n) => r.map((v, c) => (Math.exp(v) * sum(zs[n]!) - zs[n]![c]!) / 2)));
  });

  test("axis: the class axis can be any axis", () => {
    const rows = LOGITS.slice(0, 3);
    const z = [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]];
    const last = categoricalCrossEntropy(leaf(rows), z, { fromLogits: true }).item();
    const first = categoricalCrossEntropy(transpose(leaf(rows), [1, 0]), transpose(tensor(z, { dtype: "float64" }), [1, 0]), { fromLogits: true, axis: 0 }).item();
    const lp = rows.map(logSoftmaxRow);
    expectClose(last, -(lp[0]![0]! + lp[1]![2]! + lp[2]![1]!) / 3);
    expectClose(first, last);
  });

  test("maskValue masks a row only when every class entry equals it (padding rows), and Σm counts rows", () => {
    const rows = LOGITS.slice(0, 3);
    const z = [[0, 1, 0, 0], [0, 0, 0, 0], [0.5, 0, 0.5, 0]]; // row 1 is padding; row 2 contains zeros but is real
    const x = leaf(rows);
    const { value, grad } = valueAndGradOf(x, (t) => categoricalCrossEntropy(t, z, { fromLogits: true, maskValue: 0 }));
    const lp = rows.map(logSoftmaxRow);
    expectClose(value, (-lp[0]![1]! - 0.5 * (lp[2]![0]! + lp[2]![2]!)) / 2);
    expect(grad.slice(4, 8)).toEqual([0, 0, 0, 0]);
  });

  test("a mask with the class axis (prediction-shaped) is a ShapeError: masks apply to ℓ", () => {
    expect(() => categoricalCrossEntropy(leaf([[0.5, 0.5]]), [[1, 0]], { mask: [[1, 0]] })).toThrow(ShapeError);
  });

  test("logits of ±1e4 (float32) stay finite", () => {
    const x = tensor([[1e4, -1e4, 0], [-1e4, 1e4, 0]], { requiresGrad: true });
    const loss = categoricalCrossEntropy(x, [[1, 0, 0], [1, 0, 0]], { fromLogits: true, reduction: "sum" });
    expect(loss.item()).toBe(2e4);
    loss.backward();
    expect(Array.from(x.grad!.data, (v) => v + 0)).toEqual([0, 0, 0, -1, 1, 0]);
  });
});

describe("sparseCategoricalCrossEntropy", () => {
  test("equals categoricalCrossEntropy with the one-hot targets", () => {
    const labels = [0, 3, 1, 2, 2];
    const oneHot = labels.map((y) => [0, 1, 2, 3].map((c) => (c === y ? 1 : 0)));
    const a = valueAndGradOf(leaf(LOGITS), (x) => sparseCategoricalCrossEntropy(x, labels, { fromLogits: true }));
    const b = valueAndGradOf(leaf(LOGITS), (x) => categoricalCrossEntropy(x, oneHot, { fromLogits: true }));
    expectClose(a.value, b.value);
    expectClose(a.grad, b.grad);
  });

  test("'weightedMean' with classWeights, ignoreIndex and labelSmoothing = PyTorch's cross_entropy(weight, ignore_index, label_smoothing)", () => {
    // PyTorch (documented formula, with its label-smoothing term):
    //   loss = (1−α) · Σ_n w_{y_n}·(−log p_{n,y_n}) / Σ_n w_{y_n}  +  (α/C) · Σ_n Σ_c w_c·(−log p_{n,c}) / Σ_n w_{y_n}
    // over the rows whose label is not ignore_index.
    const labels = [0, -100, 1, 3, -100];
    const w = [0.5, 2, 1, 1.5];
    const alpha = 0.2, C = 4;
    const lp = LOGITS.map(logSoftmaxRow);
    const rows = [0, 2, 3];
    const denominator = sum(rows.map((n) => w[labels[n]!]!));
    const nll = sum(rows.map((n) => -w[labels[n]!]! * lp[n]![labels[n]!]!));
    const smooth = sum(rows.map((n) => -sum(lp[n]!.map((v, c) => w[c]! * v))));
    const expected = ((1 - alpha) * nll) / denominator + ((alpha / C) * smooth) / denominator;
    const { value, grad } = valueAndGradOf(leaf(LOGITS), (x) =>
      sparseCategoricalCrossEntropy(x, labels, { fromLogits: true, classWeights: w, ignoreIndex: -100, labelSmoothing: alpha, reduction: "weightedMean" }),
    );
    expectClose(value, expected);
    expect(grad.slice(4, 8)).toEqual([0, 0, 0, 0]); // ignored rows get no gradient
    expect(grad.slice(16, 20)).toEqual([0, 0, 0, 0]);
    // PyTorch's 'sum' and 'none' match 'sum' and 'none' here.
    const none = sparseCategoricalCrossEntropy(leaf(LOGITS), labels, { fromLogits: true, classWeights: w, ignoreIndex: -100, labelSmoothing: alpha, reduction: "none" });
    expectClose(none.data, LOGITS.map((_, n) => (rows.includes(n) ? -(1 - alpha) * w[labels[n]!]! * lp[n]![labels[n]!]! - (alpha / C) * sum(lp[n]!.map((v, c) => w[c]! * v)) : 0)));
  });

  test("'mean' with classWeights divides by the count instead (Keras's class_weight convention)", () => {
    const labels = [0, 1, 3];
    const w = [2, 1, 1, 0.5];
    const lp = LOGITS.slice(0, 3).map(logSoftmaxRow);
    const { value } = valueAndGradOf(leaf(LOGITS.slice(0, 3)), (x) => sparseCategoricalCrossEntropy(x, labels, { fromLogits: true, classWeights: w }));
    expectClose(value, -(2 * lp[0]![0]! + 1 * lp[1]![1]! + 0.5 * lp[2]![3]!) / 3);
  });

  test("probabilities: −log clip(p_y); labels of shape [N, 1] are accepted (Keras style)", () => {
    const p = leaf([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]);
    const { value, grad } = valueAndGradOf(p, (x) => sparseCategoricalCrossEntropy(x, [[0], [2]]));
    expectClose(value, (-Math.log(0.6) - Math.log(0.6)) / 2);
    expectClose(grad, [-1 / 0.6 / 2, 0, 0, 0, 0, -1 / 0.6 / 2]);
  });

  test("class axis 1 of a [N, C, T] sequence prediction", () => {
    // Two sequences of length 2 over 3 classes, classes on axis 1 (PyTorch's layout).
    const x = [[[1, 0], [0, 2], [-1, 1]], [[0.5, 0.5], [0, 0], [2, -2]]];
    const labels = [[0, 2], [2, -1]];
    const { value } = valueAndGradOf(leaf(x), (t) => sparseCategoricalCrossEntropy(t, labels, { fromLogits: true, axis: 1, maskValue: -1 }));
    const column = (n: number, t: number) => logSoftmaxRow(x[n]!.map((row) => row[t]!));
    expectClose(value, -(column(0, 0)[0]! + column(0, 1)[2]! + column(1, 0)[2]!) / 3);
  });

  test("a −Infinity logit for another class (an impossible action) gives a finite loss and gradient", () => {
    const x = leaf([[2, -Infinity, 0], [-Infinity, 1, 1]]);
    const { value, grad } = valueAndGradOf(x, (t) => sparseCategoricalCrossEntropy(t, [0, 2], { fromLogits: true }));
    expectClose(value, (-logSoftmaxRow([2, 0])[0]! - logSoftmaxRow([1, 1])[1]!) / 2);
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(grad[1]).toBe(0);
  });

  test("logits of ±1e4 (float32) stay finite", () => {
    const x = tensor([[1e4, -1e4], [-1e4, 1e4]], { requiresGrad: true });
    const loss = sparseCategoricalCrossEntropy(x, [1, 1], { fromLogits: true, reduction: "sum" });
    expect(loss.item()).toBe(2e4);
    loss.backward();
    expect(Array.from(x.grad!.data, (v) => v + 0)).toEqual([1, -1, 0, 0]);
  });

  test("unmasked labels must be integers in [0, C)", () => {
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [2])).toThrow(/label 2 at unmasked element \[0\] is not an integer in \[0, 2\)/);
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [0.5])).toThrow(RangeError);
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [-1])).toThrow(/maskValue or ignoreIndex/);
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [-1], { maskValue: -1 })).not.toThrow();
  });

  test("shape and option errors", () => {
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [0, 1])).toThrow(ShapeError);
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [0], { classWeights: [1, 2, 3] })).toThrow(/one weight per class \(2\)/);
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [0], { classWeights: [1, -2] })).toThrow(RangeError);
    expect(() => sparseCategoricalCrossEntropy(leaf([[0.5, 0.5]]), [0], { axis: 2 })).toThrow(ShapeError);
  });
});
