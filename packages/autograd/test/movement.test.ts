import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import { type Tensor, grad, sum } from "@zerograd/autograd";
import { arbBroadcastPair, arbPermutation, arbShape, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { innerProduct } from "../../../tools/testing/matchers.js";
import { expectGradcheck, randn64, t64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

/** d/dx Σ w ⊙ f(x) with fixed weights w, which tags each output position: the vjp of f at w. */
const vjpAt = (f: (x: Tensor) => Tensor, w: Tensor) => grad((x: Tensor) => sum(A.mul(f(x), w)));

describe("movement ops: worked gradients", () => {
  test("reshape, flatten, expandDims and squeeze hand g back in the input's shape", () => {
    const x = t64([[1, 2, 3], [4, 5, 6]]);
    expect(vjpAt((v) => A.reshape(v, [3, 2]), t64([[1, 2], [3, 4], [5, 6]]))(x)).toBeAllclose([[1, 2, 3], [4, 5, 6]]);
    expect(vjpAt((v) => A.reshape(v, [-1]), t64([6, 5, 4, 3, 2, 1]))(x)).toBeAllclose([[6, 5, 4], [3, 2, 1]]);
    expect(vjpAt((v) => A.flatten(A.expandDims(v, 0)), t64([[1, 2, 3, 4, 5, 6]]))(x)).toBeAllclose([[1, 2, 3], [4, 5, 6]]);
    expect(vjpAt((v) => A.squeeze(v), t64([7, 8]))(t64([[[1]], [[2]]]))).toBeAllclose([[[7]], [[8]]]);
    expect(A.flatten(randn64([2, 3, 4], 1)).shape).toEqual([2, 12]);
    expect(A.flatten(randn64([2, 3, 4], 1), 0).shape).toEqual([24]);
  });

  test("transpose, permute and mT: the gradient is transposed back", () => {
    const x = t64([[1, 2, 3], [4, 5, 6]]);
    // w tags the transposed positions: wᵀ comes back.
    expect(vjpAt((v) => A.transpose(v), t64([[10, 40], [20, 50], [30, 60]]))(x)).toBeAllclose([[10, 20, 30], [40, 50, 60]]);
    const y = randn64([2, 3, 4], 2);
    const w = randn64([4, 2, 3], 3);
    expect(vjpAt((v) => A.permute(v, [2, 0, 1]), w)(y)).toBeAllclose(A.transpose(w, [1, 2, 0]).value.contiguous());
    expect(A.mT(y).shape).toEqual([2, 4, 3]);
    expect(y.mT.shape).toEqual([2, 4, 3]);
    expect(() => A.mT(t64([1, 2]))).toThrow("mT: needs at least two axes: [2]");
  });

  test("slice with steps (negative too): g lands on the picked elements, zeros elsewhere", () => {
    const x = t64([0, 1, 2, 3, 4, 5]);
    expect(vjpAt((v) => A.slice(v, [{ start: 1, step: 2 }]), t64([10, 30, 50]))(x)).toBeAllclose([0, 10, 0, 30, 0, 50]);
    expect(vjpAt((v) => A.slice(v, [{ start: 4, stop: 0, step: -2 }]), t64([7, 9]))(x)).toBeAllclose([0, 0, 9, 0, 7, 0]);
    const m = t64([[1, 2, 3], [4, 5, 6]]);
    expect(vjpAt((v) => A.slice(v, [{ step: -1 }, { start: -1 }]), t64([[1], [2]]))(m)).toBeAllclose([[0, 0, 2], [0, 0, 1]]);
  });

  test("pad: the gradient is the interior of g; the pad value adds a constant and no gradient", () => {
    const x = t64([[1, 2]]);
    const p = A.pad(x, [[1, 0], [0, 2]], 9);
    expect(p).toBeAllclose([[9, 9, 9, 9], [1, 2, 9, 9]]);
    expect(vjpAt((v) => A.pad(v, [[1, 0], [0, 2]], 9), t64([[1, 1, 1, 1], [5, 6, 1, 1]]))(x)).toBeAllclose([[5, 6]]);
    expect(A.pad(t64([1]), [[0, 0]])).toBeAllclose([1]);
  });

  test("concat, stack and split: the gradient is cut back into pieces", () => {
    const a = t64([[1, 2]]), b = t64([[3, 4], [5, 6]]);
    const [da, db] = grad((u: Tensor, v: Tensor) => sum(A.mul(A.concat([u, v]), t64([[1, 2], [3, 4], [5, 6]]))), [0, 1])(a, b);
    expect(da).toBeAllclose([[1, 2]]);
    expect(db).toBeAllclose([[3, 4], [5, 6]]);
    const [ds0, ds1] = grad((u: Tensor, v: Tensor) => sum(A.mul(A.stack([u, v], 1), t64([[1, 2], [3, 4]]))), [0, 1])(t64([0, 0]), t64([0, 0]));
    expect(ds0).toBeAllclose([1, 3]);
    expect(ds1).toBeAllclose([2, 4]);
    const parts = A.split(t64([1, 2, 3, 4, 5]), [2, 3]);
    expect(parts.map((q) => q.toArray())).toEqual([[1, 2], [3, 4, 5]]);
    expect(vjpAt((v) => A.split(v, [2, 3])[1]!, t64([7, 8, 9]))(t64([1, 2, 3, 4, 5]))).toBeAllclose([0, 0, 7, 8, 9]);
    expect(vjpAt((v) => A.mul(A.split(v, 2, 1)[0]!, 2), t64([[1], [1]]))(t64([[1, 2], [3, 4]]))).toBeAllclose([[2, 0], [2, 0]]);
  });

  test("take scatter-adds its gradient (repeats accumulate); scatterAdd gathers", () => {
    const x = t64([10, 20, 30]);
    expect(A.take(x, [2, 0, 2])).toBeAllclose([30, 10, 30]);
    expect(vjpAt((v) => A.take(v, [2, 0, 2]), t64([1, 2, 4]))(x)).toBeAllclose([2, 0, 5]);
    expect(vjpAt((v) => A.take(v, A.tensor([[1], [-1]]), 1), t64([[[1], [2]], [[3], [4]]]))(t64([[1, 2], [3, 4]]))).toBeAllclose([[0, 3], [0, 7]]);
    expect(A.scatterAdd(t64([1, 2, 4]), [2, 0, 2], [3])).toBeAllclose([2, 0, 5]);
    expect(vjpAt((v) => A.scatterAdd(v, [2, 0, 2], [3]), t64([10, 20, 30]))(t64([1, 2, 4]))).toBeAllclose([30, 10, 30]);
    expect(A.take(x, Int32Array.of(1)).toArray()).toEqual([20]);
  });

  test("oneHot has no gradient", () => {
    const h = A.oneHot(A.tensor([2, -1]), 3);
    expect(h).toBeAllclose([[0, 0, 1], [0, 0, 0]]);
    expect(h.requiresGrad).toBe(false);
  });
});

describe("movement ops: gradcheck and grad-of-grad", () => {
  const cases: [string, (x: Tensor) => Tensor, number[]][] = [
    ["reshape", (x) => A.reshape(x, [4, -1]), [2, 3, 2]],
    ["transpose", (x) => A.transpose(x, [2, 0, 1]), [2, 3, 2]],
    ["expandDims/squeeze", (x) => A.squeeze(A.expandDims(x, 1), 1), [3, 4]],
    ["broadcastTo", (x) => A.broadcastTo(x, [2, 3, 4]), [3, 1]],
    ["sumToShape", (x) => A.sumToShape(x, [1, 4]), [3, 4]],
    ["slice", (x) => A.slice(x, [{ start: -1, stop: 0, step: -2 }, { start: 1 }]), [5, 3]],
    ["pad", (x) => A.pad(x, [[1, 2], [0, 1]], -3), [2, 3]],
    ["concat", (x) => A.concat([x, A.mul(x, x), A.slice(x, [{ stop: 1 }])], 0), [2, 3]],
    ["stack", (x) => A.stack([x, A.exp(x)], -1), [2, 3]],
    ["split", (x) => A.mul(A.split(x, [1, 2], 1)[1]!, A.split(x, 3, 1)[2]!), [2, 3]],
    ["take", (x) => A.take(x, [0, 2, 2, -1], 1), [2, 3]],
    ["scatterAdd", (x) => A.scatterAdd(x, [1, 1, 0], [3, 2], 0), [3, 2]],
  ];

  test.each(cases)("%s: gradcheck", (_, f, shape) => {
    expectGradcheck((x) => f(x!), [randn64(shape, 4)]);
  });

  test.each(cases)("%s: grad-of-grad of sum(f(x)²)", (_, f, shape) => {
    expectGradcheck((x) => grad((v: Tensor) => sum(A.square(f(v))))(x!), [randn64(shape, 5)]);
  });
});

describe("movement ops: errors", () => {
  test("errors come from the tensor rules, naming the op", () => {
    const x = t64([[1, 2, 3], [4, 5, 6]], true);
    expect(() => A.reshape(x, [4, 2])).toThrow("reshape: cannot reshape 6 elements: [2,3] x [4,2]");
    expect(() => A.transpose(x, [0, 0])).toThrow("transpose: permutation [0,0] is not a permutation of 2 axes: [2,3]");
    expect(() => A.broadcastTo(x, [3, 3])).toThrow("broadcastTo: cannot broadcast: [2,3] x [3,3]");
    expect(() => A.slice(x, [{ step: 0 }])).toThrow(new RangeError("slice: step must be a non-zero integer, got 0 on axis 0"));
    expect(() => A.pad(x, [[0, 0]])).toThrow("pad: expected 2 [before, after] pairs, got 1: [2,3]");
    expect(() => A.pad(x, [[-1, 0], [0, 0]])).toThrow(new RangeError("pad: pad widths must be non-negative integers, got [-1,0]"));
    expect(() => A.pad(x, [[0, 0], [0, 1.5]])).toThrow(new RangeError("pad: pad widths must be non-negative integers, got [0,1.5]"));
    expect(() => A.concat([x, t64([1, 2])])).toThrow("concat: shapes must match except on axis 0: [2,3] x [2]");
    expect(() => A.concat([])).toThrow("concat: needs at least one tensor");
    expect(() => A.stack([x, t64([1])])).toThrow("stack: all tensors must have the same shape: [2,3] x [1]");
    expect(() => A.split(x, 2, 1)).toThrow("split: axis 1 of size 3 does not divide into 2 equal parts: [2,3]");
    expect(() => A.take(x, [2])).toThrow(new RangeError("take: index 2 is out of range for axis 0 of size 2 in [2,3]"));
    expect(() => A.scatterAdd(x, [0, 1, 1], [2, 3])).toThrow("scatterAdd: values must have shape [3,3]: [2,3]");
    expect(() => A.scatterAdd(t64([1, 2]), [0, 1], [2, 3], 1)).toThrow("scatterAdd: values must have shape [2,2]: [2]");
  });
});

describe("movement properties", () => {
  test("⟨broadcastTo(x), y⟩ = ⟨x, sumToShape(y)⟩, and the gradient of one is the other", () => {
    fc.assert(
      fc.property(arbBroadcastPair({ maxRank: 4, maxSize: 96 }), fc.nat(1000), ({ a, out }, seed) => {
        const x = randn64(a, seed), y = randn64(out, seed + 1);
        expect(innerProduct(A.broadcastTo(x, out).value.copyData(), y.data)).toBeCloseTo(innerProduct(x.data, A.sumToShape(y, a).data), 9);
        expect(vjpAt((v) => A.broadcastTo(v, out), y)(x)).toBeAllclose(A.sumToShape(y, a), { atol: 1e-12 });
      }),
      propertyOptions(100),
    );
  });

  test("the gradient of a permutation is the inverse permutation of g", () => {
    const arb = arbShape({ minRank: 1, maxRank: 5, maxSize: 96 }).chain((shape) => fc.tuple(fc.constant(shape), arbPermutation(shape.length)));
    fc.assert(
      fc.property(arb, ([shape, perm]) => {
        const x = randn64(shape, 1), w = randn64(perm.map((p) => shape[p]!), 2);
        const inverse = perm.map((_, i) => perm.indexOf(i));
        const g = vjpAt((v) => A.transpose(v, perm), w)(x);
        expect(g).toBeAllclose(A.transpose(w, inverse).value.contiguous(), { atol: 0 });
      }),
      propertyOptions(80),
    );
  });
});
