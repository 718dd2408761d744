import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import { type ReduceOptions, type Tensor, grad, sum } from "@zerograd/autograd";
import { arbShape, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { expectGradcheck, expectNoNearTies, randn64, t64, uniform64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

const x23 = () => t64([[1, 2, 3], [4, 5, 6]]);
const d = (f: (x: Tensor) => Tensor) => grad((x: Tensor) => sum(f(x)));

describe("reductions: worked examples", () => {
  test("sum and mean spread the gradient evenly", () => {
    expect(A.sum(x23(), { axis: 1 })).toBeAllclose([6, 15]);
    expect(d((x) => A.sum(x, { axis: 0 }))(x23())).toBeAllclose([[1, 1, 1], [1, 1, 1]]);
    expect(d((x) => A.mean(x))(x23())).toBeAllclose(1 / 6);
    expect(d((x) => A.mean(x, { axis: 1 }))(x23())).toBeAllclose(1 / 3);
    expect(A.mean(x23(), { axis: 0, keepDims: true })).toBeAllclose([[2.5, 3.5, 4.5]]);
  });

  test("max and min: the extreme gets the gradient, ties share it equally", () => {
    expect(d((x) => A.max(x, { axis: 1 }))(x23())).toBeAllclose([[0, 0, 1], [0, 0, 1]]);
    expect(d((x) => A.min(x, { axis: 0 }))(x23())).toBeAllclose([[1, 1, 1], [0, 0, 0]]);
    expect(d((x) => A.max(x))(t64([1, 3, 3]))).toBeAllclose([0, 0.5, 0.5]);
    expect(d((x) => A.min(x, { axis: 1, keepDims: true }))(t64([[2, 2, 2, 5]]))).toBeAllclose([[1 / 3, 1 / 3, 1 / 3, 0]]);
  });

  test("max and min with NaN: the value is NaN and the NaN element gets the gradient", () => {
    expect(A.max(t64([1, NaN, 3]))).toBeAllclose(NaN);
    expect(d((x) => A.max(x))(t64([1, NaN, 3]))).toBeAllclose([0, 1, 0]);
    expect(d((x) => A.min(x, { axis: 1 }))(t64([[NaN, 0, NaN], [1, 2, 3]]))).toBeAllclose([[0.5, 0, 0.5], [1, 0, 0]]);
  });

  test("prod: Π/xᵢ without zeros; with one zero only the zero gets the product of the others; with two, nothing", () => {
    // rows [1,2,3] → 6/1, 6/2, 6/3; [4,5,6] → 120/4, 120/5, 120/6
    expect(A.prod(x23(), { axis: 1 })).toBeAllclose([6, 120]);
    expect(d((x) => A.prod(x, { axis: 1 }))(x23())).toBeAllclose([[6, 3, 2], [30, 24, 20]]);
    expect(d((x) => A.prod(x))(t64([2, 0, 3]))).toBeAllclose([0, 6, 0]);
    expect(d((x) => A.prod(x))(t64([0, 0, 3]))).toBeAllclose([0, 0, 0]);
    expect(d((x) => A.prod(x, { axis: 0 }))(t64([[0, 2], [5, 0], [3, 4]]))).toBeAllclose([[15, 0], [0, 8], [0, 0]]);
  });

  test("logSumExp: the gradient is the softmax", () => {
    const x = t64([[0, Math.LN2, Math.log(3)]]); // exponentials 1, 2, 3
    expect(A.logSumExp(x, { axis: 1 })).toBeAllclose([Math.log(6)], { atol: 1e-15 });
    expect(d((v) => A.logSumExp(v, { axis: -1 }))(x)).toBeAllclose([[1 / 6, 2 / 6, 3 / 6]], { atol: 1e-15 });
    // stable for large inputs, value and gradient
    const big = t64([1e4, 1e4]);
    expect(A.logSumExp(big)).toBeAllclose(1e4 + Math.LN2);
    expect(d((v) => A.logSumExp(v))(big)).toBeAllclose([0.5, 0.5]);
    expect(A.logSumExp(t64([[1, 2]]), { keepDims: true }).shape).toEqual([1, 1]);
  });

  test("variance: d/dxᵢ = 2(xᵢ − mean)/n", () => {
    expect(A.variance(t64([1, 2, 3]))).toBeAllclose(2 / 3, { atol: 1e-15 });
    expect(d((x) => A.variance(x))(t64([1, 2, 3]))).toBeAllclose([-2 / 3, 0, 2 / 3], { atol: 1e-15 });
    expect(d((x) => A.variance(x, { axis: 0 }))(t64([[1], [3]]))).toBeAllclose([[-1], [1]], { atol: 1e-15 });
  });

  test("argmax and argmin give indices without gradients", () => {
    const x = t64([[1, 5, 2], [7, 0, 7]], true);
    expect(A.argmax(x, { axis: 1 })).toBeAllclose([1, 0]);
    expect(A.argmin(x, { axis: 1 })).toBeAllclose([0, 1]);
    expect(A.argmax(x).requiresGrad).toBe(false);
    expect(x.argmax({ axis: 0 })).toBeAllclose([1, 0, 1]);
  });

  test("empty inputs: sum is 0 with an empty gradient; max and mean of nothing throw", () => {
    expect(A.sum(t64([]))).toBeAllclose(0);
    expect(d((x) => A.sum(x))(t64([])).shape).toEqual([0]);
    expect(() => A.max(t64([]))).toThrow("max: cannot reduce an empty axis: [0]");
    expect(() => A.mean(t64([]))).toThrow("mean: cannot average over an empty axis: [0]");
    expect(() => A.sum(x23(), { axis: 2 })).toThrow("sum: axis 2 out of range for rank 2");
    expect(() => A.logSumExp(x23(), { axis: -3 })).toThrow("logSumExp: axis -3 out of range for rank 2");
    expect(() => A.variance(x23(), { axis: [0, 0] })).toThrow("variance: repeated axis in [0,0]");
  });
});

describe("reductions: gradcheck and grad-of-grad", () => {
  type Reduce = (x: Tensor, o?: ReduceOptions) => Tensor;
  const ops: [string, Reduce, (seed: number) => Tensor][] = [
    ["sum", A.sum, (s) => randn64([3, 4, 2], s)],
    ["mean", A.mean, (s) => randn64([3, 4, 2], s)],
    ["max", A.max, (s) => randn64([3, 4, 2], s)],
    ["min", A.min, (s) => randn64([3, 4, 2], s)],
    ["prod", A.prod, (s) => uniform64([3, 4, 2], 0.5, 1.5, s)],
    ["logSumExp", A.logSumExp, (s) => randn64([3, 4, 2], s)],
    ["variance", A.variance, (s) => randn64([3, 4, 2], s)],
  ];
  const axes: (ReduceOptions | undefined)[] = [undefined, { axis: 1 }, { axis: [0, 2], keepDims: true }, { axis: -1, keepDims: false }];

  test.each(ops)("%s: gradcheck over all, one and several axes", (_, f, input) => {
    expectNoNearTies(input(1));
    for (const o of axes) expectGradcheck((x) => f(x!, o), [input(1)]);
  });

  test.each(ops)("%s: grad-of-grad (createGraph) of sum(f(x)²)", (_, f, input) => {
    expectNoNearTies(input(2));
    for (const o of [undefined, { axis: 1 }]) expectGradcheck((x) => grad((v: Tensor) => sum(A.square(f(v, o))))(x!), [input(2)]);
  });

  test("sumToShape and broadcastTo: gradcheck, and each is the other's gradient", () => {
    expectGradcheck((x) => A.sumToShape(x!, [4, 1]), [randn64([3, 4, 5], 1)]);
    expectGradcheck((x) => A.broadcastTo(x!, [3, 4, 5]), [randn64([4, 1], 2)]);
    expect(d((x) => A.broadcastTo(x, [3, 2]))(t64([1, 2]))).toBeAllclose([3, 3]);
    expect(d((x) => A.mul(A.sumToShape(x, [2]), t64([1, 10])))(t64([[1, 2], [3, 4]]))).toBeAllclose([[1, 10], [1, 10]]);
  });
});

describe("reduction properties", () => {
  test("grad of sum(x) over any axes is all ones, and of mean is 1/count", () => {
    const arb = arbShape({ minRank: 1, maxRank: 4, maxSize: 60 }).chain((shape) => fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i))));
    fc.assert(
      fc.property(arb, ([shape, axisList]) => {
        const x = randn64(shape, shape.length);
        expect(d((v) => A.sum(v, { axis: axisList }))(x)).toBeAllclose(1);
        const count = axisList.reduce((n, a) => n * shape[a]!, 1);
        expect(d((v) => A.mean(v, { axis: axisList }))(x)).toBeAllclose(1 / count);
      }),
      propertyOptions(80),
    );
  });

  test("the max gradient sums to the number of outputs and is non-zero only at maxima", () => {
    const arb = arbShape({ minRank: 1, maxRank: 3, maxSize: 40 }).chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.nat(100)));
    fc.assert(
      fc.property(arb, ([shape, axis, seed]) => {
        // Small integers make ties common.
        const x = A.tensor(A.randomUniform(shape, 0, 3, { seed }).value.data.map(Math.floor), { shape, dtype: "float64" });
        const g = d((v) => A.max(v, { axis }))(x);
        const m = A.max(x, { axis, keepDims: true });
        expect(A.sum(g)).toBeAllclose(x.size / shape[axis]!, { atol: 1e-12 });
        expect(A.mul(g, A.ne(x, m))).toBeAllclose(0);
      }),
      propertyOptions(80),
    );
  });
});

describe("prod: second derivatives where the input holds zeros", () => {
  /** The exact first derivative of Π x, in plain float64: Dᵢ = Π_{j≠i} xⱼ. */
  const exactGrad = (x: number[]) => x.map((_, i) => x.reduce((p, v, j) => (j === i ? p : p * v), 1));

  /** H[i][k] by central differences of the exact first derivative (exact here: D is linear in each xₖ). */
  function numericHessian(x: number[], eps = 1e-4): number[][] {
    return x.map((_, i) => x.map((_, k) => {
      const plus = [...x], minus = [...x];
      plus[k]! += eps;
      minus[k]! -= eps;
      return (exactGrad(plus)[i]! - exactGrad(minus)[i]!) / (2 * eps);
    }));
  }

  test.each([
    ["no zero", [2, -3, 0.5, 4]],
    ["one zero", [2, 0, 3, -1.5]],
    ["two zeros in a row", [0, 0, 3, 2]],
    ["two zeros apart", [0, 5, 0, 2]],
  ])("%s: grad-of-grad equals finite differences of the exact gradient", (_, values) => {
    const x = t64(values);
    expect(d((v) => A.prod(v))(x)).toBeAllclose(exactGrad(values), { atol: 1e-12 });
    // Row i of the Hessian is the gradient of the i-th component of the gradient.
    const hessian = values.map((_, i) => grad((v: Tensor) => A.sum(A.mul(d((w) => A.prod(w))(v), A.oneHot(A.tensor([i]), values.length))))(x).toArray());
    expect(t64(hessian as number[][])).toBeAllclose(numericHessian(values), { atol: 1e-8 });
  });

  test("over several axes, with zeros, keepDims: gradient and grad-of-grad match the exact ones", () => {
    const values = [[0, 2, 3], [4, 0, 0]];
    const x = t64(values);
    expect(d((v) => A.prod(v, { axis: 1, keepDims: true }))(x)).toBeAllclose([[6, 0, 0], [0, 0, 0]]);
    expect(d((v) => A.prod(v, { axis: [0, 1] }))(x)).toBeAllclose([[0, 0, 0], [0, 0, 0]]);
    expectGradcheck((v) => grad((u: Tensor) => A.prod(u, { axis: [0, 1] }))(v!), [t64([[0, 2], [3, 0.5]])]);
    expectGradcheck((v) => grad((u: Tensor) => A.sum(A.prod(u, { axis: 0 })))(v!), [t64([[0, 2, 0], [0, 1, 3], [2, 0, 4]])]);
  });
});
