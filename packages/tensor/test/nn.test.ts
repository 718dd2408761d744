import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { NDArray, array } from "@zerograd/tensor";
import { arbData, propertyOptions } from "../../../tools/testing/arbitraries.js";
import { innerProduct } from "../../../tools/testing/matchers.js";
import "../../../tools/testing/matchers.js";

const sizeOf = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** A convolution from the primitives (as autograd composes it): patches times the filter as a matrix. */
function conv2d(x: NDArray, filter: NDArray, options: T.WindowOptions = {}): NDArray {
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  const g = T.window2d("conv2d", x.shape, kh, kw, options);
  return T.reshape(T.matmul(T.im2col(x, g), T.reshape(filter, [kh * kw * cin, cout])), [g.n, g.oh, g.ow, cout]);
}

describe("softmax and logSoftmax", () => {
  test("worked example: exponentials 1, 2, 3 give 1/6, 2/6, 3/6", () => {
    const x = array([[0, Math.LN2, Math.log(3)]], { dtype: "float64" });
    expect(T.softmax(x)).toBeAllclose([[1 / 6, 2 / 6, 3 / 6]], { atol: 1e-15 });
    expect(T.logSoftmax(x)).toBeAllclose([[Math.log(1 / 6), Math.log(2 / 6), Math.log(3 / 6)]], { atol: 1e-15 });
    expect(T.softmax(x).dtype).toBe("float64");
  });

  test("along another axis", () => {
    const x = array([[0, 5], [0, 5]]);
    expect(T.softmax(x, 0)).toBeAllclose([[0.5, 0.5], [0.5, 0.5]]);
    expect(T.softmax(T.transpose(array([[0, Math.LN2]])), 0)).toBeAllclose([[1 / 3], [2 / 3]]);
  });

  test("stable at ±1e4: no NaN, no overflow", () => {
    for (const dtype of ["float32", "float64"] as const) {
      expect(T.softmax(array([1e4, 1e4], { dtype }))).toBeAllclose([0.5, 0.5]);
      expect(T.softmax(array([-1e4, -1e4], { dtype }))).toBeAllclose([0.5, 0.5]);
      expect(T.softmax(array([1e4, -1e4, 0], { dtype }))).toBeAllclose([1, 0, 0]);
      expect(T.logSoftmax(array([1e4, -1e4, 0], { dtype }))).toBeAllclose([0, -2e4, -1e4]);
      expect(T.logSoftmax(array([-1e4, -1e4], { dtype }))).toBeAllclose([-Math.LN2, -Math.LN2]);
    }
  });

  test("a row of −∞ gives NaN (no probability to share), one −∞ entry gets probability 0", () => {
    expect(T.softmax(array([-Infinity, 0]))).toBeAllclose([0, 1]);
    expect(T.logSoftmax(array([-Infinity, 0]))).toBeAllclose([-Infinity, 0]);
  });

  test("axis out of range", () => {
    expect(() => T.softmax(array([1, 2]), 1)).toThrow("softmax: axis 1 out of range for rank 1");
    expect(() => T.logSoftmax(array([1, 2]), -2)).toThrow("logSoftmax: axis -2 out of range for rank 1");
  });

  test("property: rows sum to 1, and logSoftmax = log(softmax)", () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 })).chain(([r, c]) => fc.tuple(fc.constant([r, c]), arbData(r * c, -30, 30)));
    fc.assert(
      fc.property(arb, ([shape, data]) => {
        const x = new NDArray(Float64Array.from(data), shape);
        const s = T.softmax(x);
        expect(T.sum(s, { axis: -1 })).toBeAllclose(1, { atol: 1e-12 });
        expect(T.logSoftmax(x)).toBeAllclose(T.log(s), { atol: 1e-9 });
        // Shifting a row by a constant changes nothing.
        expect(T.softmax(T.add(x, 1000))).toBeAllclose(s, { atol: 1e-9 });
      }),
      propertyOptions(100),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The test's own reference: a direct loop over output pixels, filter taps and channels.

interface Geometry { pt: number; pl: number; oh: number; ow: number }

/** Output size and top/left padding for one spatial axis, following TensorFlow's rules. */
function axisGeometry(size: number, k: number, stride: number, dilation: number, padding: "same" | "valid" | [number, number]): [number, number] {
  const ek = (k - 1) * dilation + 1;
  if (padding === "valid") return [Math.floor((size - ek) / stride) + 1, 0];
  if (padding === "same") {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + ek - size, 0);
    return [out, Math.floor(total / 2)];
  }
  return [Math.floor((size + padding[0] + padding[1] - ek) / stride) + 1, padding[0]];
}

function geometry(h: number, w: number, kh: number, kw: number, s: [number, number], d: [number, number], padding: "same" | "valid" | [[number, number], [number, number]]): Geometry {
  const [oh, pt] = axisGeometry(h, kh, s[0], d[0], typeof padding === "string" ? padding : padding[0]);
  const [ow, pl] = axisGeometry(w, kw, s[1], d[1], typeof padding === "string" ? padding : padding[1]);
  return { pt, pl, oh, ow };
}

/** out[b,y,x,o] = Σ_{i,j,c} in[b, y·sh − pt + i·dh, x·sw − pl + j·dw, c] · w[i,j,c,o] (zero outside). */
function naiveConv(x: number[], [n, h, w, c]: number[], f: number[], [kh, kw, , co]: number[], s: [number, number], d: [number, number], g: Geometry): number[] {
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let y = 0; y < g.oh; y++)
      for (let xx = 0; xx < g.ow; xx++)
        for (let o = 0; o < co!; o++) {
          let sum = 0;
          for (let i = 0; i < kh!; i++)
            for (let j = 0; j < kw!; j++) {
              const iy = y * s[0] - g.pt + i * d[0], ix = xx * s[1] - g.pl + j * d[1];
              if (iy < 0 || iy >= h! || ix < 0 || ix >= w!) continue;
              for (let ch = 0; ch < c!; ch++) sum += x[((b * h! + iy) * w! + ix) * c! + ch]! * f[((i * kw! + j) * c! + ch) * co! + o]!;
            }
          out.push(sum);
        }
  return out;
}

/** Max or mean over the window taps that fall inside the image (padding never counts). */
function naivePool(x: number[], [n, h, w, c]: number[], kh: number, kw: number, s: [number, number], g: Geometry, kind: "max" | "avg"): number[] {
  const out: number[] = [];
  for (let b = 0; b < n!; b++)
    for (let y = 0; y < g.oh; y++)
      for (let xx = 0; xx < g.ow; xx++)
        for (let ch = 0; ch < c!; ch++) {
          const taps: number[] = [];
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * s[0] - g.pt + i, ix = xx * s[1] - g.pl + j;
              if (iy >= 0 && iy < h! && ix >= 0 && ix < w!) taps.push(x[((b * h! + iy) * w! + ix) * c! + ch]!);
            }
          out.push(kind === "max" ? Math.max(...taps) : taps.reduce((p, v) => p + v, 0) / taps.length);
        }
  return out;
}

describe("convolution by im2col and matmul (NHWC)", () => {
  test("worked example: a 2×2 filter of ones sums each 2×2 window", () => {
    const x = T.reshape(array([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 3, 3, 1]);
    const f = T.ones([2, 2, 1, 1]);
    expect(conv2d(x, f)).toBeAllclose(T.reshape(array([12, 16, 24, 28]), [1, 2, 2, 1]));
    // 'same' with a 3×3 filter of ones: the centre sees all nine (45), a corner four (1+2+4+5 = 12).
    const same = conv2d(x, T.ones([3, 3, 1, 1]), { padding: "same" });
    expect(T.reshape(same, [3, 3])).toBeAllclose([[12, 21, 16], [27, 45, 33], [24, 39, 28]]);
    // stride 2 with padding 1: windows centred on the four corners.
    expect(T.reshape(conv2d(x, T.ones([3, 3, 1, 1]), { padding: 1, strides: 2 }), [2, 2])).toBeAllclose([[12, 16], [24, 28]]);
    // dilation 2: a 2×2 filter of ones touches the four corners of the 3×3 image.
    expect(conv2d(x, f, { dilations: 2 })).toBeAllclose(T.reshape(array([1 + 3 + 7 + 9]), [1, 1, 1, 1]));
  });

  test("channels: each output channel is a weighted sum over input channels", () => {
    const x = array([[[[1, 10]]]]); // [1,1,1,2]
    const f = array([[[[1, 0, 2], [0, 1, 3]]]]); // [1,1,2,3]
    expect(conv2d(x, f)).toBeAllclose([[[[1, 10, 32]]]]);
  });

  const options = fc.record({
    kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
    s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.oneof(
      fc.constant<"same">("same"),
      fc.constant<"valid">("valid"),
      fc.tuple(fc.tuple(fc.nat(2), fc.nat(2)), fc.tuple(fc.nat(2), fc.nat(2))),
    ),
    n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }),
    c: fc.integer({ min: 1, max: 3 }), co: fc.integer({ min: 1, max: 3 }),
  });

  test("property: agrees with a direct convolution loop (stride, padding same/valid/explicit, dilation)", () => {
    const arb = options
      .filter(({ h, w, kh, kw, d, padding }) => {
        const [ph, pw] = typeof padding === "string" ? [0, 0] : [padding[0][0] + padding[0][1], padding[1][0] + padding[1][1]];
        return padding === "same" || (h + ph >= (kh - 1) * d[0] + 1 && w + pw >= (kw - 1) * d[1] + 1);
      })
      .chain((o) => fc.tuple(fc.constant(o), arbData(o.n * o.h * o.w * o.c), arbData(o.kh * o.kw * o.c * o.co)));
    fc.assert(
      fc.property(arb, ([o, xd, fd]) => {
        const xs = [o.n, o.h, o.w, o.c], fs = [o.kh, o.kw, o.c, o.co];
        const g = geometry(o.h, o.w, o.kh, o.kw, o.s, o.d, o.padding);
        const got = conv2d(new NDArray(Float64Array.from(xd), xs), new NDArray(Float64Array.from(fd), fs), { strides: o.s, dilations: o.d, padding: o.padding });
        expect(got.shape).toEqual([o.n, g.oh, g.ow, o.co]);
        expect(got.data).toBeAllclose(Float64Array.from(naiveConv(xd, xs, fd, fs, o.s, o.d, g)), { atol: 1e-12 });
      }),
      propertyOptions(150),
    );
  });

  test("a strided (transposed) input gives the same result as its contiguous copy", () => {
    const x = T.transpose(T.randomNormal([1, 4, 5, 2], 0, 1, { seed: 3 }), [0, 2, 1, 3]); // [1,5,4,2] view
    const f = T.randomNormal([2, 2, 2, 3], 0, 1, { seed: 4 });
    expect(conv2d(x, f, { padding: "same" })).toBeAllclose(conv2d(x.contiguous(), f, { padding: "same" }), { atol: 1e-6 });
  });

  test("⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩ (the two are adjoint)", () => {
    const g = T.window2d("conv2d", [2, 5, 4, 3], 3, 2, { strides: [2, 1], padding: "same", dilations: [1, 2] });
    const x = T.randomNormal([2, 5, 4, 3], 0, 1, { seed: 5, dtype: "float64" });
    const cols = T.im2col(x, g);
    const y = T.randomNormal([...cols.shape], 0, 1, { seed: 6, dtype: "float64" });
    expect(innerProduct(cols.data, y.data)).toBeCloseTo(innerProduct(x.data, T.col2im(y, g).data), 10);
  });

  test("window errors: rank, windows that do not fit, bad strides and padding", () => {
    expect(() => conv2d(T.zeros([4, 4, 3]), T.zeros([3, 3, 3, 1]))).toThrow("conv2d: input must be NHWC (rank 4): [4,4,3]");
    expect(() => conv2d(T.zeros([1, 3, 3, 1]), T.zeros([5, 5, 1, 1]))).toThrow("conv2d: window 5x5 (dilated 5x5) does not fit the padded input: [1,3,3,1]");
    expect(() => conv2d(T.zeros([1, 4, 4, 1]), T.zeros([2, 2, 1, 1]), { dilations: 4 })).toThrow("conv2d: window 2x2 (dilated 5x5) does not fit the padded input: [1,4,4,1]");
    expect(() => conv2d(T.zeros([1, 4, 4, 1]), T.zeros([2, 2, 1, 1]), { strides: 0 })).toThrow(new RangeError("conv2d: strides must be positive integers, got [0,0]"));
    expect(() => conv2d(T.zeros([1, 4, 4, 1]), T.zeros([2, 2, 1, 1]), { dilations: [1, 1.5] })).toThrow(new RangeError("conv2d: dilations must be positive integers, got [1,1.5]"));
    expect(() => conv2d(T.zeros([1, 4, 4, 1]), T.zeros([2, 2, 1, 1]), { padding: -1 })).toThrow(new RangeError("conv2d: padding must be non-negative integers, got [-1,-1,-1,-1]"));
    expect(() => conv2d(T.zeros([1, 4, 4, 1]), T.zeros([2, 2, 1, 1]), { padding: "full" as "same" })).toThrow(
      new RangeError(`conv2d: padding must be 'same', 'valid', a number or [[top,bottom],[left,right]], got "full"`),
    );
    expect(() => T.col2im(T.zeros([3, 3]), T.window2d("conv2d", [1, 3, 3, 1], 2, 2, {}))).toThrow("col2im: columns do not match the window geometry: [3,3] x [4,4]");
  });
});

describe("maxPool2d and avgPool2d", () => {
  const x44 = () => T.reshape(T.arange(16), [1, 4, 4, 1]);

  test("worked example: 2×2 windows over 0…15 (the default stride is the window)", () => {
    expect(T.reshape(T.maxPool2d(x44(), { poolSize: 2 }), [2, 2])).toBeAllclose([[5, 7], [13, 15]]);
    // (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, …
    expect(T.reshape(T.avgPool2d(x44(), { poolSize: 2 }), [2, 2])).toBeAllclose([[2.5, 4.5], [10.5, 12.5]]);
    expect(T.reshape(T.maxPool2d(x44(), { poolSize: [1, 4] }), [4, 1])).toBeAllclose([[3], [7], [11], [15]]);
  });

  test("'same' padding: padding never wins the max and is not counted in the average", () => {
    // [[0,1,2],[3,4,5],[6,7,8]] with 2×2 windows, stride 2: one row/column of padding at the bottom/right.
    const x = T.reshape(T.arange(9), [1, 3, 3, 1]);
    expect(T.reshape(T.maxPool2d(x, { poolSize: 2, padding: "same" }), [2, 2])).toBeAllclose([[4, 5], [7, 8]]);
    expect(T.reshape(T.avgPool2d(x, { poolSize: 2, padding: "same" }), [2, 2])).toBeAllclose([[2, 3.5], [6.5, 8]]);
    const neg = T.neg(x); // all ≤ 0: a zero from padding would win if it counted
    expect(T.reshape(T.maxPool2d(neg, { poolSize: 2, padding: "same" }), [2, 2])).toBeAllclose([[0, -2], [-6, -8]]);
  });

  test("max pooling propagates NaN; the argmax points at the winner", () => {
    const x = T.reshape(array([1, NaN, 3, 4]), [1, 2, 2, 1]);
    expect(T.maxPool2d(x, { poolSize: 2 })).toBeAllclose(NaN);
    const { out, argmax } = T.maxPool2dWithArgmax(T.reshape(array([1, 9, 3, 4]), [1, 2, 2, 1]), { poolSize: 2 });
    expect(out).toBeAllclose(9);
    expect(Array.from(argmax)).toEqual([1]);
  });

  test("maxPool2dAdjoint sends each gradient to its window's maximum, accumulating overlaps", () => {
    // Overlapping 2×2 windows with stride 1 over [[1,2,3],[4,9,5],[6,7,8]]: 9 wins all four windows.
    const x = T.reshape(array([1, 2, 3, 4, 9, 5, 6, 7, 8]), [1, 3, 3, 1]);
    const { argmax } = T.maxPool2dWithArgmax(x, { poolSize: 2, strides: 1 });
    const dx = T.maxPool2dAdjoint(T.reshape(array([1, 2, 3, 4]), [1, 2, 2, 1]), argmax, x.shape);
    expect(T.reshape(dx, [3, 3])).toBeAllclose([[0, 0, 0], [0, 10, 0], [0, 0, 0]]);
  });

  test("avgPool2dAdjoint spreads each gradient equally over its window", () => {
    const dx = T.avgPool2dAdjoint(T.reshape(array([4, 8]), [1, 1, 2, 1]), [1, 2, 4, 1], { poolSize: 2 });
    expect(T.reshape(dx, [2, 4])).toBeAllclose([[1, 1, 2, 2], [1, 1, 2, 2]]);
  });

  const poolOptions = fc.record({
    k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.constantFrom<"same" | "valid">("same", "valid"),
    n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 3, max: 7 }), w: fc.integer({ min: 3, max: 7 }), c: fc.integer({ min: 1, max: 3 }),
  }).chain((o) => fc.tuple(fc.constant(o), arbData(o.n * o.h * o.w * o.c)));

  test("property: both poolings agree with a direct loop over the window", () => {
    fc.assert(
      fc.property(poolOptions, ([o, xd]) => {
        const shape = [o.n, o.h, o.w, o.c];
        const x = new NDArray(Float64Array.from(xd), shape);
        const g = geometry(o.h, o.w, o.k[0], o.k[1], o.s, [1, 1], o.padding);
        const opts = { poolSize: o.k, strides: o.s, padding: o.padding };
        const mx = T.maxPool2d(x, opts), av = T.avgPool2d(x, opts);
        expect(mx.shape).toEqual([o.n, g.oh, g.ow, o.c]);
        expect(mx.data).toBeAllclose(Float64Array.from(naivePool(xd, shape, o.k[0], o.k[1], o.s, g, "max")), { atol: 0 });
        expect(av.data).toBeAllclose(Float64Array.from(naivePool(xd, shape, o.k[0], o.k[1], o.s, g, "avg")), { atol: 1e-12 });
      }),
      propertyOptions(120),
    );
  });

  test("property: ⟨avgPool2d(x), y⟩ = ⟨x, avgPool2dAdjoint(y)⟩", () => {
    fc.assert(
      fc.property(poolOptions, ([o, xd]) => {
        const shape = [o.n, o.h, o.w, o.c];
        const opts = { poolSize: o.k, strides: o.s, padding: o.padding };
        const x = new NDArray(Float64Array.from(xd), shape);
        const out = T.avgPool2d(x, opts);
        const y = T.randomNormal([...out.shape], 0, 1, { seed: sizeOf(shape), dtype: "float64" });
        expect(innerProduct(out.data, y.data)).toBeCloseTo(innerProduct(x.data, T.avgPool2dAdjoint(y, shape, opts).data), 10);
      }),
      propertyOptions(80),
    );
  });

  test("errors: pool size, strides, windows that do not fit, gradient shapes", () => {
    expect(() => T.maxPool2d(T.zeros([1, 4, 4, 1]), { poolSize: 0 })).toThrow(new RangeError("maxPool2d: poolSize must be positive integers, got [0,0]"));
    expect(() => T.avgPool2d(T.zeros([1, 2, 2, 1]), { poolSize: 3 })).toThrow("avgPool2d: window 3x3 (dilated 3x3) does not fit the padded input: [1,2,2,1]");
    expect(() => T.maxPool2d(T.zeros([2, 2, 1]), { poolSize: 2 })).toThrow("maxPool2d: input must be NHWC (rank 4): [2,2,1]");
    expect(() => T.maxPool2dAdjoint(T.zeros([1, 2, 2, 1]), new Int32Array(3), [1, 4, 4, 1])).toThrow("maxPool2dAdjoint: gradient has 4 elements, argmax 3: [1,2,2,1]");
    expect(() => T.avgPool2dAdjoint(T.zeros([1, 3, 3, 1]), [1, 4, 4, 1], { poolSize: 2 })).toThrow("avgPool2dAdjoint: gradient does not match the pooled shape: [1,3,3,1] x [1,2,2,1]");
  });
});
