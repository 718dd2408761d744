import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import { type Tensor, grad, sum } from "@zerograd/autograd";
import { f32AwayFrom, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { expectGradcheck, t64, uniform64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

const E = Math.E, LN2 = Math.LN2, LN3 = Math.log(3), SQRT_PI = Math.sqrt(Math.PI);
const sigma = (x: number) => 1 / (1 + Math.exp(-x));
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI); // standard normal density
const PHI1 = 0.8413447460685429; // Φ(1), from the normal table

interface UnaryCase {
  name: string;
  f: (x: Tensor) => Tensor;
  /** Inputs and, computed by hand, outputs and derivatives. */
  example: { x: number[]; y: number[]; dy: number[] };
  /** Where gradcheck samples (away from kinks). */
  domain: [number, number];
  kinks?: number[];
  /** The closed-form second derivative. */
  d2: (x: number) => number;
  /** f' does not depend on x (a constant or a 0/1 mask): grad(f) has no graph to check. */
  constantDerivative?: boolean;
}

const cases: UnaryCase[] = [
  { name: "neg", f: A.neg, example: { x: [1, -2], y: [-1, 2], dy: [-1, -1] }, domain: [-3, 3], d2: () => 0, constantDerivative: true },
  { name: "abs", f: A.abs, example: { x: [-3, 2, 0], y: [3, 2, 0], dy: [-1, 1, 0] }, domain: [-3, 3], kinks: [0], d2: () => 0 },
  { name: "sign", f: A.sign, example: { x: [-3, 2], y: [-1, 1], dy: [0, 0] }, domain: [-3, 3], kinks: [0], d2: () => 0, constantDerivative: true },
  { name: "exp", f: A.exp, example: { x: [0, 1], y: [1, E], dy: [1, E] }, domain: [-3, 3], d2: Math.exp },
  { name: "expm1", f: A.expm1, example: { x: [0, 1], y: [0, E - 1], dy: [1, E] }, domain: [-3, 3], d2: Math.exp },
  { name: "log", f: A.log, example: { x: [1, 2], y: [0, LN2], dy: [1, 0.5] }, domain: [0.2, 4], d2: (x) => -1 / x ** 2 },
  { name: "log1p", f: A.log1p, example: { x: [0, 1], y: [0, LN2], dy: [1, 0.5] }, domain: [-0.8, 4], d2: (x) => -1 / (1 + x) ** 2 },
  // d√x = 1/(2√x): at 4 → 1/4, at 1/4 → 1
  { name: "sqrt", f: A.sqrt, example: { x: [4, 0.25], y: [2, 0.5], dy: [0.25, 1] }, domain: [0.2, 4], d2: (x) => -0.25 * x ** -1.5 },
  // d x^(−½) = −½ x^(−3/2): at 4 → −1/16, at 1/4 → −4
  { name: "rsqrt", f: A.rsqrt, example: { x: [4, 0.25], y: [0.5, 2], dy: [-1 / 16, -4] }, domain: [0.2, 4], d2: (x) => 0.75 * x ** -2.5 },
  { name: "square", f: A.square, example: { x: [-3, 0.5], y: [9, 0.25], dy: [-6, 1] }, domain: [-3, 3], d2: () => 2 },
  // d(1/x) = −1/x²
  { name: "reciprocal", f: A.reciprocal, example: { x: [4, -0.5], y: [0.25, -2], dy: [-1 / 16, -4] }, domain: [0.3, 3], d2: (x) => 2 / x ** 3 },
  { name: "sin", f: A.sin, example: { x: [0, Math.PI / 3], y: [0, Math.sqrt(3) / 2], dy: [1, 0.5] }, domain: [-3, 3], d2: (x) => -Math.sin(x) },
  { name: "cos", f: A.cos, example: { x: [0, Math.PI / 6], y: [1, Math.sqrt(3) / 2], dy: [0, -0.5] }, domain: [-3, 3], d2: (x) => -Math.cos(x) },
  // tanh(ln 3) = 0.8, so d tanh = 1 − 0.64 = 0.36 there
  { name: "tanh", f: A.tanh, example: { x: [0, LN3], y: [0, 0.8], dy: [1, 0.36] }, domain: [-3, 3], d2: (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2) },
  // d erf = 2/√π · e^(−x²); erf(1) = 0.8427007929497149 (table)
  { name: "erf", f: A.erf, example: { x: [0, 1], y: [0, 0.8427007929497149], dy: [2 / SQRT_PI, 2 / (SQRT_PI * E)] }, domain: [-2.5, 2.5], d2: (x) => (-4 * x * Math.exp(-x * x)) / SQRT_PI },
  // σ(ln 3) = 3/4, σ' = σ(1 − σ) = 3/16
  { name: "sigmoid", f: A.sigmoid, example: { x: [0, LN3], y: [0.5, 0.75], dy: [0.25, 0.1875] }, domain: [-4, 4], d2: (x) => sigma(x) * (1 - sigma(x)) * (1 - 2 * sigma(x)) },
  { name: "relu", f: A.relu, example: { x: [-1, 2, 0], y: [0, 2, 0], dy: [0, 1, 0] }, domain: [-3, 3], kinks: [0], d2: () => 0, constantDerivative: true },
  { name: "leakyRelu", f: (x) => A.leakyRelu(x, 0.1), example: { x: [-2, 3], y: [-0.2, 3], dy: [0.1, 1] }, domain: [-3, 3], kinks: [0], d2: () => 0, constantDerivative: true },
  // elu with α = 2: α(e^(−ln 2) − 1) = −1, slope α·e^(−ln 2) = 1
  { name: "elu", f: (x) => A.elu(x, 2), example: { x: [-LN2, 1], y: [-1, 1], dy: [1, 1] }, domain: [-3, 3], kinks: [0], d2: (x) => (x < 0 ? 2 * Math.exp(x) : 0) },
  // gelu = xΦ(x); d = Φ(x) + xφ(x); d² = φ(x)(2 − x²)
  { name: "gelu", f: A.gelu, example: { x: [0, 1], y: [0, PHI1], dy: [0.5, PHI1 + phi(1)] }, domain: [-3, 3], d2: (x) => phi(x) * (2 - x * x) },
  // softplus(ln 3) = ln 4; d = σ(x)
  { name: "softplus", f: A.softplus, example: { x: [0, LN3], y: [LN2, 2 * LN2], dy: [0.5, 0.75] }, domain: [-4, 4], d2: (x) => sigma(x) * (1 - sigma(x)) },
  // the gradient is 1 inside [0, 1], bounds included, and 0 outside
  { name: "clip", f: (x) => A.clip(x, 0, 1), example: { x: [-1, 0.5, 2, 0, 1], y: [0, 0.5, 1, 0, 1], dy: [0, 1, 0, 1, 1] }, domain: [-2, 2], kinks: [0, 1], d2: () => 0, constantDerivative: true },
];

/** Pushes samples at least 0.05 away from the kinks so that central differences stay on one side. */
function sample(c: UnaryCase, seed: number): Tensor {
  const x = uniform64([2, 3], c.domain[0], c.domain[1], seed);
  const d = x.value.data;
  for (let i = 0; i < d.length; i++) for (const k of c.kinks ?? []) if (Math.abs(d[i]! - k) < 0.05) d[i] = k + 0.1;
  return x;
}

describe.each(cases)("$name", (c) => {
  test("worked example: value and derivative", () => {
    const x = t64(c.example.x);
    expect(c.f(x)).toBeAllclose(c.example.y, { atol: 1e-14, rtol: 1e-13 });
    expect(c.f(x).dtype).toBe("float64");
    expect(grad((v: Tensor) => sum(c.f(v)))(x)).toBeAllclose(c.example.dy, { atol: 1e-14, rtol: 1e-13 });
  });

  test("gradcheck", () => {
    expectGradcheck((x) => c.f(x!), [sample(c, 1)]);
  });

  test("grad-of-grad (createGraph): gradcheck of the gradient and the closed-form second derivative", () => {
    const df = (x: Tensor) => grad((v: Tensor) => sum(c.f(v)))(x);
    const x = sample(c, 2);
    if (!c.constantDerivative) expectGradcheck(df, [x]);
    const d2 = grad((v: Tensor) => sum(df(v)))(x);
    expect(d2).toBeAllclose(Float64Array.from(x.value.data, (v) => c.d2(v)), { atol: 1e-12, rtol: 1e-10 });
  });

  test("float32 in, float32 out, gradient included", () => {
    const x = A.tensor(c.example.x);
    expect(c.f(x).dtype).toBe("float32");
    expect(grad((v: Tensor) => sum(c.f(v)))(x).dtype).toBe("float32");
  });
});

describe("unary properties", () => {
  test("second derivatives from grad(grad(f)) match the closed forms at random points", () => {
    const arb = fc.tuple(fc.constantFrom(...cases), fc.array(f32AwayFrom(-1, 1, [0], 0.01), { minLength: 1, maxLength: 6 }));
    fc.assert(
      fc.property(arb, ([c, unit]) => {
        // map [−1, 1] onto the op's domain, keeping away from its kinks
        const [lo, hi] = c.domain;
        const xs = unit.map((u) => lo + ((u + 1) / 2) * (hi - lo)).filter((v) => (c.kinks ?? []).every((k) => Math.abs(v - k) > 1e-3));
        if (xs.length === 0) return;
        const d2 = grad((v: Tensor) => sum(grad((w: Tensor) => sum(c.f(w)))(v)))(t64(xs));
        expect(d2).toBeAllclose(Float64Array.from(xs, (v) => c.d2(v)), { atol: 1e-12, rtol: 1e-10 });
      }),
      propertyOptions(150),
    );
  });

  test("grad of sum∘f equals the vjp with a seed of ones", () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.integer({ min: 0, max: 1000 }), (c, seed) => {
        const x = sample(c, seed);
        const viaGrad = grad((v: Tensor) => sum(c.f(v)))(x);
        const leaf = t64(x.value.toArray(), true);
        const y = c.f(leaf);
        y.backward({ seed: A.onesLike(y) });
        // An op whose vjp gives no gradient at all (sign) leaves .grad unset: that is a zero gradient.
        expect(viaGrad).toBeAllclose(leaf.grad ?? A.zerosLike(leaf), { atol: 0, rtol: 0 });
      }),
      propertyOptions(60),
    );
  });
});

describe("ops without gradients", () => {
  test("isNaN and isFinite give 0/1 tensors that do not require grad", () => {
    const x = t64([NaN, 1, Infinity], true);
    expect(A.isNaN(x)).toBeAllclose([1, 0, 0]);
    expect(A.isFinite(x)).toBeAllclose([0, 1, 0]);
    expect(A.isNaN(x).requiresGrad).toBe(false);
  });

  test("clip rejects min > max", () => {
    expect(() => A.clip(t64([1]), 1, 0)).toThrow(new RangeError("clip: min must be ≤ max, got min=1, max=0"));
  });

  test("relu, abs and clip at their kinks: relu'(0) = 0, |x|'(0) = 0, clip' = 1 at the bounds", () => {
    expect(grad((x: Tensor) => sum(A.relu(x)))(t64([0]))).toBeAllclose([0]);
    expect(grad((x: Tensor) => sum(A.abs(x)))(t64([0]))).toBeAllclose([0]);
    expect(grad((x: Tensor) => sum(A.clip(x, -1, 1)))(t64([-1, 1]))).toBeAllclose([1, 1]);
  });
});
