import { Tensor, grad, gradcheck, mul, randn, sum, tensor } from "@zerograd/autograd";
import { NDArray, ShapeError } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import {
  AvgPool2D,
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  ELU,
  Embedding,
  Flatten,
  GELU,
  GlobalAveragePooling,
  LayerNormalization,
  LeakyReLU,
  MaxPool2D,
  ReLU,
  Sigmoid,
  Softmax,
  Tanh,
  functionalCall,
  type Module,
} from "../src/index.js";

const close = (actual: ArrayLike<number>, expected: readonly number[], digits = 5) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, digits));
};
const f64 = (shape: number[], seed: number) => randn(shape, { seed, dtype: "float64" });

/**
 * Gradient check of a layer with respect to its input and every parameter, in float64: the
 * layer becomes a pure function of (x, ...params) through functionalCall.
 */
function checkLayer(layer: Module, x: Tensor, seed = 7): void {
  const names = layer.namedParameters().map(([n]) => n);
  const params = layer.namedParameters().map(([, p], i) => randn(p.shape, { seed: seed + i + 1, dtype: "float64" }));
  const f = (input: Tensor, ...ps: Tensor[]) => {
    const out = functionalCall(layer, Object.fromEntries(names.map((n, i) => [n, ps[i]!])), input);
    // A fixed random weighting makes every output element matter with a different weight.
    return sum(mul(out, randn(out.shape, { seed: 99, dtype: "float64" })));
  };
  const result = gradcheck(f, [x, ...params]);
  expect(result.message).toBe("");
  expect(result.ok).toBe(true);
  // Not vacuous: the output really depends on the input and on every replaced parameter.
  const grads = grad(f, Array.from({ length: params.length + 1 }, (_, i) => i))(x, ...params);
  for (const g of grads) expect(Array.from(g.data).some((v) => v !== 0)).toBe(true);
}

describe("Dense", () => {
  test("worked example: y = x·Wᵀ + b with W [out, in]", () => {
    const d = new Dense(2, 3);
    d.loadStateDict({ weight: new NDArray(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]), bias: new NDArray(new Float32Array([0.5, -1, 0]), [3]) });
    // [1, −1]·[1,2]ᵀ = −1, ·[3,4]ᵀ = −1, ·[5,6]ᵀ = −1; plus the bias
    close(d.call(tensor([[1, -1]])).data, [-0.5, -2, -1]);
    expect(d.weight.shape).toEqual([3, 2]);
  });

  test("activation, no bias, leading axes", () => {
    const d = new Dense(2, 2, { bias: false, activation: "relu" });
    d.loadStateDict({ weight: new NDArray(new Float32Array([1, 0, 0, -1]), [2, 2]) });
    const y = d.call(tensor([[[3, 4]], [[-3, -4]]])); // [2, 1, 2]
    expect(y.shape).toEqual([2, 1, 2]);
    expect(Array.from(y.data)).toEqual([3, 0, 0, 4]);
    expect(d.bias).toBeNull();
  });

  test("gradcheck in float64", () => {
    checkLayer(new Dense(3, 2), f64([4, 3], 1));
  });

  test("errors name the layer and shapes", () => {
    expect(() => new Dense(3, 2).call(tensor([[1, 2]]))).toThrow("Dense: input's last axis must have 3 features: [1,2] x [2,3]");
    expect(() => new Dense(0, 2)).toThrow(RangeError);
    expect(() => new Dense(2, 2, { activation: "swish" as never })).toThrow(/unknown activation "swish"/);
    expect(() => new Dense(2, 2, { weightInitializer: "nope" as never })).toThrow(/unknown initializer "nope"/);
  });
});

describe("Conv2D", () => {
  // A 3×3 image holding 1…9 and the 2×2 filter [[1, 0], [0, −1]]: each output is x[i,j] − x[i+1,j+1].
  const image = () => tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 3, 3, 1] });
  const conv = (options: ConstructorParameters<typeof Conv2D>[3] = {}) => {
    const c = new Conv2D(1, 1, 2, options);
    c.weight.value.data.set([1, 0, 0, -1]); // [kh, kw, in, out] = [2, 2, 1, 1]
    return c;
  };

  test("valid padding: x[i,j] − x[i+1,j+1] = −4, plus the bias", () => {
    const c = conv();
    c.bias!.value.data[0] = 0.5;
    const y = c.call(image());
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.data)).toEqual([-3.5, -3.5, -3.5, -3.5]);
  });

  test("same padding pads at the bottom and right (TensorFlow's rule)", () => {
    const y = conv({ padding: "same", bias: false }).call(image());
    expect(y.shape).toEqual([1, 3, 3, 1]);
    // last row/column: the lower-right tap falls on padding (0)
    expect(Array.from(y.data)).toEqual([-4, -4, 3, -4, -4, 6, 7, 8, 9]);
  });

  test("strides and dilation", () => {
    expect(Array.from(conv({ strides: 2, padding: "same", bias: false }).call(image()).data)).toEqual([-4, 3, 7, 9]);
    // dilation 2: the taps are x[0,0] and x[2,2]
    expect(Array.from(conv({ dilations: 2, bias: false }).call(image()).data)).toEqual([1 - 9]);
  });

  test("channels: each output channel sums over input channels", () => {
    const c = new Conv2D(2, 3, 1, { bias: false });
    c.weight.value.data.set([1, 0, 1, 0, 1, 1]); // [1,1,2,3]: out0 = in0, out1 = in1, out2 = in0 + in1
    expect(Array.from(c.call(tensor([[[[2, 5]]]])).data)).toEqual([2, 5, 7]);
  });

  test("gradcheck in float64 (stride, padding, dilation)", () => {
    checkLayer(new Conv2D(2, 3, [2, 3], { strides: [1, 2], padding: "same" }), f64([2, 4, 5, 2], 2));
    checkLayer(new Conv2D(1, 2, 2, { dilations: 2, padding: 1 }), f64([1, 4, 4, 1], 3));
  });

  test("errors", () => {
    expect(() => new Conv2D(2, 1, 3).call(tensor([1, 2, 3], { shape: [1, 1, 3, 1] }))).toThrow("Conv2D: input must be NHWC with 2 channels: [1,1,3,1] x [3,3,2,1]");
    expect(() => new Conv2D(1, 1, 0)).toThrow(/kernelSize must be positive integers/);
    expect(() => new Conv2D(1, 1, 5).call(image())).toThrow(ShapeError);
  });
});

describe("pooling", () => {
  const img = () => tensor([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 9, 9, 2, 6, 9, 1], { shape: [1, 4, 4, 1] });

  test("MaxPool2D and AvgPool2D over 2×2 windows", () => {
    expect(Array.from(new MaxPool2D(2).call(img()).data)).toEqual([5, 8, 6, 9]);
    expect(Array.from(new AvgPool2D(2).call(img()).data)).toEqual([13 / 4, 11 / 4, 8 / 4, 28 / 4]);
    expect(new MaxPool2D(3, { strides: 1 }).call(img()).shape).toEqual([1, 2, 2, 1]);
  });

  test("gradients: max pooling routes to the maximum; average pooling spreads evenly", () => {
    const x = img().requireGrad();
    sum(new MaxPool2D(2).call(x)).backward();
    // maxima 5, 8, 6 and 9 at flat indices 1, 6, 13 and 10 (the bottom-right window's 9s tie: the first one wins)
    expect(Array.from(x.grad!.data)).toEqual([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0]);
    checkLayer(new AvgPool2D(2, { strides: 1, padding: "same" }), f64([1, 3, 3, 2], 4));
  });

  test("Flatten keeps the batch axis", () => {
    expect(new Flatten().call(img()).shape).toEqual([1, 16]);
  });
});

describe("window options are checked when the layer is built, not at its first call", () => {
  test("Conv2D padding", () => {
    expect(() => new Conv2D(3, 2, 2, { padding: "foo" as never })).toThrow(`Conv2D: padding must be 'same', 'valid', a number or [[top,bottom],[left,right]], got "foo"`);
    expect(() => new Conv2D(3, 2, 2, { padding: -1 })).toThrow("Conv2D: padding must be non-negative integers, got [-1,-1,-1,-1]");
    expect(() => new Conv2D(3, 2, 2, { padding: [[1, 0], [0.5, 0]] })).toThrow("Conv2D: padding must be non-negative integers, got [1,0,0.5,0]");
    expect(new Conv2D(1, 1, 2, { padding: [[1, 0], [0, 1]] }).call(tensor([1, 2, 3, 4], { shape: [1, 2, 2, 1] })).shape).toEqual([1, 2, 2, 1]);
  });

  test("pooling strides and padding (at most half the window)", () => {
    expect(() => new MaxPool2D(2, { strides: 0 })).toThrow("MaxPool2D: strides must be positive integers, got [0,0]");
    expect(() => new AvgPool2D(2, { strides: [1, 1.5] })).toThrow("AvgPool2D: strides must be positive integers, got [1,1.5]");
    expect(() => new MaxPool2D(2, { padding: "full" as never })).toThrow(/MaxPool2D: padding must be 'same', 'valid'/);
    expect(() => new AvgPool2D([2, 4], { padding: [[1, 1], [2, 3]] })).toThrow("AvgPool2D: padding [[1,1],[2,3]] must be at most half the 2x4 window (1 rows, 2 columns)");
    expect(new MaxPool2D(2, { padding: 1 }).call(tensor([1, 2, 3, 4], { shape: [1, 2, 2, 1] })).shape).toEqual([1, 2, 2, 1]);
  });
});

describe("GlobalAveragePooling", () => {
  test("the mean over the spatial axes of NHWC images", () => {
    const x = tensor([1, 10, 2, 20, 3, 30, 4, 40], { shape: [1, 2, 2, 2] });
    expect(Array.from(new GlobalAveragePooling().call(x).data)).toEqual([2.5, 25]);
  });

  test("a mask averages only the real positions of padded sequences, whatever padding holds", () => {
    const x = tensor([
      [[1, 2], [3, 4], [NaN, Infinity]], // the third step is padding
      [[5, 6], [0, 0], [0, 0]],
    ]).requireGrad();
    const mask = tensor([[1, 1, 0], [1, 0, 0]]);
    const y = new GlobalAveragePooling().call(x, mask);
    expect(Array.from(y.data)).toEqual([2, 3, 5, 6]);
    sum(y).backward();
    expect(Array.from(x.grad!.data)).toEqual([0.5, 0.5, 0.5, 0.5, 0, 0, 1, 1, 0, 0, 0, 0]);
  });

  test("a row with no real position gives 0 and a zero gradient, not NaN", () => {
    const x = tensor([[[1, 2], [3, 4]]]).requireGrad();
    const y = new GlobalAveragePooling().call(x, tensor([[0, 0]]));
    expect(Array.from(y.data)).toEqual([0, 0]);
    sum(y).backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 0]);
  });

  test("gradcheck with a mask, and shape errors", () => {
    const mask = new NDArray(new Float64Array([1, 1, 0, 1, 0, 0]), [2, 3]);
    const r = gradcheck((x) => sum(mul(new GlobalAveragePooling().call(x, mask), randn([2, 2], { seed: 5, dtype: "float64" }))), [f64([2, 3, 2], 6)]);
    expect(r.ok).toBe(true);
    expect(() => new GlobalAveragePooling().call(tensor([[1, 2]]))).toThrow(ShapeError);
    expect(() => new GlobalAveragePooling().call(tensor([[[1, 2]]]), tensor([[1, 0]]))).toThrow("GlobalAveragePooling: mask must have the input's shape without the channel axis: [1,2] x [1,1,2]");
  });
});

describe("Dropout", () => {
  test("training: zeros or x/(1 − rate), about `rate` of them zero; inference: the identity", () => {
    const d = new Dropout(0.25, { seed: 1 });
    const x = tensor(new Float32Array(4000).fill(2));
    const y = Array.from(d.call(x).data);
    expect(y.every((v) => v === 0 || Math.abs(v - 2 / 0.75) < 1e-6)).toBe(true);
    const dropped = y.filter((v) => v === 0).length / y.length;
    expect(dropped).toBeGreaterThan(0.22);
    expect(dropped).toBeLessThan(0.28);
    d.eval();
    expect(d.call(x)).toBe(x);
  });

  test("seeded: the same seed drops the same elements; the stream moves on between calls", () => {
    const x = tensor(new Float32Array(64).fill(1));
    const a = new Dropout(0.5, { seed: 3 }), b = new Dropout(0.5, { seed: 3 });
    const first = Array.from(a.call(x).data);
    expect(Array.from(b.call(x).data)).toEqual(first);
    expect(Array.from(a.call(x).data)).not.toEqual(first);
  });

  test("gradient: the same mask scales the gradient", () => {
    const x = tensor(new Float32Array(16).fill(1)).requireGrad();
    const y = new Dropout(0.5, { seed: 2 }).call(x);
    sum(y).backward();
    expect(Array.from(x.grad!.data)).toEqual(Array.from(y.data));
    expect(() => new Dropout(1.5)).toThrow(/rate must be in \[0, 1\]/);
  });
});

describe("BatchNormalization", () => {
  test("training: normalises with batch statistics and updates the running ones", () => {
    const bn = new BatchNormalization(1);
    const y = bn.call(tensor([[1], [3]]));
    // mean 2, biased variance 1
    const s = 1 / Math.sqrt(1 + 1e-5);
    close(y.data, [-s, s]);
    // running_mean = 0.9·0 + 0.1·2; running_var = 0.9·1 + 0.1·2 (unbiased variance 2)
    close(bn.running_mean.data, [0.2]);
    close(bn.running_var.data, [1.1]);
  });

  test("inference uses the running statistics, then γ and β", () => {
    const bn = new BatchNormalization(2, { momentum: 0.5 });
    bn.loadStateDict({
      weight: new NDArray(new Float32Array([2, 1]), [2]),
      bias: new NDArray(new Float32Array([1, 0]), [2]),
      running_mean: new NDArray(new Float32Array([1, -1]), [2]),
      running_var: new NDArray(new Float32Array([4, 1]), [2]),
    });
    bn.eval();
    const y = bn.call(tensor([[3, 1]]));
    close(y.data, [((3 - 1) / Math.sqrt(4 + 1e-5)) * 2 + 1, (1 + 1) / Math.sqrt(1 + 1e-5)]);
    expect(Array.from(bn.running_mean.data)).toEqual([1, -1]); // untouched in inference
  });

  test("NHWC: statistics over batch, height and width per channel", () => {
    const bn = new BatchNormalization(2, { momentum: 1 });
    bn.call(tensor([1, 10, 3, 30, 5, 50, 7, 70], { shape: [2, 2, 1, 2] }));
    close(bn.running_mean.data, [4, 40]);
    close(bn.running_var.data, [20 / 3, 2000 / 3], 3); // unbiased over 4 values
  });

  test("gradcheck in float64 (training mode), and errors", () => {
    checkLayer(new BatchNormalization(3), f64([4, 3], 8));
    expect(() => new BatchNormalization(2).call(tensor([[1, 2]]))).toThrow("BatchNormalization: training needs more than one value per channel (got 1; in fit(), a last batch of one row does this: pass dropLast: true or pick another batchSize): [1,2]");
    expect(() => new BatchNormalization(2).call(tensor([[1, 2, 3]]))).toThrow(ShapeError);
  });
});

describe("LayerNormalization", () => {
  test("each sample normalised over its last axis", () => {
    const ln = new LayerNormalization(3);
    const s = 1 / Math.sqrt(2 / 3 + 1e-5); // mean 2, variance 2/3
    close(ln.call(tensor([[1, 2, 3], [10, 20, 30]])).data, [-s, 0, s, -1.2247429, 0, 1.2247429]);
  });

  test("gradcheck in float64 over two trailing axes, and errors", () => {
    checkLayer(new LayerNormalization([2, 3]), f64([2, 2, 3], 9));
    expect(() => new LayerNormalization(4).call(tensor([[1, 2, 3]]))).toThrow("LayerNormalization: input must end with the normalised shape [4]: [1,3]");
  });
});

describe("Embedding", () => {
  test("looks up rows; repeated indices add their gradients; the padding row gets none", () => {
    const e = new Embedding(4, 2, { paddingIdx: 0 });
    expect(Array.from(e.weight.data.subarray(0, 2))).toEqual([0, 0]); // the padding row starts at 0
    e.weight.value.data.set([0, 0, 1, 2, 3, 4, 5, 6]);
    const idx = tensor([[1, 3, 0], [1, 0, 2]]);
    const y = e.call(idx);
    expect(y.shape).toEqual([2, 3, 2]);
    expect(Array.from(y.data)).toEqual([1, 2, 5, 6, 0, 0, 1, 2, 0, 0, 3, 4]);
    sum(mul(y, tensor([1, 10]))).backward();
    expect(Array.from(e.weight.grad!.data)).toEqual([0, 0, 2, 20, 1, 10, 1, 10]);
  });

  test("a padding row with non-zero values still reads them (as PyTorch) but gets no gradient", () => {
    const e = new Embedding(3, 1, { paddingIdx: -1 });
    expect(e.paddingIdx).toBe(2);
    e.weight.value.data.set([1, 2, 3]);
    const y = e.call(tensor([2, 2, 0]));
    expect(Array.from(y.data)).toEqual([3, 3, 1]);
    sum(y).backward();
    expect(Array.from(e.weight.grad!.data)).toEqual([1, 0, 0]);
  });

  test("bad indices are errors", () => {
    const e = new Embedding(3, 2);
    expect(() => e.call(tensor([0, 3]))).toThrow("Embedding: index 3 at position 1 of [2] is not an integer in [0, 3)");
    expect(() => e.call(tensor([0.5]))).toThrow(RangeError);
    expect(() => new Embedding(3, 2, { paddingIdx: 3 })).toThrow(/paddingIdx 3 is out of range/);
  });
});

describe("activation layers", () => {
  const x = () => tensor([-2, -0.5, 0.5, 2]);
  test("values", () => {
    expect(Array.from(new ReLU().call(x()).data)).toEqual([0, 0, 0.5, 2]);
    close(new LeakyReLU(0.1).call(x()).data, [-0.2, -0.05, 0.5, 2]);
    close(new ELU().call(x()).data, [Math.expm1(-2), Math.expm1(-0.5), 0.5, 2]);
    close(new Sigmoid().call(x()).data, [-2, -0.5, 0.5, 2].map((v) => 1 / (1 + Math.exp(-v))));
    close(new Tanh().call(x()).data, [-2, -0.5, 0.5, 2].map(Math.tanh));
    // GELU(x) = x·Φ(x): Φ(2) = 0.9772499, Φ(0.5) = 0.6914625
    close(new GELU().call(x()).data, [-2 * (1 - 0.9772499), -0.5 * (1 - 0.6914625), 0.5 * 0.6914625, 2 * 0.9772499]);
    const s = Array.from(new Softmax().call(tensor([[0, Math.log(3)]])).data);
    close(s, [0.25, 0.75]);
    close(new Softmax(0).call(tensor([[0], [Math.log(3)]])).data, [0.25, 0.75]);
  });

  test("gradients flow through the layer form", () => {
    for (const layer of [new ELU(0.7), new GELU(), new Sigmoid(), new Tanh(), new Softmax(), new LeakyReLU(0.3)]) checkLayer(layer, f64([2, 3], 11));
  });
});
