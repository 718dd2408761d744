import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { type Tensor, grad, sum } from "@zerograd/autograd";
import { randn64, t64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

describe("Tensor", () => {
  test("wraps an NDArray: shape, dtype, size, rank, data, item, toArray", () => {
    const x = A.tensor([[1, 2], [3, 4]], { dtype: "float64" });
    expect(x.shape).toEqual([2, 2]);
    expect(x.dtype).toBe("float64");
    expect(x.size).toBe(4);
    expect(x.rank).toBe(2);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4]);
    expect(x.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(A.tensor(5).item()).toBe(5);
    expect(x.isLeaf).toBe(true);
    expect(String(A.tensor([1], { requiresGrad: true }))).toBe("Tensor([1], float32) [1], requiresGrad)");
  });

  test("every tensor gets a distinct id", () => {
    expect(A.tensor([1]).id).not.toBe(A.tensor([1]).id);
  });

  test("method sugar calls the function of the same name", () => {
    const x = t64([[1, -2], [3, -4]], true);
    const y = x.add(1).mul(2).sub(t64([1])).div(2).relu().sum();
    expect(y).toBeAllclose((1.5 + 0 + 3.5 + 0));
    y.backward();
    expect(x.grad).toBeAllclose([[1, 0], [1, 0]]);
    const v = t64([0.5, 2]);
    expect(v.pow(2)).toBeAllclose([0.25, 4]);
    expect(v.maximum(1)).toBeAllclose([1, 2]);
    expect(v.minimum(1)).toBeAllclose([0.5, 1]);
    expect(v.neg().abs()).toBeAllclose([0.5, 2]);
    expect(v.exp().log()).toBeAllclose([0.5, 2], { atol: 1e-15 });
    expect(v.square().sqrt()).toBeAllclose([0.5, 2], { atol: 1e-15 });
    expect(t64([0]).tanh().add(t64([0]).sigmoid())).toBeAllclose([0.5]);
    expect(x.mean()).toBeAllclose(-0.5);
    expect(x.max({ axis: 1 })).toBeAllclose([1, 3]);
    expect(x.min()).toBeAllclose(-4);
    expect(x.reshape([4]).shape).toEqual([4]);
    expect(x.transpose().toArray()).toEqual([[1, 3], [-2, -4]]);
    expect(x.flatten(0).shape).toEqual([4]);
    expect(x.expandDims(0).squeeze(0).shape).toEqual([2, 2]);
  });
});

describe("creation", () => {
  test("constant tensors, ranges and identity", () => {
    expect(A.zeros([2])).toBeAllclose([0, 0]);
    expect(A.ones([2], { dtype: "float64" }).dtype).toBe("float64");
    expect(A.full([2], 3)).toBeAllclose([3, 3]);
    expect(A.zerosLike(t64([1, 2]))).toBeAllclose([0, 0]);
    expect(A.onesLike(t64([1, 2])).dtype).toBe("float64");
    expect(A.arange(1, 7, 2)).toBeAllclose([1, 3, 5]);
    expect(A.linspace(0, 1, 3)).toBeAllclose([0, 0.5, 1]);
    expect(A.eye(2)).toBeAllclose([[1, 0], [0, 1]]);
    expect(A.tensor(T.array([1, 2])).shape).toEqual([2]);
    expect(A.tensor([1, 2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(A.tensor(Uint8Array.of(3, 4), { shape: [2, 1] })).toBeAllclose([[3], [4]]); // integer typed arrays are copied
  });

  test("seeded random tensors: same seed, same tensor", () => {
    expect(A.randn([3], { seed: 5 }).toArray()).toEqual(A.randn([3], { seed: 5 }).toArray());
    expect(A.rand([3], { seed: 5 }).toArray()).toEqual(A.randomUniform([3], 0, 1, { seed: 5 }).toArray());
    expect(A.randomNormal([3], 2, 0, { seed: 1 })).toBeAllclose([2, 2, 2]);
    const r = A.rand([1000], { seed: 9 }).data;
    expect(Math.min(...r)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r)).toBeLessThan(1);
  });
});

describe("float64 in, float64 out — values and gradients", () => {
  const fns: [string, (x: Tensor) => Tensor][] = [
    ["unary chain", (x) => A.gelu(A.softplus(A.tanh(A.leakyRelu(A.elu(x)))))],
    ["binary with numbers", (x) => A.pow(A.add(A.div(1, A.add(A.square(x), 1)), 0.5), 1.5)],
    ["maximum/minimum/where", (x) => A.where(A.gt(x, 0), A.maximum(x, 0.1), A.minimum(x, -0.1))],
    ["reductions", (x) => A.add(A.logSumExp(x, { axis: 1, keepDims: true }), A.add(A.variance(x), A.prod(A.max(x, { axis: 0 }))))],
    ["movement", (x) => A.concat([A.pad(A.slice(x, [{ step: -1 }]), [[1, 0], [0, 1]], 2), A.take(A.pad(A.mT(A.mT(x)), [[0, 0], [1, 0]]), [0, -1], 0)], 0)],
    ["matmul and softmax", (x) => A.logSoftmax(A.matmul(x, A.mT(A.softmax(x))))],
    ["conv and pooling", (x) => A.avgPool2d(A.maxPool2d(A.conv2d(A.reshape(x, [1, 3, 4, 1]), A.ones([2, 2, 1, 1])), { poolSize: 1 }), { poolSize: [1, 2] })],
  ];

  test.each(fns)("%s", (_, f) => {
    const x = randn64([3, 4], 1);
    const y = f(x);
    expect(y.dtype).toBe("float64");
    expect(grad((v: Tensor) => sum(f(v)))(x).dtype).toBe("float64");
  });
});

describe("0-size tensors", () => {
  test("elementwise, reductions, matmul and concat work and give 0-size or zero gradients", () => {
    const e = A.zeros([0, 3], { dtype: "float64" });
    expect(grad((x: Tensor) => sum(A.exp(x)))(e).shape).toEqual([0, 3]);
    expect(grad((x: Tensor) => sum(A.mul(x, t64([1, 2, 3]))))(e).shape).toEqual([0, 3]);
    const [da, db] = grad((a: Tensor, b: Tensor) => sum(A.matmul(a, b)), [0, 1])(A.zeros([2, 0]), A.zeros([0, 3]));
    expect(da.shape).toEqual([2, 0]);
    expect(db.shape).toEqual([0, 3]);
    expect(A.matmul(A.zeros([2, 0]), A.zeros([0, 3]))).toBeAllclose([[0, 0, 0], [0, 0, 0]]);
    const g = grad((x: Tensor) => sum(A.concat([e, x])))(t64([[1, 2, 3]]));
    expect(g).toBeAllclose([[1, 1, 1]]);
    expect(grad((x: Tensor) => sum(A.sum(x, { axis: 0 })))(e).shape).toEqual([0, 3]);
  });
});

describe("kernel seam", () => {
  test("useKernels swaps kernels in and returns the previous set", () => {
    const initial = T.kernels().name;
    let calls = 0;
    const previous = T.useKernels({
      name: "counting",
      matmul: (...args) => { calls++; T.jsKernels.matmul(...args); },
    });
    try {
      expect(T.kernels().name).toBe("counting");
      expect(T.kernels().unary).toBe(T.jsKernels.unary); // entries not given keep the plain-JS version
      expect(A.matmul(t64([[1, 2]]), t64([[3], [4]]))).toBeAllclose([[11]]);
      expect(calls).toBe(1);
    } finally {
      T.useKernels(previous);
    }
    expect(T.kernels().name).toBe(initial);
  });
});
