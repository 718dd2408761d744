import { Tensor, gradcheck, grad, mul, randn, sum, tensor } from "@zerograd/autograd";
import { sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { NDArray, ShapeError } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import {
  Adam,
  Bidirectional,
  Conv1D,
  Dense,
  Embedding,
  GRU,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  LSTM,
  type AnyModule,
  MultiHeadAttention,
  PositionalEmbedding,
  Sequential,
  SinusoidalPositionalEncoding,
  TransformerEncoderLayer,
  Vocabulary,
  fit,
  functionalCall,
  maskFromLengths,
  maskOf,
  padSequences,
} from "../src/index.js";
import { andOutputMask } from "../src/train/output-mask.js";

const f64 = (shape: number[], seed: number) => randn(shape, { seed, dtype: "float64" });
const allZero = (xs: ArrayLike<number>) => Array.from(xs).every((v) => v === 0);
const maskT = (lengths: number[], t: number, dtype: "float32" | "float64" = "float64") => new Tensor(maskFromLengths(lengths, t, { dtype }));
const at = (t: Tensor, ...i: number[]) => t.value.get(...i);

/** float64 gradcheck of `layer.call(x, options)` w.r.t. x and every parameter (a fixed random weighting of the output). */
function checkLayer(layer: AnyModule, x: Tensor, options: object = {}, seed = 7): void {
  const names = layer.namedParameters().map(([n]) => n);
  const params = layer.namedParameters().map(([, p], i) => mul(randn(p.shape, { seed: seed + i + 1, dtype: "float64" }), 0.5));
  const f = (input: Tensor, ...ps: Tensor[]) => {
    const out = functionalCall(layer, Object.fromEntries(names.map((n, i) => [n, ps[i]!])), input, options) as Tensor;
    return sum(mul(out, randn(out.shape, { seed: 99, dtype: "float64" })));
  };
  const result = gradcheck(f, [x, ...params]);
  expect(result.message).toBe("");
  expect(result.ok).toBe(true);
  // Not vacuous: every parameter gets a non-zero gradient.
  const grads = grad(f, Array.from({ length: params.length + 1 }, (_, i) => i))(x, ...params);
  for (const g of grads.slice(1)) expect(allZero(g.data)).toBe(false);
}

// Plain-loop references of PyTorch's equations, for one sequence [T][F] with a start state.
const sig = (v: number) => 1 / (1 + Math.exp(-v));
function matvec(w: NDArray, x: readonly number[], row0: number, rowsN: number, b: NDArray | null): number[] {
  const cols = w.shape[1]!;
  return Array.from({ length: rowsN }, (_, r) => {
    let acc = b ? b.get(row0 + r) : 0;
    for (let c = 0; c < cols; c++) acc += w.get(row0 + r, c) * x[c]!;
    return acc;
  });
}
function gruReference(layer: GRU<boolean>, seq: number[][], h0: number[]): number[][] {
  const H = layer.hiddenSize, out: number[][] = [];
  let h = h0;
  const [wi, wh, bi, bh] = [layer.weight_ih_l0.value, layer.weight_hh_l0.value, layer.bias_ih_l0!.value, layer.bias_hh_l0!.value];
  for (const x of seq) {
    const gi = (g: number) => matvec(wi, x, g * H, H, bi), gh = (g: number) => matvec(wh, h, g * H, H, bh);
    const r = gi(0).map((v, j) => sig(v + gh(0)[j]!));
    const z = gi(1).map((v, j) => sig(v + gh(1)[j]!));
    const n = gi(2).map((v, j) => Math.tanh(v + r[j]! * gh(2)[j]!));
    h = n.map((nv, j) => (1 - z[j]!) * nv + z[j]! * h[j]!);
    out.push(h);
  }
  return out;
}
function lstmReference(layer: LSTM<boolean>, seq: number[][], h0: number[], c0: number[]): { hs: number[][]; c: number[] } {
  const H = layer.hiddenSize, hs: number[][] = [];
  let h = h0, c = c0;
  const [wi, wh, bi, bh] = [layer.weight_ih_l0.value, layer.weight_hh_l0.value, layer.bias_ih_l0!.value, layer.bias_hh_l0!.value];
  for (const x of seq) {
    const gate = (g: number) => matvec(wi, x, g * H, H, bi).map((v, j) => v + matvec(wh, h, g * H, H, bh)[j]!);
    const [i, f, g, o] = [gate(0).map(sig), gate(1).map(sig), gate(2).map(Math.tanh), gate(3).map(sig)];
    c = c.map((cv, j) => f[j]! * cv + i[j]! * g[j]!);
    h = o.map((ov, j) => ov * Math.tanh(c[j]!));
    hs.push(h);
  }
  return { hs, c };
}

describe("GRU and LSTM", () => {
  test("PyTorch's parameter names and layouts", () => {
    const gru = new GRU(3, 5, { seed: 1 });
    expect(gru.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([["weight_ih_l0", [15, 3]], ["weight_hh_l0", [15, 5]], ["bias_ih_l0", [15]], ["bias_hh_l0", [15]]]);
    const bi = new Bidirectional(new LSTM(3, 2, { seed: 1 }));
    expect(bi.namedParameters().map(([n, p]) => `${n}${JSON.stringify(p.shape)}`)).toEqual([
      "weight_ih_l0[8,3]", "weight_hh_l0[8,2]", "bias_ih_l0[8]", "bias_hh_l0[8]",
      "weight_ih_l0_reverse[8,3]", "weight_hh_l0_reverse[8,2]", "bias_ih_l0_reverse[8]", "bias_hh_l0_reverse[8]",
    ]);
  });

  test("GRU equals a plain-loop reference of PyTorch's equations (r applied to W_hn·h + b_hn), from a given h0", () => {
    const gru = new GRU(3, 4, { seed: 2, returnSequences: true, dtype: "float64" });
    const x = f64([1, 5, 3], 3), h0 = f64([1, 4], 4);
    const y = gru.call(x, { initialState: h0 });
    const ref = gruReference(gru, (x.toArray() as number[][][])[0]!, (h0.toArray() as number[][])[0]!);
    ref.forEach((h, t) => h.forEach((v, j) => expect(at(y, 0, t, j)).toBeCloseTo(v, 10)));
  });

  test("LSTM equals a plain-loop reference (gates i, f, g, o); returnState gives h and c", () => {
    const lstm = new LSTM(3, 4, { seed: 2, returnState: true, dtype: "float64" });
    const x = f64([1, 4, 3], 5), h0 = f64([1, 4], 6), c0 = f64([1, 4], 7);
    const { output, h, c } = lstm.call(x, { initialState: { h: h0, c: c0 } });
    const ref = lstmReference(lstm, (x.toArray() as number[][][])[0]!, (h0.toArray() as number[][])[0]!, (c0.toArray() as number[][])[0]!);
    ref.hs[3]!.forEach((v, j) => { expect(at(output, 0, j)).toBeCloseTo(v, 10); expect(at(h, 0, j)).toBeCloseTo(v, 10); });
    ref.c.forEach((v, j) => expect(at(c!, 0, j)).toBeCloseTo(v, 10));
  });

  test("masked steps (trailing and holes) carry the state, output 0, and the final state is after the last real step", () => {
    const gru = new GRU(2, 3, { seed: 5, returnSequences: true, returnState: true, dtype: "float64" });
    const x = f64([2, 5, 2], 8);
    const mask = new Tensor(new NDArray(new Float64Array([1, 1, 1, 0, 0, 1, 0, 1, 1, 0]), [2, 5]));
    const { output, h } = gru.call(x, { mask });
    const seqs = x.toArray() as number[][][];
    const real = [[0, 1, 2], [0, 2, 3]];
    real.forEach((steps, n) => {
      const ref = gruReference(gru, steps.map((t) => seqs[n]![t]!), [0, 0, 0]);
      steps.forEach((t, k) => ref[k]!.forEach((v, j) => expect(at(output, n, t, j)).toBeCloseTo(v, 10)));
      ref.at(-1)!.forEach((v, j) => expect(at(h, n, j)).toBeCloseTo(v, 10));
      for (let t = 0; t < 5; t++) if (!steps.includes(t)) for (let j = 0; j < 3; j++) expect(at(output, n, t, j)).toBe(0);
    });
    expect(maskOf(output)!.toArray()).toEqual(mask.toArray());
  });

  test("Bidirectional: the reverse direction reads real steps last to first and ends after the first", () => {
    const bi = new Bidirectional(new GRU(2, 3, { seed: 6, dtype: "float64", returnSequences: true, returnState: true }), { seed: 9 });
    const x = f64([1, 4, 2], 1);
    const { output, h } = bi.call(x, { mask: maskT([3], 4) });
    const rev = new GRU(2, 3, { dtype: "float64" });
    rev.loadStateDict({ weight_ih_l0: bi.weight_ih_l0_reverse as never, weight_hh_l0: bi.weight_hh_l0_reverse as never, bias_ih_l0: bi.bias_ih_l0_reverse as never, bias_hh_l0: bi.bias_hh_l0_reverse as never });
    const steps = (x.toArray() as number[][][])[0]!.slice(0, 3).reverse();
    const ref = gruReference(rev, steps, [0, 0, 0]);
    ref.forEach((hv, k) => hv.forEach((v, j) => expect(at(output, 0, 2 - k, 3 + j)).toBeCloseTo(v, 10)));
    ref[2]!.forEach((v, j) => expect(at(h, 1, 0, j)).toBeCloseTo(v, 10));
    expect(output.shape).toEqual([1, 4, 6]);
    expect(allZero(Array.from({ length: 6 }, (_, j) => at(output, 0, 3, j)))).toBe(true);
  });

  test("gradcheck in float64 with a mask (GRU, LSTM, Bidirectional LSTM, LSTM final state)", () => {
    const mask = maskT([4, 2], 4);
    checkLayer(new GRU(2, 3, { seed: 1, returnSequences: true, dtype: "float64" }), f64([2, 4, 2], 1), { mask });
    checkLayer(new LSTM(2, 3, { seed: 2, returnSequences: true, dtype: "float64" }), f64([2, 4, 2], 2), { mask });
    checkLayer(new LSTM(2, 2, { seed: 3, dtype: "float64" }), f64([2, 4, 2], 3), { mask });
    checkLayer(new Bidirectional(new LSTM(2, 2, { seed: 4, returnSequences: true, dtype: "float64" })), f64([2, 4, 2], 4), { mask });
  });

  test("bad input: shapes, masks and options are refused with clear errors", () => {
    const gru = new GRU(3, 4);
    expect(() => gru.call(randn([2, 5, 2]))).toThrow(ShapeError);
    expect(() => gru.call(randn([2, 5, 3]), { mask: maskT([1, 1], 4, "float32") })).toThrow(/mask must be \[N, T\]/);
    expect(() => gru.call(randn([1, 2, 3]), { mask: [[1, 2]] })).toThrow(/mask values must be 0\/1/);
    expect(() => gru.call(randn([1, 2, 3]), { initialState: randn([1, 3]) })).toThrow(/initial state must be/);
    expect(() => new GRU(3, 4, { returnSequence: true } as never)).toThrow(/did you mean "returnSequences"/);
    expect(() => new LSTM(0, 4)).toThrow(RangeError);
    expect(() => new Bidirectional(new Dense(2, 2) as never)).toThrow(TypeError);
  });
});

describe("Conv1D", () => {
  // Plain-loop reference: y[n, j, o] = b[o] + Σ_k Σ_c w[o, c, k] · x[n, j·s + k·d − before, c] (zero outside).
  function reference(conv: Conv1D, x: Tensor, before: number, outLen: number): number[] {
    const [n, t, cin] = x.shape as [number, number, number];
    const out: number[] = [];
    for (let b = 0; b < n; b++) for (let j = 0; j < outLen; j++) for (let o = 0; o < conv.outChannels; o++) {
      let acc = conv.bias!.value.get(o);
      for (let k = 0; k < conv.kernelSize; k++) {
        const step = j * conv.stride + k * conv.dilation - before;
        if (step < 0 || step >= t) continue;
        for (let c = 0; c < cin; c++) acc += conv.weight.value.get(o, c, k) * at(x, b, step, c);
      }
      out.push(acc);
    }
    return out;
  }

  test.each([
    ["valid", 1, 1, 0, 5], ["valid", 2, 2, 0, 2], ["same", 1, 2, 2, 7], ["same", 2, 1, 1, 4], ["causal", 1, 2, 4, 7], ["causal", 2, 1, 2, 4],
  ] as const)("%s padding, stride %i, dilation %i: PyTorch's weight [out, in, k] and a plain-loop reference", (padding, stride, dilation, before, outLen) => {
    const conv = new Conv1D(2, 3, 3, { padding, stride, dilation, seed: 3, dtype: "float64" });
    expect(conv.weight.shape).toEqual([3, 2, 3]);
    const x = f64([2, 7, 2], 4);
    const y = conv.call(x);
    expect(y.shape).toEqual([2, outLen, 3]);
    Array.from(y.data).forEach((v, i) => expect(v).toBeCloseTo(reference(conv, x, before, outLen)[i]!, 10));
  });

  test("causal: the output at step t does not depend on later steps", () => {
    const conv = new Conv1D(1, 1, 3, { padding: "causal", dilation: 2, seed: 1, dtype: "float64" });
    const g = grad((v: Tensor) => sum(mul(conv.call(v), new Tensor(new NDArray(new Float64Array([0, 0, 0, 0, 1, 0, 0, 0]), [1, 8, 1])))))(f64([1, 8, 1], 2));
    expect(Array.from(g.data).slice(5).every((v) => v === 0)).toBe(true);
    expect(Array.from(g.data).slice(0, 5).filter((v) => v !== 0).length).toBe(3);
  });

  test("masked input steps are zeroed first; outputs at masked steps are 0; gradcheck in float64", () => {
    const conv = new Conv1D(2, 2, 3, { padding: "same", seed: 5, dtype: "float64" });
    const x = f64([2, 5, 2], 6), mask = maskT([5, 3], 5);
    const y = conv.call(x, { mask });
    const clean = new Tensor(new NDArray(Float64Array.from(x.data, (v, i) => (Math.floor(i / 2) % 5 >= 3 && i >= 10 ? 0 : v)), [2, 5, 2]));
    const ref = conv.call(clean);
    for (let t = 0; t < 3; t++) for (let o = 0; o < 2; o++) expect(at(y, 1, t, o)).toBeCloseTo(at(ref, 1, t, o), 12);
    for (let t = 3; t < 5; t++) for (let o = 0; o < 2; o++) expect(at(y, 1, t, o)).toBe(0);
    checkLayer(conv, x, { mask });
    checkLayer(new Conv1D(2, 2, 2, { padding: "valid", stride: 2, dilation: 2, seed: 2, dtype: "float64" }), f64([1, 6, 2], 2), { mask: maskT([5], 6) });
  });

  test("a sequence shorter than the kernel's span is a ShapeError", () => {
    expect(() => new Conv1D(1, 1, 3, { dilation: 2 }).call(randn([1, 4, 1]))).toThrow(/shorter than the kernel's span 5/);
  });
});

describe("masked 1-D pooling", () => {
  test("mean and max over the real steps only; a sequence with no step gives 0 and zero gradients", () => {
    const x = tensor([[[1], [5], [100]], [[-2], [-4], [7]], [[3], [3], [3]]], { dtype: "float64" });
    const mask = new Tensor(new NDArray(new Float64Array([1, 1, 0, 1, 1, 0, 0, 0, 0]), [3, 3]));
    expect(Array.from(new GlobalAveragePooling1D().call(x, { mask }).data)).toEqual([3, -3, 0]);
    expect(Array.from(new GlobalMaxPooling1D().call(x, { mask }).data)).toEqual([5, -2, 0]);
    for (const pool of [new GlobalAveragePooling1D(), new GlobalMaxPooling1D()]) {
      const xs = new Tensor(new NDArray(Float64Array.from([1, 5, NaN, -2, -4, Infinity, NaN, 1, 2]), [3, 3, 1]), true);
      sum(pool.call(xs, { mask })).backward();
      const g = Array.from(xs.grad!.data);
      expect([g[2], g[5], g[6], g[7], g[8]].every((v) => v === 0)).toBe(true);
      expect(g.every(Number.isFinite)).toBe(true);
    }
  });
});

describe("MultiHeadAttention", () => {
  test("PyTorch's parameter names and layouts", () => {
    const mha = new MultiHeadAttention(8, 2, { seed: 1 });
    expect(mha.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([["in_proj_weight", [24, 8]], ["in_proj_bias", [24]], ["out_proj.weight", [8, 8]], ["out_proj.bias", [8]]]);
  });

  test("a key mask equals attention over the real keys only; masked queries output 0", () => {
    const mha = new MultiHeadAttention(4, 2, { seed: 2, dtype: "float64" });
    const x = f64([1, 5, 4], 3);
    const y = mha.call(x, { mask: maskT([3], 5) });
    const short = mha.call(new Tensor(new NDArray(Float64Array.from(x.data).slice(0, 12), [1, 3, 4])));
    for (let t = 0; t < 3; t++) for (let e = 0; e < 4; e++) expect(at(y, 0, t, e)).toBeCloseTo(at(short, 0, t, e), 12);
    expect(allZero(Array.from(y.data).slice(12))).toBe(true);
  });

  test("a query with no key left outputs 0 with gradients exactly 0 — never NaN", () => {
    const mha = new MultiHeadAttention(4, 1, { seed: 3, dtype: "float64" });
    const x = f64([1, 3, 4], 4).requireGrad();
    const attnMask = [[0, 0, 0], [1, 1, 0], [1, 1, 1]]; // query 0 may attend to nothing
    const y = mha.call(x, { attnMask });
    expect(allZero(Array.from(y.data).slice(0, 4))).toBe(true);
    sum(mul(y, f64([1, 3, 4], 5))).backward();
    for (const t of [x, ...mha.parameters()]) expect(Array.from(t.grad!.data).every(Number.isFinite)).toBe(true);
    const onlyRow0 = grad((v: Tensor) => sum(mul(mha.call(v, { attnMask }), new Tensor(new NDArray(Float64Array.from({ length: 12 }, (_, i) => (i < 4 ? 1 : 0)), [1, 3, 4])))))(f64([1, 3, 4], 4));
    expect(allZero(onlyRow0.data)).toBe(true);
  });

  test("causal, additive bias with −∞, cross-attention; gradcheck in float64", () => {
    const mha = new MultiHeadAttention(4, 2, { seed: 5, dtype: "float64" });
    const x = f64([2, 4, 4], 6), mask = maskT([4, 2], 4);
    const bias = new NDArray(Float64Array.from({ length: 16 }, (_, i) => (i === 1 ? -Infinity : (i % 5) * 0.1)), [4, 4]);
    const causal = mha.call(x, { causal: true });
    const firstAlone = mha.call(new Tensor(new NDArray(Float64Array.from(x.data).slice(0, 4), [1, 1, 4])));
    for (let e = 0; e < 4; e++) expect(at(causal, 0, 0, e)).toBeCloseTo(at(firstAlone, 0, 0, e), 12);
    checkLayer(mha, x, { mask, causal: true });
    checkLayer(mha, x, { mask, attnBias: bias });
    checkLayer(mha, x, { key: f64([2, 3, 4], 7), keyMask: maskT([1, 3], 3) });
  });

  test("TransformerEncoderLayer: PyTorch's names, pre- and post-norm, GELU; gradcheck in float64", () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, seed: 1, dtype: "float64" });
    expect(layer.namedParameters().map(([n]) => n)).toEqual([
      "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
      "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
    ]);
    checkLayer(layer, f64([2, 3, 4], 2), { mask: maskT([3, 2], 3) });
    checkLayer(new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, activation: "gelu", seed: 2, dtype: "float64" }), f64([2, 3, 4], 3), { mask: maskT([3, 1], 3), causal: true });
  });

  test("positional encodings: sinusoids at known values, a learned table sliced to T; the mask is carried", () => {
    const x = new Tensor(new NDArray(new Float32Array(2 * 3 * 4), [2, 3, 4]));
    const y = new Sequential([new SinusoidalPositionalEncoding(4)]).call(x, { mask: maskT([3, 1], 3, "float32") });
    expect(at(y, 1, 2, 0)).toBeCloseTo(Math.sin(2), 6);
    expect(at(y, 1, 2, 3)).toBeCloseTo(Math.cos(2 / 100), 6);
    expect(maskOf(y)!.toArray()).toEqual([[1, 1, 1], [1, 0, 0]]);
    const pe = new PositionalEmbedding(5, 4, { seed: 1 });
    expect(pe.call(x).shape).toEqual([2, 3, 4]);
    expect(() => pe.call(randn([1, 6, 4]))).toThrow(/longer than maxLen 5/);
  });
});

describe("masks through models and fit()", () => {
  test("Embedding({ maskZero }) makes the mask; Sequential carries it through GRU and Dense; pooling ends it", () => {
    const emb = new Embedding(10, 3, { maskZero: true, seed: 1 });
    const ids = new NDArray(new Float32Array([4, 2, 0, 0, 5, 0, 7, 0]), [2, 4]);
    const seq = new Sequential([emb, new GRU(3, 4, { returnSequences: true, seed: 1 }), new Dense(4, 2)]);
    const y = seq.call(ids as never);
    expect(maskOf(y)!.toArray()).toEqual([[1, 1, 0, 0], [1, 0, 1, 0]]);
    expect(maskOf(new Sequential([emb, new GRU(3, 4, { returnSequences: true }), new GlobalAveragePooling1D()]).call(ids as never))).toBeNull();
  });

  test("andOutputMask broadcasts the output mask over the loss and ANDs it with the loss's own mask", () => {
    const p = randn([2, 3, 4]);
    const y = new Sequential([new Dense(4, 4)]).call(p, { mask: [[1, 1, 0], [1, 0, 0]] });
    const options: Record<string, unknown> = { mask: new NDArray(new Float32Array([0, 1, 1, 1, 1, 1]), [2, 3, 1]) };
    andOutputMask(y, options, 3);
    expect((options.mask as NDArray).toArray()).toEqual([[[0], [1], [0]], [[1], [0], [0]]]);
  });

  test("fit(): per-step labels at padded steps do not matter (the output's mask reaches the training loss)", async () => {
    const ids = new NDArray(new Float32Array([3, 4, 5, 0, 0, 6, 7, 0, 0, 0, 2, 3, 4, 5, 6]), [3, 5]);
    const run = async (padLabel: number) => {
      const model = new Sequential([new Embedding(8, 4, { maskZero: true, seed: 1 }), new GRU(4, 5, { returnSequences: true, seed: 2 }), new Dense(5, 3, { seed: 3, biasInitializer: "ones" })]);
      const labels = new NDArray(Float32Array.from(ids.flat(), (v, i) => (v === 0 ? padLabel : i % 3)), [3, 5]);
      await fit(model, { x: ids, y: labels }, { optimizer: new Adam(model.parameters(), { lr: 0.05 }), loss: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } }, epochs: 3, batchSize: 3, verbose: "silent" });
      return model.stateDict();
    };
    const a = await run(0), b = await run(2);
    const start = new Sequential([new Embedding(8, 4, { maskZero: true, seed: 1 }), new GRU(4, 5, { returnSequences: true, seed: 2 }), new Dense(5, 3, { seed: 3 })]).stateDict();
    for (const name of Object.keys(a)) {
      expect(Array.from(a[name]!.flat())).toEqual(Array.from(b[name]!.flat()));
      if (name !== "2.bias") expect(Array.from(a[name]!.flat())).not.toEqual(Array.from(start[name]!.flat()));
    }
  });
});

describe("an entirely padded sequence", () => {
  test("a batch holding one trains without NaN (GRU, Transformer and pooling stacks)", async () => {
    const ids = new NDArray(new Float32Array([3, 4, 5, 0, 0, 0, 0, 0, 6, 7, 2, 0]), [3, 4]);
    const labels = new NDArray(new Float32Array([0, 1, 1]), [3]);
    const stacks = [
      new Sequential([new Embedding(8, 4, { maskZero: true, seed: 1 }), new Bidirectional(new GRU(4, 3, { returnSequences: true, seed: 2 })), new GlobalMaxPooling1D(), new Dense(6, 2)]),
      new Sequential([new Embedding(8, 4, { maskZero: true, seed: 3 }), new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, seed: 4 }), new GlobalAveragePooling1D(), new Dense(4, 2)]),
      new Sequential([new Embedding(8, 4, { maskZero: true, seed: 5 }), new Conv1D(4, 4, 2, { padding: "causal", seed: 6 }), new LSTM(4, 3, { seed: 7 }), new Dense(3, 2)]),
    ];
    for (const model of stacks) {
      const h = await fit(model, { x: ids, y: labels }, { optimizer: new Adam(model.parameters(), { lr: 0.01 }), loss: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } }, epochs: 3, batchSize: 3, verbose: "silent" });
      expect((h.history.loss as number[]).every(Number.isFinite)).toBe(true);
      for (const p of model.parameters()) expect(Array.from(p.data).every(Number.isFinite)).toBe(true);
    }
  });
});

describe("padSequences, maskFromLengths, Vocabulary", () => {
  test("post/pre padding and truncating, with the mask and lengths", () => {
    const { values, mask, lengths } = padSequences([[1, 2, 3], [4], [5, 6, 7, 8, 9]], { maxLen: 4 });
    expect(values.toArray()).toEqual([[1, 2, 3, 0], [4, 0, 0, 0], [5, 6, 7, 8]]);
    expect(mask.toArray()).toEqual([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]]);
    expect(lengths).toEqual([3, 1, 4]);
    const pre = padSequences([[1, 2, 3], [4]], { maxLen: 2, padding: "pre", truncating: "pre", value: -1 });
    expect(pre.values.toArray()).toEqual([[2, 3], [-1, 4]]);
    expect(pre.mask.toArray()).toEqual([[1, 1], [0, 1]]);
    expect(padSequences([[[1, 2]], [[3, 4], [5, 6]]]).values.shape).toEqual([2, 2, 2]);
    expect(() => padSequences([[1, 2]], { padding: "middle" } as never)).toThrow(TypeError);
    expect(() => padSequences([[1, NaN]])).toThrow(/step 1/);
    expect(maskFromLengths([2, 0, 3], 3, { padding: "pre" }).toArray()).toEqual([[0, 1, 1], [0, 0, 0], [1, 1, 1]]);
    expect(() => maskFromLengths([1], 2, { padding: "left" } as never)).toThrow(/padding must be one of/);
    expect(() => maskFromLengths([1.5])).toThrow(/non-negative integers/);
  });

  test("Vocabulary: 0 = padding, 1 = unknown, encode/decode round trip, JSON", () => {
    const v = Vocabulary.fromCharacters(["hola", "hallo"]);
    expect(v.tokens).toEqual(["a", "h", "l", "o"]);
    expect(v.size).toBe(6);
    expect(v.encode("hoz")).toEqual([3, 5, 1]);
    expect(v.decode([3, 5, 2, 0, 0])).toBe("hoa");
    expect(v.decode(v.encode("ñh"))).toBe("?h");
    expect(Vocabulary.fromJSON(JSON.parse(JSON.stringify(v))).encode("hola")).toEqual(v.encode("hola"));
    expect(() => new Vocabulary(["a", "a"])).toThrow(/appears twice/);
    expect(() => v.decode([9])).toThrow(RangeError);
  });
});
