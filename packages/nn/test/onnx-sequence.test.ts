/**
 * The sequence layers through ONNX Runtime at batch sizes 1 and 7, on padded batches (trailing
 * padding of different lengths, a row with no real step, masks with holes), against predict().
 */
import { Bidirectional, Conv1D, Dense, Embedding, Functional, GRU, GlobalAveragePooling1D, GlobalMaxPooling1D, LSTM, MultiHeadAttention, PositionalEmbedding, Sequential, SinusoidalPositionalEncoding, TransformerEncoderLayer, type AnyModule } from "@zerograd/nn";
import { type OnnxExportOptions, exportOnnx } from "@zerograd/nn/onnx";
import { NDArray } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { type OrtCase, normalInput, onnxCheck, onnxPython, testCasesAgainstOrt } from "./helpers/onnx.js";

type Case = OrtCase;

const STEPS = 6, VOCAB = 12;

/** The real length of row i: all different within a batch of 7, one row (i = 5) entirely padding. */
const lengthOf = (i: number, batch: number) => (batch === 1 ? 4 : [6, 3, 1, 5, 2, 0, 4][i]!);

/** Token ids [batch, STEPS] (ids 1…VOCAB−1) followed by trailing padding 0. */
function paddedIds(batch: number, seed: number): NDArray {
  const data = new Float32Array(batch * STEPS);
  for (let i = 0; i < batch; i++) for (let t = 0; t < lengthOf(i, batch); t++) data[i * STEPS + t] = 1 + ((i * 7 + t * 5 + seed) % (VOCAB - 1));
  return new NDArray(data, [batch, STEPS]);
}

/** A 0/1 mask [batch, STEPS] with holes (masked steps between real ones), and one empty row. */
function holeyMask(batch: number): NDArray {
  const data = Float32Array.from({ length: batch * STEPS }, (_, k) => ((Math.floor(k / STEPS) === 5 ? 0 : (k * 5 + 1) % 3 !== 0) ? 1 : 0));
  return new NDArray(data, [batch, STEPS]);
}

const tokenInput: OnnxExportOptions = { inputs: { tokens: { shape: [null, STEPS], type: "int64" } } };
const tokenFeeds = (seed: number) => (b: number) => ({ tokens: { int64: paddedIds(b, seed) } });
const embedded = (...layers: AnyModule[]) => () => new Sequential([new Embedding(VOCAB, 4, { maskZero: true, seed: 1 }), ...layers] as never[]);
/** A layer called on [N, T, 3] steps with an explicit mask input (holes allowed). */
const withMaskInput = (layer: () => AnyModule, call: (l: never, x: never, mask: never) => unknown) => () => new Functional({ layer: layer() }, (m, x: Record<string, never>) => call(m.layer as never, x.steps, x.mask) as never);
const maskInput: OnnxExportOptions = { inputs: { steps: [null, STEPS, 3], mask: [null, STEPS] } };
const maskFeeds = (seed: number) => (b: number) => ({ steps: normalInput([STEPS, 3], seed)(b), mask: holeyMask(b) });

const cases: Case[] = [
  { name: "GRU, all steps, trailing padding from Embedding(maskZero) on int64 ids", model: embedded(new GRU(4, 5, { returnSequences: true, seed: 2 })), options: tokenInput, feeds: tokenFeeds(1) },
  { name: "GRU, final state → Dense", model: embedded(new GRU(4, 5, { seed: 3 }), new Dense(5, 2, { seed: 4 })), options: tokenInput, feeds: tokenFeeds(2) },
  { name: "LSTM, all steps", model: embedded(new LSTM(4, 3, { returnSequences: true, seed: 5 })), options: tokenInput, feeds: tokenFeeds(3) },
  { name: "LSTM, final state, no bias", model: embedded(new LSTM(4, 3, { bias: false, seed: 6 })), options: tokenInput, feeds: tokenFeeds(4) },
  { name: "Bidirectional GRU, all steps", model: embedded(new Bidirectional(new GRU(4, 3, { returnSequences: true, seed: 7 }), { seed: 8 })), options: tokenInput, feeds: tokenFeeds(5) },
  { name: "Bidirectional LSTM, final states", model: embedded(new Bidirectional(new LSTM(4, 3, { seed: 9 }), { seed: 10 })), options: tokenInput, feeds: tokenFeeds(6) },
  { name: "GRU without a mask", model: () => new Sequential([new GRU(3, 4, { returnSequences: true, seed: 11 })]), options: { inputs: { x: [null, STEPS, 3] } }, feeds: (b) => ({ x: normalInput([STEPS, 3], 7)(b) }) },
  { name: "Bidirectional GRU, mask with holes (explicit mask input)", model: withMaskInput(() => new Bidirectional(new GRU(3, 4, { returnSequences: true, seed: 12 }), { seed: 13 }), (l: GRU, x, mask) => l.call(x, { mask })), options: maskInput, feeds: maskFeeds(8) },
  { name: "LSTM final state, mask with holes", model: withMaskInput(() => new LSTM(3, 4, { seed: 14 }), (l: LSTM, x, mask) => l.call(x, { mask })), options: maskInput, feeds: maskFeeds(9) },
  { name: "Conv1D valid, dilation 2 (window mask) → masked mean", model: embedded(new Conv1D(4, 3, 2, { dilation: 2, seed: 22 }), new GlobalAveragePooling1D()), options: tokenInput, feeds: tokenFeeds(19) },
  { name: "Conv1D same, stride 2, then causal, all steps", model: embedded(new Conv1D(4, 3, 3, { padding: "same", stride: 2, seed: 23 }), new Conv1D(3, 2, 2, { padding: "causal", dilation: 2, seed: 24 })), options: tokenInput, feeds: tokenFeeds(20) },
  { name: "Conv1D same with dilation, no bias, mask with holes", model: withMaskInput(() => new Conv1D(3, 2, 3, { padding: "same", dilation: 2, bias: false, seed: 25 }), (l: Conv1D, x, mask) => l.call(x, { mask })), options: maskInput, feeds: maskFeeds(21) },
  { name: "Conv1D valid then same (SAME_UPPER), stride 2, any length, no mask", model: () => new Sequential([new Conv1D(3, 4, 2, { stride: 2, seed: 26 }), new Conv1D(4, 2, 2, { padding: "same", stride: 2, seed: 27 })]), options: { inputs: { x: [null, null, 3] } }, feeds: (b) => ({ x: normalInput([STEPS, 3], 22)(b) }) },
  { name: "GlobalAveragePooling1D over the real steps", model: embedded(new GlobalAveragePooling1D()), options: tokenInput, feeds: tokenFeeds(10) },
  { name: "GlobalMaxPooling1D over the real steps (empty row → 0)", model: embedded(new GlobalMaxPooling1D()), options: tokenInput, feeds: tokenFeeds(11) },
  { name: "GlobalMaxPooling1D and GlobalAveragePooling1D without a mask", model: () => new Functional({ a: new GlobalMaxPooling1D(), b: new GlobalAveragePooling1D() }, (m, x: never) => ({ max: m.a.call(x), mean: m.b.call(x) })), options: { inputs: { x: [null, STEPS, 3] } }, feeds: (b) => ({ x: normalInput([STEPS, 3], 12)(b) }) },
  { name: "PositionalEmbedding and SinusoidalPositionalEncoding (dynamic length)", model: () => new Sequential([new PositionalEmbedding(10, 3, { seed: 15 }), new SinusoidalPositionalEncoding(3, { maxLen: 10 })]), options: { inputs: { x: [null, null, 3] } }, feeds: (b) => ({ x: normalInput([STEPS, 3], 13)(b) }) },
  { name: "MultiHeadAttention with the key mask (an empty row → 0)", model: embedded(new MultiHeadAttention(4, 2, { seed: 16 })), options: tokenInput, feeds: tokenFeeds(14) },
  { name: "MultiHeadAttention, causal, key mask with holes", model: withMaskInput(() => new MultiHeadAttention(3, 1, { seed: 17 }), (l: MultiHeadAttention, x, mask) => l.call(x, { mask, causal: true })), options: maskInput, feeds: maskFeeds(15) },
  { name: "MultiHeadAttention, causal, no mask, no bias", model: withMaskInput(() => new MultiHeadAttention(3, 3, { bias: false, seed: 18 }), (l: MultiHeadAttention, x) => l.call(x, { causal: true })), options: maskInput, feeds: maskFeeds(16) },
  { name: "TransformerEncoderLayer (post-norm, ReLU) → masked mean", model: embedded(new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, seed: 19 }), new GlobalAveragePooling1D()), options: tokenInput, feeds: tokenFeeds(17) },
  { name: "TransformerEncoderLayer (pre-norm, GELU), all steps", model: embedded(new PositionalEmbedding(STEPS, 4, { seed: 20 }), new TransformerEncoderLayer(4, 1, { dimFeedforward: 5, activation: "gelu", normFirst: true, seed: 21 })), options: tokenInput, feeds: tokenFeeds(18) },
];

describe("sequence layers: ONNX Runtime computes what predict() does (batch sizes 1 and 7, padded)", () => {
  testCasesAgainstOrt(cases, "sequence case");

  test("what does not export is a clear error naming the layer", () => {
    const rnn = new Functional({ gru: new GRU(3, 2, { returnState: true }) }, (m, x: never) => (m.gru.call(x) as unknown as { output: never }).output);
    expect(() => exportOnnx(rnn, { inputs: { x: [null, 4, 3] } })).toThrow(/GRU at "gru" did not return one tensor/);
    const cross = new Functional({ mha: new MultiHeadAttention(3, 1) }, (m, x: Record<string, never>) => m.mha.call(x.q, { key: x.k }));
    expect(() => exportOnnx(cross, { inputs: { q: [null, 4, 3], k: [null, 4, 3] } })).toThrow(/MultiHeadAttention at "mha" was called with key/);
    const conv = () => new Sequential([new Conv1D(3, 2, 3, { padding: "same", stride: 2, dilation: 2 })]);
    expect(() => exportOnnx(conv(), { inputs: { x: [null, null, 3] } })).toThrow(/Conv1D at "0" has "same" padding with stride 2 and dilation 2/);
    expect(() => exportOnnx(conv(), { inputs: { x: [null, 9, 3] } })).not.toThrow(); // a fixed length: constant pads
  });
});

describe.skipIf(!onnxPython)("the ONNX checker accepts every exported sequence model (optional: python3 with onnx)", () => {
  test.each(cases)("$name", ({ model, options }) => {
    expect(() => onnxCheck(exportOnnx(model(), options))).not.toThrow();
  });
});

