import { NDArray, Tensor, gradcheck, gradients, randn } from "@zerograd/autograd";
import { Random } from "@zerograd/tensor";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Conv2D, Dense } from "@zerograd/nn";
import { biasActivation } from "../src/layers/fused.js";

/**
 * The fused bias + activation op (Dense, Conv2D) against its composed definition act(y + b):
 * gradcheck in float64, seeded properties in float32 (values and both gradients), gradients of
 * gradients through the composed path, and the layers really using it.
 */
const relu = (x: Tensor) => x.relu();
const linear = (x: Tensor) => x;
const values = (rng: Random, n: number, dtype: "float32" | "float64") => {
  const a = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = i % 7 === 0 ? 0 : rng.uniform(-2, 2); // exact zeros: the kink of ReLU at y + b = 0 when b is 0
  return a;
};

function run(fused: boolean, activation: "relu" | "linear", y: NDArray, b: NDArray, seed: NDArray) {
  const yt = new Tensor(y, true), bt = new Tensor(b, true), act = activation === "relu" ? relu : linear;
  const out = fused ? biasActivation(yt, bt, activation, act) : act(yt.add(bt));
  const [gy, gb] = gradients(out, [yt, bt], { seed });
  return { op: out.node?.op.name, out: Array.from(out.data), gy: Array.from(gy!.data), gb: Array.from(gb!.data) };
}

const near = (a: number[], b: number[], tol: number) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol * (1 + Math.abs(b[i]!)));

describe("fused bias + activation", () => {
  test("property: fused and composed agree in float32 (value, ∂y, ∂b), odd shapes, rank 2 to 4", () => {
    const arb = fc.record({ shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 4 }), seed: fc.integer({ min: 0, max: 1e6 }), activation: fc.constantFrom<"relu" | "linear">("relu", "linear") });
    fc.assert(
      fc.property(arb, ({ shape, seed, activation }) => {
        const rng = new Random(seed), n = shape.reduce((a, b) => a * b, 1), C = shape[shape.length - 1]!;
        const y = new NDArray(values(rng, n, "float32"), shape), b = new NDArray(values(rng, C, "float32"), [C]), g = new NDArray(values(rng, n, "float32"), shape);
        const fused = run(true, activation, y, b, g), composed = run(false, activation, y, b, g);
        expect(fused.op).toBe("biasActivation");
        expect(composed.op).not.toBe("biasActivation");
        expect(fused.out).toEqual(composed.out); // one add and one max per element: the same float32 result
        expect(fused.gy).toEqual(composed.gy);
        expect(near(fused.gb, composed.gb, 1e-5), `${fused.gb} vs ${composed.gb}`).toBe(true);
      }),
      { seed: 20261130, numRuns: 100 },
    );
  });

  test.each(["relu", "linear"] as const)("gradcheck in float64 (%s)", (activation) => {
    const act = activation === "relu" ? relu : linear;
    const f = (y: Tensor, b: Tensor) => biasActivation(y, b, activation, act).mul(randn([3, 5], { seed: 4, dtype: "float64" })).sum();
    const result = gradcheck(f, [randn([3, 5], { seed: 1, dtype: "float64" }), randn([5], { seed: 2, dtype: "float64" })]);
    expect(result.message).toBe("");
    expect(result.ok).toBe(true);
  });

  test("gradients of gradients go through the composed definition", () => {
    // Σ (∂/∂b Σ w·(y + b)²-like): with ReLU, d/dy of (Σ g·[y + b > 0])² is 0, so use the linear case on a square.
    const y = new Tensor(new NDArray(Float64Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]), [2, 3]), true), b = new Tensor(new NDArray(Float64Array.from([0.1, 0.2, -0.3]), [3]), true);
    const second = (fused: boolean) => {
      const out = fused ? biasActivation(y, b, "linear", linear) : y.add(b);
      const [gb] = gradients(out.square().sum(), [b], { createGraph: true });
      return gradients(gb!.square().sum(), [y, b]).map((t) => Array.from(t.data));
    };
    expect(second(true)).toEqual(second(false));
    expect(second(true)[0]!.some((v) => v !== 0)).toBe(true);
  });

  test("Dense and Conv2D use it for relu and no activation; other activations and no bias stay composed", () => {
    const x = randn([2, 4], { seed: 1 }), img = randn([1, 4, 4, 2], { seed: 2 });
    const opOf = (t: Tensor) => t.node?.op.name;
    expect(opOf(new Dense(4, 3, { activation: "relu" }).call(x))).toBe("biasActivation");
    expect(opOf(new Dense(4, 3).call(x))).toBe("biasActivation");
    expect(opOf(new Dense(4, 3, { activation: "tanh" }).call(x))).not.toBe("biasActivation");
    expect(opOf(new Dense(4, 3, { bias: false, activation: "relu" }).call(x))).not.toBe("biasActivation");
    expect(opOf(new Conv2D(2, 3, 3, { activation: "relu" }).call(img))).toBe("biasActivation");
  });
});
