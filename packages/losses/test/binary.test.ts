import { ShapeError, tensor } from "@zerograd/autograd";
import { binaryCrossEntropy } from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { expectClose, leaf, logSigmoid, sigmoid, valueAndGradOf } from "./helpers.js";

describe("binaryCrossEntropy: hand-computed values", () => {
  test("probabilities: mean of −[z log p + (1−z) log(1−p)] and its gradient", () => {
    const p = leaf([0.9, 0.2, 0.6]);
    const { value, grad } = valueAndGradOf(p, (x) => binaryCrossEntropy(x, [1, 0, 1]));
    expectClose(value, (-Math.log(0.9) - Math.log(0.8) - Math.log(0.6)) / 3);
    // d/dp: −z/p + (1−z)/(1−p), divided by the count 3
    expectClose(grad, [-1 / 0.9 / 3, 1 / 0.8 / 3, -1 / 0.6 / 3]);
  });

  test("logits: softplus form, gradient σ(x) − z", () => {
    const x = leaf([[2, -1], [0.5, -3]]);
    const z = [[1, 0], [0, 1]];
    const { value, grad } = valueAndGradOf(x, (t) => binaryCrossEntropy(t, z, { fromLogits: true }));
    const l = [-logSigmoid(2), -logSigmoid(1), -logSigmoid(-0.5), -logSigmoid(-3)]; // −log σ(x) for z=1, −log σ(−x) for z=0
    expectClose(value, (l[0]! + l[1]! + l[2]! + l[3]!) / 4);
    expectClose(grad, [(sigmoid(2) - 1) / 4, sigmoid(-1) / 4, sigmoid(0.5) / 4, (sigmoid(-3) - 1) / 4]);
  });

  test("posWeight as PyTorch's BCEWithLogitsLoss: −[pw·z·log σ(x) + (1−z)·log(1−σ(x))], per label", () => {
    const x = leaf([[0.3, -1.2, 2], [-0.7, 0.1, 1.5]]);
    const z = [[1, 0, 1], [1, 1, 0]];
    const pw = [2, 0.5, 3]; // one per label, broadcast over samples
    const { value, grad } = valueAndGradOf(x, (t) => binaryCrossEntropy(t, z, { fromLogits: true, posWeight: pw }));
    let expected = 0;
    const expectedGrad: number[] = [];
    [[0.3, -1.2, 2], [-0.7, 0.1, 1.5]].forEach((row, n) =>
      row.forEach((xv, k) => {
        const zv = z[n]![k]!, w = pw[k]!;
        expected += -(w * zv * logSigmoid(xv) + (1 - zv) * Math.log(1 - sigmoid(xv)));
        // d/dx = −pw·z·(1 − σ) + (1 − z)·σ
        expectedGrad.push((-w * zv * (1 - sigmoid(xv)) + (1 - zv) * sigmoid(xv)) / 6);
      }),
    );
    expectClose(value, expected / 6);
    expectClose(grad, expectedGrad);
  });

  test("posWeight with probabilities scales the positive term", () => {
    const p = leaf([0.7, 0.4]);
    const { value } = valueAndGradOf(p, (x) => binaryCrossEntropy(x, [1, 0], { posWeight: 4, reduction: "sum" }));
    expectClose(value, -4 * Math.log(0.7) - Math.log(0.6));
  });

  test("label smoothing: z → z(1−α) + α/2", () => {
    const p = leaf([0.8, 0.3]);
    const { value } = valueAndGradOf(p, (x) => binaryCrossEntropy(x, [1, 0], { labelSmoothing: 0.2, reduction: "sum" }));
    // z = 1 → 0.9, z = 0 → 0.1
    expectClose(value, -(0.9 * Math.log(0.8) + 0.1 * Math.log(0.2)) - (0.1 * Math.log(0.3) + 0.9 * Math.log(0.7)));
  });

  test("label smoothing never leaks into masked labels: masks are read from the raw targets", () => {
    const p = leaf([0.8, 0.3]);
    // −1 smoothed with α = 0.2 would be −0.7, no longer equal to the sentinel.
    const { value, grad } = valueAndGradOf(p, (x) => binaryCrossEntropy(x, [1, -1], { labelSmoothing: 0.2, maskValue: -1 }));
    expectClose(value, -(0.9 * Math.log(0.8) + 0.1 * Math.log(0.2)));
    expect(grad[1]).toBe(0);
  });
});

describe("binaryCrossEntropy: numerically stable forms", () => {
  test("from logits of ±1e4 (float32): finite loss and gradients, the exact limits", () => {
    const x = tensor([1e4, -1e4, 1e4, -1e4], { requiresGrad: true });
    const loss = binaryCrossEntropy(x, [1, 1, 0, 0], { fromLogits: true, reduction: "none" });
    expect(Array.from(loss.data, (v) => v + 0)).toEqual([0, 1e4, 1e4, 0]);
    binaryCrossEntropy(x, [1, 1, 0, 0], { fromLogits: true, reduction: "sum" }).backward();
    expect(Array.from(x.grad!.data, (v) => v + 0)).toEqual([0, -1, 1, 0]); // σ(x) − z (+0 folds −0 into 0)
  });

  test("from logits with posWeight at ±1e4 stays finite", () => {
    const x = tensor([1e4, -1e4], { requiresGrad: true });
    const loss = binaryCrossEntropy(x, [1, 1], { fromLogits: true, posWeight: 3, reduction: "none" });
    expect(Array.from(loss.data, (v) => v + 0)).toEqual([0, 3e4]);
  });

  test("probabilities are clipped to [1e-7, 1 − 1e-7] and nothing else is added inside the log", () => {
    const p = leaf([0, 1, 0.5]);
    const loss = binaryCrossEntropy(p, [1, 0, 1], { reduction: "none" });
    expectClose(loss.data, [-Math.log(1e-7), -Math.log(1 - (1 - 1e-7)), Math.log(2)]);
    binaryCrossEntropy(p, [1, 0, 1], { reduction: "sum" }).backward();
    // Outside the clip interval the gradient is 0 (as Keras's clip); inside it is −1/p.
    expectClose(p.grad!.data, [0, 0, -2]);
  });
});

describe("binaryCrossEntropy: errors", () => {
  test("a NaN target that nobody masked is a RangeError naming the loss and the element", () => {
    expect(() => binaryCrossEntropy(leaf([0.5, 0.5]), [1, NaN])).toThrow(/binaryCrossEntropy: target is NaN at unmasked element \[1\]/);
    expect(() => binaryCrossEntropy(leaf([0.5, 0.5]), [1, NaN], { maskValue: NaN })).not.toThrow();
  });

  test("shapes must match exactly (no silent [N,1] × [N] broadcasting)", () => {
    expect(() => binaryCrossEntropy(leaf([[0.5], [0.5]]), [1, 0])).toThrow(ShapeError);
    expect(() => binaryCrossEntropy(leaf([[0.5], [0.5]]), [1, 0])).toThrow("binaryCrossEntropy: prediction and target must have the same shape: [2,1] x [2]");
  });

  test("bad option values and unknown options", () => {
    expect(() => binaryCrossEntropy(leaf([0.5]), [1], { labelSmoothing: 1.5 })).toThrow(RangeError);
    expect(() => binaryCrossEntropy(leaf([0.5]), [1], { posWeight: -1 })).toThrow(/posWeight must be finite and ≥ 0/);
    expect(() => binaryCrossEntropy(leaf([0.5]), [1], { from_logits: true } as never)).toThrow(/unknown option "from_logits" \(did you mean "fromLogits"\?\)/);
    expect(() => binaryCrossEntropy(leaf([0.5]), [1], { reduction: "avg" } as never)).toThrow(/reduction must be one of/);
    expect(() => binaryCrossEntropy([0.5] as never, [1])).toThrow(/prediction must be a Tensor/);
  });
});

describe("binaryCrossEntropy: inputs the formulas do not define, and float32 precision from logits", () => {
  test("probabilities: unmasked targets and predictions outside [0, 1] are refused (with a hint to fromLogits)", () => {
    expect(() => binaryCrossEntropy(leaf([0.5, 0.5]), [1, 2])).toThrow(RangeError);
    expect(() => binaryCrossEntropy(leaf([0.5, 0.5]), [1, 2])).toThrow("binaryCrossEntropy: target 2 at unmasked element [1] is outside [0, 1]");
    expect(() => binaryCrossEntropy(leaf([0.5, 0.5]), [1, -0.5], { fromLogits: true })).toThrow(/target -0.5 at unmasked element \[1\] is outside \[0, 1\]/);
    expect(() => binaryCrossEntropy(leaf([0.5, 3.2]), [1, 0])).toThrow(/prediction 3.2 at unmasked element \[1\] is outside \[0, 1\].*fromLogits: true/);
    expect(() => binaryCrossEntropy(leaf([-1e-3, 0.5]), [1, 0])).toThrow(RangeError);
    // The same values are fine where masked, and logits may be any real number.
    expect(binaryCrossEntropy(leaf([0.5, 3.2]), [1, 2], { mask: [1, 0] }).item()).toBeCloseTo(Math.log(2), 12);
    expect(binaryCrossEntropy(leaf([0.5, 3.2]), [1, 0], { fromLogits: true }).item()).toBeGreaterThan(0);
  });

  test.each([10, 200])("from logits in float32 (the fused kernel checks targets in its pass), %i elements: a bad unmasked target is refused by name, a masked one is not", (n) => {
    for (const bad of [1.5, NaN, -Infinity]) {
      const x = tensor(Array.from({ length: n }, (_, i) => Math.sin(i)), { requiresGrad: true });
      const z = Array.from({ length: n }, (_, i) => i % 2);
      z[n - 3] = bad;
      expect(() => binaryCrossEntropy(x, z, { fromLogits: true })).toThrow(RangeError);
      expect(() => binaryCrossEntropy(x, z, { fromLogits: true })).toThrow(new RegExp(`binaryCrossEntropy: target.*at unmasked element \\[${n - 3}\\]`));
      const mask = z.map((_, i) => (i === n - 3 ? 0 : 1));
      const loss = binaryCrossEntropy(x, z, { fromLogits: true, mask });
      loss.backward();
      expect(Number.isFinite(loss.item())).toBe(true);
      expect(x.grad!.data[n - 3]).toBe(0);
    }
  });

  // ℓ in float64 from the definition, with log σ(x) = −log1p(e^−x) written per sign so it is exact.
  const softplus64 = (t: number) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
  const reference = (x: number, z: number, pw: number) => pw * z * softplus64(-x) + (1 - z) * softplus64(x);

  test.each([true, false])("from logits in float32 (fused: %s): agrees with float64 for |x| up to 80, posWeight 1 and ≠ 1", (fused) => {
    const xs = [-80, -40, -20, -15, -10, -3, -0.5, 0, 0.5, 3, 10, 15, 20, 40, 80];
    for (const pw of [1, 0.3, 4]) {
      for (const z of [0, 1, 0.25]) {
        const loss = binaryCrossEntropy(tensor(xs), xs.map(() => z), { fromLogits: true, posWeight: pw, reduction: "none", fused });
        const got = Array.from(loss.data);
        xs.forEach((x, i) => {
          const want = Math.fround(reference(x, z, pw));
          const err = Math.abs(got[i]! - want) / Math.max(want, 1e-30);
          if (!(want === 0 ? got[i] === 0 : err < 1e-5)) expect.fail(`x=${x}, z=${z}, pw=${pw}: ${got[i]} vs float64 ${want}`);
        });
      }
    }
    const at = (x: number, z: number) => binaryCrossEntropy(tensor([x]), [z], { fromLogits: true, fused }).item();
    expect(Math.abs(at(-10, 0) - 4.5399e-5) / 4.5399e-5).toBeLessThan(1e-3);
    expect(at(-15, 0)).toBeGreaterThan(0);
    expect(at(-20, 0)).toBeGreaterThan(0);
    expect(Math.abs(at(10, 1) - 4.5399e-5) / 4.5399e-5).toBeLessThan(1e-3);
  });
});
