import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import { type Tensor, grad, sum } from "@zerograd/autograd";
import { arbBroadcastPair, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { expectGradcheck, randn64, t64, uniform64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

type Binary = (a: Tensor, b: Tensor) => Tensor;

interface BinaryCase {
  name: string;
  f: Binary;
  /** a [2,1] and b [3], and the gradients of sum(f(a, b)) worked out by hand. */
  example: { a: number[][]; b: number[]; out: number[][]; da: number[][]; db: number[] };
  /** Samples for gradcheck: [a, b] with shapes [3,1,4] and [2,4]. */
  inputs: (seed: number) => [Tensor, Tensor];
}

/**
 * Random a and b at least 0.25 apart (no ties for maximum/minimum): b on the grid of multiples of
 * ½ and a on the same grid shifted by ¼.
 */
function separated(seed: number): [Tensor, Tensor] {
  const onGrid = (x: Tensor, shift: number) => A.add(A.div(A.tensor(A.mul(x, 2).value.data.map(Math.round), { shape: x.shape, dtype: "float64" }), 2), shift);
  return [onGrid(randn64([3, 1, 4], seed), 0.25), onGrid(randn64([2, 4], seed + 1), 0)];
}

const cases: BinaryCase[] = [
  // Σ_ij (a_i + b_j): each a_i appears in 3 terms, each b_j in 2.
  { name: "add", f: A.add, example: { a: [[1], [2]], b: [3, 4, 5], out: [[4, 5, 6], [5, 6, 7]], da: [[3], [3]], db: [2, 2, 2] }, inputs: (s) => [randn64([3, 1, 4], s), randn64([2, 4], s + 1)] },
  { name: "sub", f: A.sub, example: { a: [[1], [2]], b: [3, 4, 5], out: [[-2, -3, -4], [-1, -2, -3]], da: [[3], [3]], db: [-2, -2, -2] }, inputs: (s) => [randn64([3, 1, 4], s), randn64([2, 4], s + 1)] },
  // ∂/∂a_i = Σ_j b_j = 12, ∂/∂b_j = Σ_i a_i = 3
  { name: "mul", f: A.mul, example: { a: [[1], [2]], b: [3, 4, 5], out: [[3, 4, 5], [6, 8, 10]], da: [[12], [12]], db: [3, 3, 3] }, inputs: (s) => [randn64([3, 1, 4], s), randn64([2, 4], s + 1)] },
  // ∂/∂a_i = Σ_j 1/b_j = 1/3 + 1/4 + 1/5 = 47/60; ∂/∂b_j = −Σ_i a_i / b_j² = −3/b_j²
  {
    name: "div", f: A.div,
    example: { a: [[1], [2]], b: [3, 4, 5], out: [[1 / 3, 1 / 4, 1 / 5], [2 / 3, 2 / 4, 2 / 5]], da: [[47 / 60], [47 / 60]], db: [-3 / 9, -3 / 16, -3 / 25] },
    inputs: (s) => [randn64([3, 1, 4], s), uniform64([2, 4], 0.5, 2, s + 1)],
  },
  // a^b with a ∈ {1, 2}, b ∈ {0, 1, 2}: ∂/∂a_i = Σ_j b_j a_i^(b_j − 1) = 0 + 1 + 2a_i; ∂/∂b_j = Σ_i a_i^b_j ln a_i = 2^b_j ln 2
  {
    name: "pow", f: A.pow,
    example: { a: [[1], [2]], b: [0, 1, 2], out: [[1, 1, 1], [1, 2, 4]], da: [[3], [5]], db: [Math.LN2, 2 * Math.LN2, 4 * Math.LN2] },
    inputs: (s) => [uniform64([3, 1, 4], 0.5, 2, s), randn64([2, 4], s + 1)],
  },
  // a = [1; 4] against b = [0, 4, 5]: row 1 → a wins j=0; row 2 → a wins j=0, ties j=1 (½ each), b wins j=2.
  { name: "maximum", f: A.maximum, example: { a: [[1], [4]], b: [0, 4, 5], out: [[1, 4, 5], [4, 4, 5]], da: [[1], [1.5]], db: [0, 1.5, 2] }, inputs: separated },
  { name: "minimum", f: A.minimum, example: { a: [[1], [4]], b: [0, 4, 5], out: [[0, 1, 1], [0, 4, 4]], da: [[2], [1.5]], db: [2, 0.5, 0] }, inputs: separated },
];

describe.each(cases)("$name", (c) => {
  test("worked example with broadcasting [2,1] ⊙ [3]", () => {
    const a = t64(c.example.a), b = t64(c.example.b);
    expect(c.f(a, b)).toBeAllclose(c.example.out, { atol: 1e-15 });
    const [da, db] = grad((x: Tensor, y: Tensor) => sum(c.f(x, y)), [0, 1])(a, b);
    expect(da).toBeAllclose(c.example.da, { atol: 1e-15 });
    expect(db).toBeAllclose(c.example.db, { atol: 1e-15 });
  });

  test("gradcheck with broadcasting [3,1,4] ⊙ [2,4]", () => {
    expectGradcheck((a, b) => c.f(a!, b!), c.inputs(10));
  });

  test("grad-of-grad (createGraph): gradcheck of both gradients of sum(f(a, b)²)", () => {
    const h = (a: Tensor, b: Tensor) => sum(A.square(c.f(a, b)));
    expectGradcheck((a, b) => grad(h, 0)(a!, b!), c.inputs(20));
    expectGradcheck((a, b) => grad(h, 1)(a!, b!), c.inputs(20));
  });

  test("broadcast shapes: [16,1,5] ⊙ [4,5] gives grads of shapes [16,1,5] and [4,5]", () => {
    const [a, b] = [A.randomUniform([16, 1, 5], 0.5, 2, { seed: 1 }), A.randomUniform([4, 5], 0.5, 2, { seed: 2 })];
    const [da, db] = grad((x: Tensor, y: Tensor) => sum(c.f(x, y)), [0, 1])(a, b);
    expect(da.shape).toEqual([16, 1, 5]);
    expect(db.shape).toEqual([4, 5]);
  });

  test("numbers as either operand: a constant with the tensor's dtype", () => {
    const x = t64([1.5, 2]);
    expect(c.f(x, 2 as unknown as Tensor).dtype).toBe("float64");
    expect(grad((v: Tensor) => sum(A[c.name as "add"](v, 2)))(x).shape).toEqual([2]);
    expect(grad((v: Tensor) => sum(A[c.name as "add"](2, v)))(x).shape).toEqual([2]);
  });
});

describe("where", () => {
  test("worked example: values and gradients follow the condition", () => {
    const cond = t64([[1], [0]]); // [2,1]
    const a = t64([1, 2, 3]), b = t64([[10], [20]]);
    expect(A.where(cond, a, b)).toBeAllclose([[1, 2, 3], [20, 20, 20]]);
    const [da, db] = grad((x: Tensor, y: Tensor) => sum(A.where(cond, x, y)), [0, 1])(a, b);
    expect(da).toBeAllclose([1, 1, 1]); // picked in row 1 only
    expect(db).toBeAllclose([[0], [3]]); // picked three times in row 2
  });

  test("the unpicked branch gets exactly 0, even where the picked side's gradient is NaN or ±∞", () => {
    const x = t64([0, 1, -1], true);
    const safe = A.where(A.gt(x, 0), x, 1);
    const y = A.where(A.gt(x, 0), A.log(safe), 0); // log only ever sees positive numbers
    sum(y).backward();
    expect(x.grad).toBeAllclose([0, 1, 0], { atol: 0 });
    expect(Object.is(x.grad!.value.data[0], 0) || Object.is(x.grad!.value.data[0], -0)).toBe(true);
  });

  test("gradcheck and broadcast shapes, the condition gets no gradient", () => {
    const cond = A.tensor(Array.from({ length: 4 }, (_, i) => i % 2), { shape: [4] });
    expectGradcheck((a, b) => A.where(cond, a!, b!), [randn64([3, 4], 1), randn64([2, 1, 1], 2)]);
    const [da, db] = grad((x: Tensor, y: Tensor) => sum(A.where(A.gt(x, 0), x, y)), [0, 1])(randn64([16, 1, 5], 3), randn64([4, 5], 4));
    expect(da.shape).toEqual([16, 1, 5]);
    expect(db.shape).toEqual([4, 5]);
    const c = t64([1, 0], true);
    expect(A.where(c, t64([1, 2], true), 0).node!.inputs[0]!.requiresGrad).toBe(false);
  });

  test("grad-of-grad through where", () => {
    const cond = A.tensor([1, 0, 1]);
    expectGradcheck((x) => grad((v: Tensor) => sum(A.where(cond, A.exp(v), A.sin(v))))(x!), [randn64([3], 5)]);
  });
});

describe("comparisons and logic carry no gradient", () => {
  test("0/1 results; accept numbers; nothing recorded", () => {
    const a = t64([1, 2, 3], true), b = t64([2, 2, 2]);
    const results = {
      eq: [0, 1, 0], ne: [1, 0, 1], lt: [1, 0, 0], le: [1, 1, 0], gt: [0, 0, 1], ge: [0, 1, 1],
      logicalAnd: [1, 1, 1], logicalOr: [1, 1, 1], logicalXor: [0, 0, 0],
    } as const;
    for (const [name, expected] of Object.entries(results)) {
      const out = A[name as keyof typeof results](a, b);
      expect(out).toBeAllclose(expected);
      expect(out.requiresGrad).toBe(false);
    }
    expect(A.gt(a, 1.5)).toBeAllclose([0, 1, 1]);
    expect(A.logicalNot(t64([0, 3]))).toBeAllclose([1, 0]);
    expect(A.logicalXor(t64([0, 1]), t64([1, 1]))).toBeAllclose([1, 0]);
  });
});

describe("NaN in maximum and minimum", () => {
  test("the value is NaN and the gradient goes to the NaN operand", () => {
    const a = t64([1, NaN, NaN]), b = t64([NaN, 2, NaN]);
    expect(A.maximum(a, b)).toBeAllclose([NaN, NaN, NaN]);
    expect(A.minimum(a, b)).toBeAllclose([NaN, NaN, NaN]);
    for (const f of [A.maximum, A.minimum]) {
      const [da, db] = grad((x: Tensor, y: Tensor) => sum(f(x, y)), [0, 1])(a, b);
      expect(da).toBeAllclose([0, 1, 1]);
      expect(db).toBeAllclose([1, 0, 0]);
    }
  });
});

describe("binary properties", () => {
  const ops = cases.map((c) => [c.name, c.f] as const);

  test("for every binary op and broadcastable pair, the gradients have the input shapes", () => {
    fc.assert(
      fc.property(arbBroadcastPair({ maxRank: 4, maxSize: 64 }), fc.constantFrom(...ops), ({ a, b }, [, f]) => {
        const x = A.randomUniform(a, 0.5, 2, { seed: 1 }), y = A.randomUniform(b, 0.5, 2, { seed: 2 });
        const [dx, dy] = grad((u: Tensor, v: Tensor) => sum(f(u, v)), [0, 1])(x, y);
        expect(dx.shape).toEqual(a);
        expect(dy.shape).toEqual(b);
      }),
      propertyOptions(150),
    );
  });

  test("grad of sum∘f equals the vjp with a seed of ones, and each gradient is the sum over the broadcast axes", () => {
    fc.assert(
      fc.property(arbBroadcastPair({ maxRank: 3, maxSize: 48 }), fc.constantFrom(...ops), fc.nat(1000), ({ a, b, out }, [, f], seed) => {
        const x = A.randomUniform(a, 0.5, 2, { seed, dtype: "float64" }), y = A.randomUniform(b, 0.5, 2, { seed: seed + 1, dtype: "float64" });
        const [dx, dy] = grad((u: Tensor, v: Tensor) => sum(f(u, v)), [0, 1])(x, y);
        // Seed ones on explicitly broadcast copies, then sum back by hand (through the tensor package).
        const xb = new A.Tensor(A.broadcastTo(x, out).value.contiguous(), true), yb = new A.Tensor(A.broadcastTo(y, out).value.contiguous(), true);
        const z = f(xb, yb);
        z.backward({ seed: A.onesLike(z) });
        expect(dx).toBeAllclose(A.sumToShape(xb.grad!, a), { atol: 1e-12 });
        expect(dy).toBeAllclose(A.sumToShape(yb.grad!, b), { atol: 1e-12 });
      }),
      propertyOptions(100),
    );
  });
});
