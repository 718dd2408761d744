import { type Tensor, add, mul, neg, pow, sigmoid, softplus, sub, tensor } from "@zerograd/autograd";
import { type TargetInput, binaryCrossEntropy, defineLoss, sparseCategoricalCrossEntropy, wrapLoss } from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { Dense, Module, SGD, evaluate, fit, manualSeed } from "../src/index.js";

class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * fit() reads what a loss declares (its target kind, its default metric) instead of recognising
 * the built-in functions: a wrapped or user-defined loss keeps classWeight and "accuracy".
 */
const silent = { verbose: "silent" } as const;

/** The same model (seeded), trained one epoch with the given loss spec; returns the history. */
async function trainOnce(loss: unknown, classWeight: number[] | undefined, y: Tensor, classes: number, metrics = ["accuracy"] as const) {
  manualSeed(7);
  const model = new Dense(3, classes);
  const x = tensor([[1, 0, 2], [0, 1, -1], [2, 2, 0], [-1, 0, 1], [0.5, -2, 1], [1, 1, 1]]);
  return fit(model, { x, y }, { optimizer: new SGD(model.parameters(), { lr: 0.1 }), loss: loss as never, classWeight, metrics, epochs: 2, batchSize: 3, shuffle: false, ...silent });
}

describe("losses are read by their declaration", () => {
  const labels = tensor([0, 2, 1, 1, 0, 2]);

  test("a wrapped loss (wrapLoss) keeps classWeight and the accuracy metric, equal to the built-in", async () => {
    const wrapped = wrapLoss(sparseCategoricalCrossEntropy, (p: Tensor, t: TargetInput, o?: object) => sparseCategoricalCrossEntropy(p, t, { ...o, fromLogits: true }));
    const builtIn = await trainOnce({ loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } }, [1, 3, 0.5], labels, 3);
    const viaWrapper = await trainOnce(wrapped, [1, 3, 0.5], labels, 3);
    expect(viaWrapper.history.loss).toEqual(builtIn.history.loss);
    expect(viaWrapper.history.accuracy).toEqual(builtIn.history.accuracy);
    // classWeight really changes the loss (the check above is not vacuous):
    const unweighted = await trainOnce(wrapped, [1, 1, 1], labels, 3);
    expect(unweighted.history.loss![0]).not.toBeCloseTo(viaWrapper.history.loss![0]!, 3);
  });

  test("a user-defined loss (defineLoss, binary focal loss) gets classWeight, masks and accuracy in fit()", async () => {
    // Focal loss from logits: ℓ = (1 − p_t)^γ · BCE, p_t = σ(x) for z = 1 and 1 − σ(x) for z = 0.
    const focal = defineLoss({
      name: "focal",
      target: "binary",
      metric: "binaryAccuracy",
      logits: () => true, // the prediction holds logits: binaryAccuracy compares σ(x) with 0.5
      elementwise({ x, z }) {
        const bce = add(mul(sub(1, z), softplus(x)), mul(z, softplus(neg(x))));
        const pt = add(mul(z, sigmoid(x)), mul(sub(1, z), sigmoid(neg(x))));
        return mul(pow(sub(1, pt), 2), bce);
      },
    });
    const y = tensor([[1], [0], [NaN], [1], [0], [0]]);
    const history = await trainOnce({ loss: focal, options: { maskValue: NaN } }, [1, 4], y, 1);
    expect(history.history.accuracy).toHaveLength(2);
    expect(history.history.loss!.every(Number.isFinite)).toBe(true);

    // evaluate() by hand on fixed logits: classWeight [1, 4] weighs the two positives by 4.
    const x = tensor([[0.5], [-1], [3], [2], [0], [0.7]]);
    const logs = evaluate(new Identity(), { x, y }, { loss: { loss: focal, options: { maskValue: NaN } }, classWeight: [1, 4], metrics: ["accuracy"] });
    const ell = (v: number, z: number) => {
      const p = 1 / (1 + Math.exp(-v)), pt = z ? p : 1 - p;
      return (1 - pt) ** 2 * -Math.log(pt);
    };
    const kept = [[0.5, 1], [-1, 0], [2, 1], [0, 0], [0.7, 0]] as const; // row 2 (NaN label) is masked
    const expected = kept.reduce((s, [v, z]) => s + (z ? 4 : 1) * ell(v, z), 0) / kept.length;
    expect(logs.loss).toBeCloseTo(expected, 6);
    const right = kept.filter(([v, z]) => (v > 0 ? 1 : 0) === z).length; // positive when σ(v) > 0.5
    expect(right).toBe(4);
    expect(logs.accuracy).toBeCloseTo(right / kept.length, 12);
  });

  test("an undeclared hand-written loss is refused for classWeight and accuracy, with a hint to wrapLoss", async () => {
    const plain = (p: Tensor, t: TargetInput) => binaryCrossEntropy(p, t, { fromLogits: true });
    const y = tensor([[1], [0], [1], [0], [1], [0]]);
    await expect(trainOnce(plain, [1, 2], y, 1, [] as never)).rejects.toThrow(/classWeight needs a classification loss.*wrapLoss/);
    await expect(trainOnce(plain, undefined, y, 1)).rejects.toThrow(/"accuracy" needs a classification loss.*wrapLoss/);
    await expect(trainOnce(wrapLoss(binaryCrossEntropy, plain), [1, 2], y, 1)).resolves.toBeDefined();
  });
});
