import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { type Tensor, conv2d, gradients, grad, sum } from "@zerograd/autograd";
import { expectGradcheck, expectNoNearTies, randn64, t64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

/** d/dx Σ w ⊙ f(x) with fixed weights w. */
const vjpAt = (f: (x: Tensor) => Tensor, w: Tensor) => grad((x: Tensor) => sum(A.mul(f(x), w)));

describe("softmax and logSoftmax", () => {
  // exponentials 1, 2, 3: y = [1/6, 2/6, 3/6]
  const x = () => t64([0, Math.LN2, Math.log(3)]);

  test("worked gradients: softmax y ⊙ (w − Σ w·y); logSoftmax w − y·Σw", () => {
    const w = t64([1, 0, 0]);
    expect(A.softmax(x())).toBeAllclose([1 / 6, 2 / 6, 3 / 6], { atol: 1e-15 });
    // y ⊙ (w − y₁) = [1/6 · 5/6, 2/6 · (−1/6), 3/6 · (−1/6)]
    expect(vjpAt((v) => A.softmax(v), w)(x())).toBeAllclose([5 / 36, -2 / 36, -3 / 36], { atol: 1e-15 });
    expect(vjpAt((v) => A.logSoftmax(v), w)(x())).toBeAllclose([5 / 6, -2 / 6, -3 / 6], { atol: 1e-15 });
    // Σ softmax is constant: its gradient vanishes.
    expect(grad((v: Tensor) => sum(A.softmax(v)))(x())).toBeAllclose([0, 0, 0], { atol: 1e-15 });
  });

  test("gradients stay finite at ±1e4", () => {
    const big = t64([[1e4, -1e4, 0]]);
    expect(A.logSoftmax(big)).toBeAllclose([[0, -2e4, -1e4]]);
    expect(vjpAt((v) => A.logSoftmax(v), t64([[1, 0, 0]]))(big)).toBeAllclose([[0, 0, 0]]);
    expect(vjpAt((v) => A.logSoftmax(v), t64([[0, 1, 0]]))(big)).toBeAllclose([[-1, 1, 0]]);
    expect(vjpAt((v) => A.softmax(v), t64([[0, 1, 0]]))(big)).toBeAllclose([[0, 0, 0]]);
    const f32 = vjpAt((v) => A.logSoftmax(v), A.tensor([[0, 1, 0]]))(A.tensor([[1e4, -1e4, 0]]));
    expect(f32).toBeAllclose([[-1, 1, 0]]);
  });

  test.each([["softmax", A.softmax], ["logSoftmax", A.logSoftmax]] as const)("%s: gradcheck and grad-of-grad along each axis", (_, f) => {
    for (const axis of [0, -1]) {
      expectGradcheck((v) => f(v!, axis), [randn64([3, 4], 1)]);
      expectGradcheck((v) => grad((u: Tensor) => sum(A.mul(f(u, axis), t64([[1, -2, 3, 0.5]]))))(v!), [randn64([3, 4], 2)]);
    }
    expect(() => f(t64([1, 2]), 1)).toThrow(`${f === A.softmax ? "softmax" : "logSoftmax"}: axis 1 out of range for rank 1`);
  });

  test("x.softmax and x.logSoftmax methods", () => {
    expect(x().softmax()).toBeAllclose([1 / 6, 2 / 6, 3 / 6], { atol: 1e-15 });
    expect(x().logSoftmax()).toBeAllclose([Math.log(1 / 6), Math.log(2 / 6), Math.log(3 / 6)], { atol: 1e-15 });
  });
});

describe("conv2d", () => {
  test("worked gradients: a 2×2 filter of ones over a 3×3 image", () => {
    const image = A.reshape(t64([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 3, 3, 1]);
    const filter = A.ones([2, 2, 1, 1], { dtype: "float64" });
    const [dx, df] = grad((x: Tensor, f: Tensor) => sum(conv2d(x, f)), [0, 1])(image, filter);
    // Each pixel receives one gradient per window covering it: corners 1, edges 2, centre 4.
    expect(A.reshape(dx, [3, 3])).toBeAllclose([[1, 2, 1], [2, 4, 2], [1, 2, 1]]);
    // Each tap sums the pixels it met: top-left tap 1+2+4+5, …
    expect(A.reshape(df, [2, 2])).toBeAllclose([[12, 16], [24, 28]]);
  });

  const configs: [string, T.WindowOptions, number[], number[]][] = [
    ["valid", {}, [2, 4, 5, 2], [2, 3, 2, 3]],
    ["same, stride 2", { padding: "same", strides: 2 }, [1, 5, 5, 2], [3, 3, 2, 2]],
    ["explicit padding, stride [1,2]", { padding: [[1, 0], [2, 1]], strides: [1, 2] }, [1, 4, 4, 1], [2, 2, 1, 2]],
    ["dilation 2, same", { dilations: 2, padding: "same" }, [1, 5, 4, 2], [2, 2, 2, 1]],
  ];

  test.each(configs)("%s: gradcheck for the input and the filter", (_, options, xs, fs) => {
    expectGradcheck((x, f) => conv2d(x!, f!, options), [randn64(xs, 1), randn64(fs, 2)]);
  });

  test.each(configs)("%s: grad-of-grad of Σ conv²", (_, options, xs, fs) => {
    const h = (x: Tensor, f: Tensor) => sum(A.square(conv2d(x, f, options)));
    expectGradcheck((x, f) => grad(h, 0)(x!, f!), [randn64(xs, 3), randn64(fs, 4)]);
    expectGradcheck((x, f) => grad(h, 1)(x!, f!), [randn64(xs, 3), randn64(fs, 4)]);
  });

  test("the gradients have the input and filter shapes; float32 stays float32", () => {
    const [dx, df] = grad((x: Tensor, f: Tensor) => sum(conv2d(x, f, { padding: "same" })), [0, 1])(A.randn([2, 6, 6, 3], { seed: 1 }), A.randn([3, 3, 3, 4], { seed: 2 }));
    expect(dx.shape).toEqual([2, 6, 6, 3]);
    expect(df.shape).toEqual([3, 3, 3, 4]);
    expect(dx.dtype).toBe("float32");
  });

  test("errors: channel mismatch, ranks, a window that does not fit", () => {
    expect(() => conv2d(A.zeros([1, 4, 4, 3]), A.zeros([3, 3, 2, 8]))).toThrow("conv2d: input channels differ from the filter's: [1,4,4,3] x [3,3,2,8]");
    expect(() => conv2d(A.zeros([4, 4, 3]), A.zeros([3, 3, 3, 8]))).toThrow("conv2d: input must be NHWC (rank 4): [4,4,3]");
    expect(() => conv2d(A.zeros([1, 4, 4, 3]), A.zeros([3, 3, 3]))).toThrow("conv2d: filter must be [kh, kw, inChannels, outChannels]: [3,3,3]");
    expect(() => conv2d(A.zeros([1, 2, 2, 1]), A.zeros([3, 3, 1, 1]))).toThrow("conv2d: window 3x3 (dilated 3x3) does not fit the padded input: [1,2,2,1]");
  });
});

describe("maxPool2d and avgPool2d", () => {
  const x44 = () => A.reshape(A.arange(16, undefined, 1, { dtype: "float64" }), [1, 4, 4, 1]);

  test("worked gradients: max sends g to the winner, avg spreads it evenly", () => {
    const dMax = grad((x: Tensor) => sum(A.maxPool2d(x, { poolSize: 2 })))(x44());
    expect(A.reshape(dMax, [4, 4])).toBeAllclose([[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]]);
    const dAvg = vjpAt((x) => A.avgPool2d(x, { poolSize: 2 }), A.reshape(t64([4, 8, 12, 16]), [1, 2, 2, 1]))(x44());
    expect(A.reshape(dAvg, [4, 4])).toBeAllclose([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]);
  });

  test("'same' average pooling divides by the taps inside the image, so does its gradient", () => {
    const x = A.reshape(A.arange(9, undefined, 1, { dtype: "float64" }), [1, 3, 3, 1]);
    const g = grad((v: Tensor) => sum(A.avgPool2d(v, { poolSize: 2, padding: "same" })))(x);
    // windows: {0,1,3,4} /4, {2,5} /2, {6,7} /2, {8} /1
    expect(A.reshape(g, [3, 3])).toBeAllclose([[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1]]);
  });

  const configs: [string, T.PoolOptions][] = [
    ["2×2", { poolSize: 2 }],
    ["3×3 stride 1 same", { poolSize: 3, strides: 1, padding: "same" }],
    ["[2,3] stride [1,2] explicit padding", { poolSize: [2, 3], strides: [1, 2], padding: [[1, 0], [1, 1]] }],
  ];

  test.each(configs)("%s: gradcheck (max away from ties) and grad-of-grad", (_, options) => {
    const x = randn64([2, 5, 6, 2], 1);
    expectNoNearTies(x);
    expectGradcheck((v) => A.maxPool2d(v!, options), [x]);
    expectGradcheck((v) => A.avgPool2d(v!, options), [x]);
    expectGradcheck((v) => grad((u: Tensor) => sum(A.square(A.maxPool2d(u, options))))(v!), [x]);
    expectGradcheck((v) => grad((u: Tensor) => sum(A.square(A.avgPool2d(u, options))))(v!), [x]);
  });

  test("explicit padding is at most half the window, so no window lies wholly in the padding", () => {
    expect(() => A.maxPool2d(A.zeros([1, 2, 4, 1]), { poolSize: 2, padding: [[2, 0], [0, 0]] })).toThrow(
      new RangeError("maxPool2d: padding [[2,0],[0,0]] must be at most half the 2x2 window (1 rows, 1 columns)"),
    );
    expect(() => A.avgPool2d(A.zeros([1, 4, 4, 1]), { poolSize: 3, padding: 2 })).toThrow(/avgPool2d: padding \[\[2,2\],\[2,2\]\] must be at most half/);
    // Half the window is allowed: every window still covers at least one pixel.
    expect(A.maxPool2d(A.ones([1, 2, 2, 1]), { poolSize: 2, padding: 1 }).toArray()).toEqual([[[[1], [1]], [[1], [1]]]]);
  });

  test("errors name the op", () => {
    expect(() => A.maxPool2d(A.zeros([1, 2, 2, 1]), { poolSize: 3 })).toThrow("maxPool2d: window 3x3 (dilated 3x3) does not fit the padded input: [1,2,2,1]");
    expect(() => A.avgPool2d(A.zeros([1, 4, 4, 1]), { poolSize: [2, 0] })).toThrow(new RangeError("avgPool2d: poolSize must be positive integers, got [2,0]"));
  });
});
