import { gradcheck, tensor } from "@zerograd/autograd";
import { huber, meanAbsoluteError, meanSquaredError } from "@zerograd/losses";
import { describe, expect, test } from "vitest";
import { expectClose, leaf, valueAndGradOf } from "./helpers.js";

describe("regression losses: hand-computed values", () => {
  test("meanSquaredError: mean of d², gradient 2d/N", () => {
    const { value, grad } = valueAndGradOf(leaf([1, 2.5, -1]), (x) => meanSquaredError(x, [0, 3, 1]));
    expectClose(value, (1 + 0.25 + 4) / 3);
    expectClose(grad, [2 / 3, -1 / 3, -4 / 3]);
  });

  test("meanAbsoluteError: mean of |d|, gradient sign(d)/N (0 where d = 0)", () => {
    const { value, grad } = valueAndGradOf(leaf([1, 2.5, -1, 4]), (x) => meanAbsoluteError(x, [0, 3, 1, 4]));
    expectClose(value, (1 + 0.5 + 2 + 0) / 4);
    expectClose(grad, [0.25, -0.25, -0.25, 0]);
  });

  test("huber: ½d² inside δ, δ(|d| − ½δ) outside; gradient d or δ·sign(d)", () => {
    const d = [0.3, -0.8, 2, -3.5];
    const { value, grad } = valueAndGradOf(leaf(d), (x) => huber(x, [0, 0, 0, 0], { delta: 1, reduction: "sum" }));
    expectClose(value, 0.5 * 0.09 + 0.5 * 0.64 + (2 - 0.5) + (3.5 - 0.5));
    expectClose(grad, [0.3, -0.8, 1, -1]);
    const wide = valueAndGradOf(leaf(d), (x) => huber(x, [0, 0, 0, 0], { delta: 2.5, reduction: "sum" }));
    expectClose(wide.value, 0.5 * (0.09 + 0.64 + 4) + 2.5 * (3.5 - 1.25));
  });

  test("huber: the gradient is continuous at |d| = δ", () => {
    const { grad } = valueAndGradOf(leaf([1, -1]), (x) => huber(x, [0, 0], { reduction: "sum" }));
    expectClose(grad, [1, -1]);
  });

  test("gradcheck with a target that requires grad too (allowed)", () => {
    const p = tensor([0.3, -1.7, 2.2], { dtype: "float64" }), t = tensor([1.1, 0.4, -0.6], { dtype: "float64" });
    for (const f of [meanSquaredError, meanAbsoluteError, huber]) {
      expect(gradcheck((a, b) => f(a, b, { weights: [1, 2, 0.5], mask: [1, 0, 1] }), [p, t]).ok).toBe(true);
    }
  });

  test("delta must be finite and positive", () => {
    expect(() => huber(leaf([1]), [0], { delta: 0 })).toThrow(/huber: delta must be a finite number > 0, got 0/);
    expect(() => meanSquaredError(leaf([1]), [0], { delta: 1 } as never)).toThrow(/meanSquaredError: unknown option "delta"/);
  });

  test("float32 in, float32 out", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const loss = meanSquaredError(x, [0, 0], { mask: [true, false] });
    expect(loss.dtype).toBe("float32");
    expect(loss.item()).toBe(1);
  });
});
