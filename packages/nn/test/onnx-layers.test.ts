/** Every exportable layer, run in ONNX Runtime and compared with predict() at batch sizes 1 and 7. */
import { Tensor, leakyRelu, noGrad } from "@zerograd/autograd";
import { AvgPool2D, BatchNormalization, Conv2D, Dense, Dropout, ELU, Embedding, Flatten, Functional, GELU, GlobalAveragePooling, LayerNormalization, LeakyReLU, MaxPool2D, MultiHead, ReLU, Sequential, Sigmoid, Softmax, Tanh, type AnyModule } from "@zerograd/nn";
import { exportOnnx } from "@zerograd/nn/onnx";
import { NDArray, Random, randomNormal, randomUniform } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { type OrtCase, maxDiffVsOrt, normalInput, onnxCheck, onnxPython, testCasesAgainstOrt } from "./helpers/onnx.js";

type Case = OrtCase;

const img = (h: number, w: number, c: number) => ({ inputs: { image: [null, h, w, c] } });
const imgFeeds = (h: number, w: number, c: number, seed: number) => (batch: number) => ({ image: normalInput([h, w, c], seed)(batch) });
const vecFeeds = (n: number, seed: number, scale = 1) => (batch: number) => ({ x: randomNormal([batch, n], 0, scale, { seed: seed + batch }) });
/** Applies f to every element (test inputs: token ids, masks). */
const mapData = (x: NDArray, f: (v: number) => number) => new NDArray(Float32Array.from(x.flat(), f), x.shape);
const seq = (...layers: AnyModule[]) => () => new Sequential(layers as never[]);

/** Batch normalisation with running statistics moved away from 0 and 1 (a few training steps). */
function trainedBatchNorm(c: number, shape: number[], seed: number): BatchNormalization {
  const bn = new BatchNormalization(c, { momentum: 0.5 });
  const rng = new Random(seed);
  for (let i = 0; i < 4; i++) noGrad(() => bn.call(new Tensor(randomNormal(shape, 1.5, 2, { seed: rng }))));
  bn.weight!.value.data.set(randomNormal([c], 1, 0.3, { seed: seed + 1 }).data);
  bn.bias!.value.data.set(randomNormal([c], 0, 0.3, { seed: seed + 2 }).data);
  return bn;
}

const denseActivations = ["linear", "relu", "leakyRelu", "elu", "gelu", "sigmoid", "tanh", "softmax"] as const;

const cases: Case[] = [
  ...denseActivations.map((activation, k) => ({ name: `Dense (${activation})`, model: seq(new Dense(6, 5, { activation, seed: k })), options: { inputs: { x: [null, 6] } }, feeds: vecFeeds(6, 10 + k, 2) })),
  { name: "Dense with a function activation (leakyRelu slope 0.1), no bias", model: seq(new Dense(6, 5, { activation: (x) => leakyRelu(x, 0.1), bias: false, seed: 3 })), options: { inputs: { x: [null, 6] } }, feeds: vecFeeds(6, 30, 2) },
  { name: "Dense on [n, t, features] (MatMul)", model: seq(new Dense(4, 3, { activation: "tanh", seed: 4 })), options: { inputs: { x: [null, 5, 4] } }, feeds: (b) => ({ x: normalInput([5, 4], 40)(b) }) },
  { name: "Conv2D valid + Flatten + Dense (NHWC flatten order)", model: seq(new Conv2D(3, 4, 3, { seed: 5, activation: "relu" }), new Flatten(), new Dense(4 * 4 * 4, 3, { seed: 6 })), options: img(6, 6, 3), feeds: imgFeeds(6, 6, 3, 50) },
  { name: "Conv2D → MaxPool2D → Flatten → Dropout → Dense (weight columns reordered)", model: seq(new Conv2D(2, 3, 3, { seed: 31 }), new MaxPool2D(2), new Flatten(), new Dropout(0.2), new Dense(2 * 2 * 3, 4, { seed: 32 })), options: img(6, 6, 2), feeds: imgFeeds(6, 6, 2, 55) },
  { name: "Conv2D same, strides 2, odd size", model: seq(new Conv2D(2, 3, [3, 2], { strides: 2, padding: "same", seed: 7 })), options: img(7, 5, 2), feeds: imgFeeds(7, 5, 2, 60) },
  { name: "Conv2D explicit padding, dilations 2, no bias", model: seq(new Conv2D(2, 3, 3, { padding: [[1, 2], [0, 1]], dilations: 2, bias: false, seed: 8 })), options: img(8, 7, 2), feeds: imgFeeds(8, 7, 2, 70) },
  { name: "Conv2D same with dilations 2", model: seq(new Conv2D(2, 2, 3, { padding: "same", dilations: 2, seed: 9 })), options: img(6, 5, 2), feeds: imgFeeds(6, 5, 2, 75) },
  { name: "MaxPool2D valid and AvgPool2D same (padding not counted)", model: seq(new Conv2D(1, 2, 1, { seed: 10 }), new MaxPool2D(2), new AvgPool2D(3, { strides: 2, padding: "same" })), options: img(9, 9, 1), feeds: imgFeeds(9, 9, 1, 80) },
  { name: "MaxPool2D same, strides 1, on the raw NHWC input", model: seq(new MaxPool2D([2, 3], { strides: 1, padding: "same" })), options: img(5, 6, 2), feeds: imgFeeds(5, 6, 2, 90) },
  { name: "AvgPool2D explicit padding", model: seq(new AvgPool2D(3, { strides: 2, padding: 1 })), options: img(6, 6, 2), feeds: imgFeeds(6, 6, 2, 95) },
  { name: "GlobalAveragePooling after Conv2D (channels-first) ", model: seq(new Conv2D(2, 3, 3, { seed: 11 }), new GlobalAveragePooling(), new Dense(3, 2, { seed: 12 })), options: img(5, 5, 2), feeds: imgFeeds(5, 5, 2, 100) },
  { name: "GlobalAveragePooling on [n, t, c]", model: seq(new GlobalAveragePooling()), options: { inputs: { x: [null, 6, 3] } }, feeds: (b) => ({ x: normalInput([6, 3], 110)(b) }) },
  { name: "Flatten from axis 2 of a raw input", model: seq(new Flatten(2)), options: { inputs: { x: [null, 2, 3, 4] } }, feeds: (b) => ({ x: normalInput([2, 3, 4], 120)(b) }) },
  { name: "Dropout is the identity", model: seq(new Dense(4, 4, { seed: 13 }), new Dropout(0.5, { seed: 1 }), new ReLU()), options: { inputs: { x: [null, 4] } }, feeds: vecFeeds(4, 130) },
  { name: "BatchNormalization on [n, c]", model: seq(trainedBatchNorm(5, [16, 5], 14)), options: { inputs: { x: [null, 5] } }, feeds: vecFeeds(5, 140, 2) },
  { name: "BatchNormalization after Conv2D", model: seq(new Conv2D(2, 3, 3, { seed: 15 }), trainedBatchNorm(3, [4, 3, 3, 3], 16), new ReLU()), options: img(5, 5, 2), feeds: imgFeeds(5, 5, 2, 150) },
  { name: "BatchNormalization on [n, t, c]", model: seq(trainedBatchNorm(3, [4, 5, 3], 17)), options: { inputs: { x: [null, 5, 3] } }, feeds: (b) => ({ x: normalInput([5, 3], 160)(b) }) },
  { name: "LayerNormalization over the last axis (opset 17 operator)", model: seq(new Dense(4, 6, { seed: 18 }), new LayerNormalization(6)), options: { inputs: { x: [null, 4] } }, feeds: vecFeeds(4, 170) },
  { name: "LayerNormalization over two axes, opset 13 composition", model: seq(new LayerNormalization([3, 4], { eps: 1e-3 })), options: { inputs: { x: [null, 3, 4] }, opset: 13 }, feeds: (b) => ({ x: normalInput([3, 4], 180)(b) }) },
  { name: "LayerNormalization without affine, opset 21", model: seq(new LayerNormalization(5, { affine: false })), options: { inputs: { x: [null, 5] }, opset: 21 }, feeds: vecFeeds(5, 190) },
  { name: "activation layers on a conv output (channels-first), Softmax over channels", model: seq(new Conv2D(2, 4, 1, { seed: 19 }), new LeakyReLU(0.1), new ELU(0.5), new GELU(), new Sigmoid(), new Tanh(), new Softmax()), options: img(3, 3, 2), feeds: imgFeeds(3, 3, 2, 200) },
  { name: "Softmax over a middle axis", model: seq(new Conv2D(2, 2, 1, { seed: 20 }), new Softmax(1)), options: img(3, 4, 2), feeds: imgFeeds(3, 4, 2, 210) },
  { name: "GELU with ONNX's Gelu operator (opset 20)", model: seq(new GELU()), options: { inputs: { x: [null, 7] }, opset: 20 }, feeds: vecFeeds(7, 220, 3) },
  ...embeddingCases(),
  ...multiOutputCases(),
];

function embeddingCases(): Case[] {
  const tokens = (batch: number) => mapData(randomUniform([batch, 6], 0, 10, { seed: 230 + batch }), Math.floor);
  const model = () => new Sequential([new Embedding(10, 4, { seed: 21, paddingIdx: 0 }), new GlobalAveragePooling(), new Dense(4, 2, { seed: 22 })]);
  return [
    { name: "Embedding with int64 token ids", model, options: { inputs: { tokens: { shape: [null, 6], type: "int64" } } }, feeds: (b) => ({ tokens: { int64: tokens(b) } }) },
    { name: "Embedding with float token ids (cast)", model, options: { inputs: { tokens: [null, 6] } }, feeds: (b) => ({ tokens: tokens(b) }) },
  ];
}

function multiOutputCases(): Case[] {
  const multiHead = () => new MultiHead(new Sequential([new Dense(5, 8, { activation: "relu", seed: 23 }), new Dense(8, 8, { activation: "relu", seed: 24 })]), { digit: new Dense(8, 3, { seed: 25 }), parity: new Dense(8, 1, { seed: 26, activation: "sigmoid" }) });
  const functional = () =>
    new Functional({ conv: new Conv2D(1, 3, 3, { padding: "same", seed: 27 }), pool: new GlobalAveragePooling(), seqPool: new GlobalAveragePooling(), head: new Dense(3, 2, { seed: 28 }), side: new Dense(4, 2, { seed: 29 }) }, (m, x: Record<string, never>) => {
      const pooled = m.pool.call(m.conv.call(x.image));
      const masked = m.seqPool.call(x.steps, x.mask);
      return { label: m.head.call(pooled), side: m.side.call(masked), features: pooled };
    });
  const flattenShared = () =>
    new Functional({ conv: new Conv2D(2, 2, [2, 1], { seed: 33 }), flat: new Flatten(), head: new Dense(3 * 3 * 2, 3, { seed: 34 }), act: new Tanh() }, (m, x: Tensor) => {
      const flat = m.flat.call(m.conv.call(x));
      return { logits: m.head.call(flat), squashed: m.act.call(flat), flat };
    });
  const feeds = (b: number) => ({
    image: normalInput([4, 4, 1], 240)(b),
    steps: normalInput([5, 4], 250)(b),
    mask: mapData(randomUniform([b, 5], 0, 1, { seed: 260 + b }), (v) => (v < 0.4 ? 0 : 1)),
  });
  return [
    { name: "Conv2D → Flatten read by a Dense and by an activation and as an output", model: flattenShared as () => AnyModule, options: { inputs: { image: [null, 4, 3, 2] } }, feeds: imgFeeds(4, 3, 2, 280) },
    { name: "MultiHead with named heads", model: multiHead, options: { inputs: { x: [null, 5] } }, feeds: vecFeeds(5, 270) },
    { name: "Functional with three inputs (a mask) and three named outputs", model: functional as () => AnyModule, options: { inputs: { image: [null, 4, 4, 1], steps: [null, 5, 4], mask: [null, 5] } }, feeds },
  ];
}

describe("ONNX Runtime computes what predict() does (batch sizes 1 and 7)", () => {
  testCasesAgainstOrt(cases, "case");

  test("a masked row with no real position gives 0, as in zerograd", async () => {
    const model = new Functional({ pool: new GlobalAveragePooling() }, (m, x: Record<string, never>) => m.pool.call(x.steps, x.mask));
    const mask = new NDArray(new Float32Array([0, 0, 0, 1, 0, 1]), [2, 3]);
    const diff = await maxDiffVsOrt(model, { inputs: { steps: [null, 3, 2], mask: [null, 3] } }, () => ({ steps: normalInput([3, 2], 1)(2), mask }), [2]);
    expect(diff).toBeLessThan(1e-6);
  });
});

describe.skipIf(!onnxPython)("the ONNX checker accepts every exported file (optional: runs only where python3 has onnx)", () => {
  test.each(cases.filter((c) => (c.options.opset ?? 17) <= 17))("$name", ({ model, options }) => {
    expect(() => onnxCheck(exportOnnx(model(), options))).not.toThrow();
  });
});
