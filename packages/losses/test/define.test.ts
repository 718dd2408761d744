import { Tensor, tensor } from "@zerograd/autograd";
import * as L from "@zerograd/losses";
import { binaryCrossEntropy, categoricalCrossEntropy, defineLoss, huber, lossDeclaration, meanAbsoluteError, meanSquaredError, sparseCategoricalCrossEntropy, wrapLoss } from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { logCosh } from "./user-losses.js";

describe("defineLoss: what a loss declares", () => {
  test("the six built-in losses are definitions: target kind, default metric, whether the prediction holds logits", () => {
    const declared = [binaryCrossEntropy, categoricalCrossEntropy, sparseCategoricalCrossEntropy, meanSquaredError, meanAbsoluteError, huber].map((f) => {
      const d = lossDeclaration(f)!;
      return [d.name, d.target, d.metric];
    });
    expect(declared).toEqual([
      ["binaryCrossEntropy", "binary", "binaryAccuracy"],
      ["categoricalCrossEntropy", "oneHot", "categoricalAccuracy"],
      ["sparseCategoricalCrossEntropy", "labels", "sparseAccuracy"],
      ["meanSquaredError", "values", "mse"],
      ["meanAbsoluteError", "values", "mae"],
      ["huber", "values", "mae"],
    ]);
    expect(binaryCrossEntropy.spec.logits({ fromLogits: true })).toBe(true);
    expect(binaryCrossEntropy.spec.logits({})).toBe(false);
    expect(sparseCategoricalCrossEntropy.spec.options).toEqual(expect.arrayContaining(["mask", "maskValue", "weights", "reduction", "groups", "groupWeights", "axis", "ignoreIndex", "classWeights", "fused"]));
    expect(meanSquaredError.spec.options).not.toContain("axis");
    expect(lossDeclaration((p: Tensor) => p)).toBeUndefined();
    expect(Object.keys(L).filter((k) => lossDeclaration((L as Record<string, unknown>)[k]))).toHaveLength(6);
  });

  test("a user-defined loss gets the shared options, their checks and the unknown-key hint", () => {
    const x = tensor([0.5, 2, -1], { dtype: "float64", requiresGrad: true });
    const d = [0.5 - 1, 2 - NaN, -1 - 0];
    const ref = (v: number) => Math.log(Math.cosh(v));
    const loss = logCosh(x, [1, NaN, 0], { maskValue: NaN, weights: [1, 5, 3], reduction: "weightedMean" });
    expect(loss.item()).toBeCloseTo((ref(d[0]!) + 3 * ref(d[2]!)) / 4, 12);
    loss.backward();
    expect(Array.from(x.grad!.data)).toEqual([expect.closeTo(Math.tanh(-0.5) / 4, 12), 0, expect.closeTo((3 * Math.tanh(-1)) / 4, 12)]);
    expect(() => logCosh(x, [1, 2, 3], { reduction: "avg" } as never)).toThrow(/logCosh: reduction must be one of/);
    expect(() => logCosh(x, [1, 2, 3], { mask_value: 0 } as never)).toThrow(/logCosh: unknown option "mask_value" \(did you mean "maskValue"\?\)/);
    expect(() => logCosh(x, [1, 2], {})).toThrow(/logCosh: prediction and target must have the same shape/);
    expect(() => logCosh(x, [1, NaN, 3])).toThrow(/logCosh: target is NaN at unmasked element \[1\]/);
    expect(() => logCosh(x, [1, 2, 3], { scale: 0 })).toThrow(/logCosh: scale must be a finite number > 0, got 0/);
    expect(logCosh(x, [1, 2, 3], { scale: 2, reduction: "sum" }).item()).toBeCloseTo([0.5 - 1, 2 - 2, -1 - 3].reduce((s, v) => s + ref(2 * v), 0), 12);
  });

  test("a class-label loss gets axis, ignoreIndex and the label check from its target kind", () => {
    // ℓ = the (sanitised) label itself, plus 0·Σ_c x_c: shows what the elementwise function receives.
    const nll = defineLoss({ name: "nll", target: "labels", metric: "sparseAccuracy", elementwise: ({ x, z, axis }) => x.sum({ axis }).mul(0).add(z) });
    expect(nll.spec.options).toEqual(expect.arrayContaining(["axis", "ignoreIndex"]));
    expect(() => nll(tensor([[1, 2], [3, 4]]), [0, 5])).toThrow(/nll: label 5 at unmasked element \[1\] is not an integer in \[0, 2\)/);
    expect(nll(tensor([[1, 2], [3, 4]]), [1, 5], { ignoreIndex: 5, reduction: "sum" }).item()).toBe(1); // the masked label became class 0
  });

  test("a definition that redeclares a shared option or names an unknown target kind is refused", () => {
    const elementwise = ({ x }: { x: Tensor }) => x;
    expect(() => defineLoss({ name: "bad", target: "values", options: { mask: {} as never }, elementwise })).toThrow(/defineLoss: bad declares the option "mask"/);
    expect(() => defineLoss({ name: "bad", target: "labels", options: { ignoreIndex: {} as never }, elementwise })).toThrow(/option "ignoreIndex", which every labels loss already takes/);
    expect(() => defineLoss({ name: "bad", target: "pairs" as never, elementwise })).toThrow(/defineLoss: target must be "values", "binary", "oneHot" or "labels"/);
  });

  test("wrapLoss gives a hand-written wrapper its base's declaration; anything else is refused", () => {
    const wrapped = wrapLoss(binaryCrossEntropy, (p: Tensor, t: L.TargetInput) => binaryCrossEntropy(p, t, { fromLogits: true }));
    expect(wrapped.spec).toBe(binaryCrossEntropy.spec);
    expect(wrapped(tensor([0]), [1]).item()).toBeCloseTo(Math.log(2), 6);
    expect(() => wrapLoss(((p: Tensor) => p) as never, (p: Tensor) => p)).toThrow(/wrapLoss: the base must be a loss made by defineLoss/);
  });
});

describe("defineLoss: a fused kernel of one's own", () => {
  const squared = (fusedChecks: boolean, calls: string[]) =>
    defineLoss({
      name: "squaredWithKernel", target: "values", fusedChecks,
      elementwise: ({ x, z }) => x.sub(z).square(),
      fused: (inputs) => { calls.push("fused"); return inputs.x.sub(new Tensor(inputs.z)).square().mean(); },
    });

  test("the input checks run before a kernel that does not declare fusedChecks, so a bad target is refused", () => {
    const calls: string[] = [];
    expect(() => squared(false, calls)(tensor([1, 2]), [0, NaN])).toThrow(/squaredWithKernel: target is NaN at unmasked element \[1\]/);
    expect(calls).toEqual([]); // refused before the kernel ran
    expect(squared(false, calls)(tensor([1, 2]), [0, NaN], { maskValue: NaN }).item()).toBeDefined();
    expect(calls).toEqual(["fused"]);
  });

  test("with fusedChecks the kernel is trusted to call validate() itself", () => {
    const calls: string[] = [];
    const out = squared(true, calls)(tensor([1, 2]), [0, NaN]); // this kernel never validates: nothing refuses
    expect(calls).toEqual(["fused"]);
    expect(Number.isNaN(out.item())).toBe(true);
  });
});
