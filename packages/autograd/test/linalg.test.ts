import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import { type Tensor, grad, matmul, sum } from "@zerograd/autograd";
import { arbBroadcastPair, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { expectGradcheck, randn64, t64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

const both = (f: (a: Tensor, b: Tensor) => Tensor) => grad((a: Tensor, b: Tensor) => sum(f(a, b)), [0, 1]);

describe("matmul: worked gradients", () => {
  test("2-D: d/dA Σ(AB) = 1·Bᵀ (row sums of B), d/dB = Aᵀ·1 (column sums of A)", () => {
    const a = t64([[1, 2], [3, 4]]), b = t64([[5, 6], [7, 8]]);
    expect(matmul(a, b)).toBeAllclose([[19, 22], [43, 50]]);
    const [da, db] = both(matmul)(a, b);
    expect(da).toBeAllclose([[11, 15], [11, 15]]);
    expect(db).toBeAllclose([[4, 4], [6, 6]]);
  });

  test("1-D operands: a dot product, matrix·vector and vector·matrix", () => {
    const [dv, dw] = both(matmul)(t64([1, 2, 3]), t64([4, 5, 6]));
    expect(dv).toBeAllclose([4, 5, 6]);
    expect(dw).toBeAllclose([1, 2, 3]);
    const m = t64([[1, 2, 3], [4, 5, 6]]);
    const [dm, dx] = both(matmul)(m, t64([1, 0, -1]));
    expect(dm).toBeAllclose([[1, 0, -1], [1, 0, -1]]);
    expect(dx).toBeAllclose([5, 7, 9]);
    const [dy, dm2] = both(matmul)(t64([1, 1]), m);
    expect(dy).toBeAllclose([6, 15]);
    expect(dm2).toBeAllclose([[1, 1, 1], [1, 1, 1]]);
    expect(matmul(t64([1, 2]), t64([3, 4])).shape).toEqual([]);
  });

  test("x.matmul and the mT view", () => {
    const x = t64([[1, 2], [3, 4]]);
    expect(x.matmul(x.mT)).toBeAllclose([[5, 11], [11, 25]]);
  });
});

describe("matmul: gradcheck, broadcast shapes, grad-of-grad", () => {
  const shapes: [string, number[], number[]][] = [
    ["2-D", [3, 4], [4, 2]],
    ["batched", [2, 3, 4], [2, 4, 5]],
    ["broadcast batch", [2, 1, 3, 4], [5, 4, 2]],
    ["matrix·batch", [3, 4], [2, 4, 2]],
    ["1-D left", [4], [2, 4, 3]],
    ["1-D right", [2, 3, 4], [4]],
    ["1-D both", [4], [4]],
  ];

  test.each(shapes)("%s: gradcheck", (_, sa, sb) => {
    expectGradcheck((a, b) => matmul(a!, b!), [randn64(sa, 1), randn64(sb, 2)]);
  });

  test("transposed views as operands", () => {
    expectGradcheck((a, b) => matmul(A.mT(a!), A.transpose(b!)), [randn64([4, 3], 3), randn64([2, 4], 4)]);
    expectGradcheck((a, b) => matmul(A.slice(a!, [{ step: -1 }, { step: 2 }]), b!), [randn64([3, 6], 5), randn64([3, 2], 6)]);
  });

  test.each(shapes)("%s: grad-of-grad of Σ(AB)²", (_, sa, sb) => {
    const h = (a: Tensor, b: Tensor) => sum(A.square(matmul(a, b)));
    expectGradcheck((a, b) => grad(h, 0)(a!, b!), [randn64(sa, 7), randn64(sb, 8)]);
    expectGradcheck((a, b) => grad(h, 1)(a!, b!), [randn64(sa, 7), randn64(sb, 8)]);
  });

  test("[16,1,5,3] @ [4,3,2]: the gradients have the input shapes", () => {
    const [da, db] = both(matmul)(randn64([16, 1, 5, 3], 1), randn64([4, 3, 2], 2));
    expect(da.shape).toEqual([16, 1, 5, 3]);
    expect(db.shape).toEqual([4, 3, 2]);
  });

  test("property: broadcast batch shapes give gradients of the input shapes, and dB = Σ over the batch of Aᵀ·G", () => {
    const arb = fc.tuple(arbBroadcastPair({ maxRank: 3, maxDim: 3, maxSize: 12 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }));
    fc.assert(
      fc.property(arb, ([{ a, b, out }, M, K, N]) => {
        const x = randn64([...a, M, K], 1), y = randn64([...b, K, N], 2);
        const [dx, dy] = both(matmul)(x, y);
        expect(dx.shape).toEqual([...a, M, K]);
        expect(dy.shape).toEqual([...b, K, N]);
        // With G = 1: dA = G·Bᵀ summed back over A's broadcast axes.
        const g = A.ones([...out, M, N], { dtype: "float64" });
        expect(dx).toBeAllclose(A.sumToShape(matmul(g, A.mT(y)), [...a, M, K]), { atol: 1e-12 });
        expect(dy).toBeAllclose(A.sumToShape(matmul(A.mT(x), g), [...b, K, N]), { atol: 1e-12 });
      }),
      propertyOptions(100),
    );
  });

  test("errors name the shapes the caller passed", () => {
    expect(() => matmul(t64([[1, 2, 3], [4, 5, 6]]), A.zeros([4, 5]))).toThrow("matmul: inner dimensions differ: [2,3] x [4,5]");
    expect(() => matmul(t64([1, 2, 3]), A.zeros([4, 5]))).toThrow("matmul: inner dimensions differ: [3] x [4,5]");
    expect(() => matmul(A.zeros([2, 3]), A.zeros([2]))).toThrow("matmul: inner dimensions differ: [2,3] x [2]");
    expect(() => matmul(t64(1), t64([1]))).toThrow("matmul: operands must have at least one axis: [] x [1]");
    expect(() => matmul(A.zeros([2, 4, 5]), A.zeros([3, 5, 6]))).toThrow("matmul: batch dimensions cannot be broadcast: [2,4,5] x [3,5,6]");
  });
});
