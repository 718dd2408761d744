/**
 * The property that defines correct masking: more padding changes nothing. For every sequence
 * layer and small stacks of them, a batch padded further (at the end, or — where the layer
 * allows it — anywhere) gives the same outputs at real steps, the same loss and the same
 * parameter gradients (float32 tolerance), and the gradient reaching a padded input is exactly 0,
 * whatever the padded steps hold (NaN and ±Infinity included where the first layer is mask-aware).
 */
import { Tensor, mul, sum } from "@zerograd/autograd";
import { NDArray, Random } from "@zerograd/tensor";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";
import {
  type AnyModule,
  Bidirectional,
  Conv1D,
  Dense,
  GRU,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  LSTM,
  MultiHeadAttention,
  Sequential,
  SinusoidalPositionalEncoding,
  TransformerEncoderLayer,
  maskOf,
} from "../src/index.js";

const F = 4;
type Layout = "trailing" | "anywhere";
interface Case { name: string; make: () => AnyModule; layout: Layout; garbage: "any" | "finite"; options?: object }

const cases: Case[] = [
  { name: "GRU (returnSequences)", make: () => new GRU(F, 3, { seed: 1, returnSequences: true }), layout: "anywhere", garbage: "any" },
  { name: "LSTM (final state)", make: () => new LSTM(F, 3, { seed: 2 }), layout: "anywhere", garbage: "any" },
  { name: "Bidirectional GRU (returnSequences)", make: () => new Bidirectional(new GRU(F, 3, { seed: 3, returnSequences: true })), layout: "anywhere", garbage: "any" },
  { name: "Bidirectional LSTM (final state)", make: () => new Bidirectional(new LSTM(F, 2, { seed: 4 })), layout: "anywhere", garbage: "any" },
  { name: "Conv1D same, dilation 2", make: () => new Conv1D(F, 3, 3, { padding: "same", dilation: 2, seed: 5 }), layout: "trailing", garbage: "any" },
  { name: "Conv1D causal", make: () => new Conv1D(F, 3, 2, { padding: "causal", seed: 6 }), layout: "trailing", garbage: "any" },
  { name: "Conv1D valid, stride 2", make: () => new Conv1D(F, 3, 2, { stride: 2, seed: 7 }), layout: "trailing", garbage: "any" },
  { name: "GlobalAveragePooling1D", make: () => new GlobalAveragePooling1D(), layout: "anywhere", garbage: "any" },
  { name: "GlobalMaxPooling1D", make: () => new GlobalMaxPooling1D(), layout: "anywhere", garbage: "any" },
  { name: "MultiHeadAttention", make: () => new MultiHeadAttention(F, 2, { seed: 8 }), layout: "anywhere", garbage: "any" },
  { name: "MultiHeadAttention causal", make: () => new MultiHeadAttention(F, 2, { seed: 9 }), layout: "anywhere", garbage: "any", options: { causal: true } },
  { name: "TransformerEncoderLayer post-norm", make: () => new TransformerEncoderLayer(F, 2, { dimFeedforward: 6, dropout: 0, seed: 10 }), layout: "anywhere", garbage: "any" },
  { name: "TransformerEncoderLayer pre-norm GELU causal", make: () => new TransformerEncoderLayer(F, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, activation: "gelu", seed: 11 }), layout: "anywhere", garbage: "any", options: { causal: true } },
  { name: "stack Conv1D → GRU → max pooling", make: () => new Sequential([new Conv1D(F, 3, 3, { padding: "causal", seed: 12 }), new GRU(3, 3, { returnSequences: true, seed: 13 }), new GlobalMaxPooling1D()]), layout: "trailing", garbage: "any" },
  { name: "stack BiLSTM → attention → mean pooling → Dense", make: () => new Sequential([new Bidirectional(new LSTM(F, 2, { seed: 14, returnSequences: true })), new MultiHeadAttention(4, 2, { seed: 15 }), new GlobalAveragePooling1D(), new Dense(4, 2, { seed: 16 })]), layout: "anywhere", garbage: "any" },
  { name: "stack Dense → positions → Transformer → GRU", make: () => new Sequential([new Dense(F, 4, { seed: 17 }), new SinusoidalPositionalEncoding(4), new TransformerEncoderLayer(4, 2, { dimFeedforward: 5, dropout: 0, seed: 18 }), new GRU(4, 2, { seed: 19 })]), layout: "trailing", garbage: "finite" },
];

const GARBAGE = [NaN, Infinity, -Infinity, 1e6, -3, 0, 1];

/** Real steps of sequence n go to pos[n][k]; everything else is padding filled with garbage. */
function build(real: number[][][], steps: number, pos: number[][], garbage: Case["garbage"], rng: Random): { x: Tensor; mask: NDArray } {
  const n = real.length;
  const x = new Float32Array(n * steps * F), mask = new Float32Array(n * steps);
  for (let i = 0; i < x.length; i++) x[i] = garbage === "any" ? GARBAGE[Math.floor(rng.next() * GARBAGE.length)]! : rng.normal() * 100;
  real.forEach((seq, b) => seq.forEach((v, k) => {
    const t = pos[b]![k]!;
    x.set(v, (b * steps + t) * F);
    mask[b * steps + t] = 1;
  }));
  return { x: new Tensor(new NDArray(x, [n, steps, F]), true), mask: new NDArray(mask, [n, steps]) };
}

function positions(lengths: number[], steps: number, layout: Layout, rng: Random): number[][] {
  return lengths.map((len) => {
    if (layout === "trailing") return Array.from({ length: len }, (_, k) => k);
    const all = Array.from({ length: steps }, (_, t) => t);
    for (let i = steps - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); [all[i], all[j]] = [all[j]!, all[i]!]; }
    return all.slice(0, len).sort((a, b) => a - b);
  });
}

/** Output, loss Σ out·R over real outputs (R the same at corresponding places), and gradients. */
function run(layer: AnyModule, c: Case, x: Tensor, mask: NDArray, weightAt: (b: number, j: number, f: number) => number) {
  layer.zeroGrad();
  const out = layer.call(x, { mask, ...c.options }) as Tensor;
  const outMask = maskOf(out);
  const r = new Float32Array(out.size);
  if (out.rank === 3) {
    const [n, steps, width] = out.shape as [number, number, number];
    for (let b = 0; b < n; b++) for (let j = 0; j < steps; j++) for (let f = 0; f < width; f++) r[(b * steps + j) * width + f] = weightAt(b, j, f);
  } else {
    for (let i = 0; i < r.length; i++) r[i] = weightAt(-1, -1, i); // one weight per output element
  }
  const loss = sum(mul(out, new Tensor(new NDArray(r, out.shape))));
  loss.backward();
  return { out, outMask, loss: loss.item(), grads: layer.parameters().map((p) => Float32Array.from(p.grad!.data)), xGrad: Float32Array.from(x.grad!.data) };
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-4 + 1e-4 * Math.abs(b);

describe("padding invariance: more padding changes no real output, loss or gradient", () => {
  test.each(cases)("$name", (c) => {
    const layer = c.make();
    layer.eval();
    const arb = fc.record({ n: fc.integer({ min: 1, max: 3 }), steps: fc.integer({ min: 2, max: 5 }), extra: fc.integer({ min: 1, max: 4 }), seed: fc.integer({ min: 0, max: 1e6 }) });
    fc.assert(fc.property(arb, ({ n, steps, extra, seed }) => {
      const rng = new Random(seed);
      const minLen = c.name.includes("valid") ? 2 : 0;
      const lengths = Array.from({ length: n }, (_, b) => (b === 0 ? steps : minLen + Math.floor(rng.next() * (steps - minLen + 1))));
      const real = lengths.map((len) => Array.from({ length: len }, () => Array.from({ length: F }, () => rng.normal())));
      const weights = new Map<string, number>();
      const w = (key: string) => { if (!weights.has(key)) weights.set(key, rng.normal()); return weights.get(key)!; };
      const p0 = positions(lengths, steps, "trailing", rng), p1 = positions(lengths, steps + extra, c.layout, rng);
      const a = build(real, steps, p0, c.garbage, rng), b = build(real, steps + extra, p1, c.garbage, rng);
      // A per-step output's real step k (at p[n][k]) gets the same weight in both runs; other outputs weight 0.
      const seqWeight = (p: number[][]) => (bb: number, j: number, f: number) => {
        if (bb < 0) return w(`out ${f}`);
        const k = c.layout === "anywhere" ? p[bb]!.indexOf(j) : j;
        return k >= 0 && (c.layout === "anywhere" || k < lengths[bb]!) ? w(`${bb},${k},${f}`) : 0;
      };
      const ra = run(layer, c, a.x, a.mask, seqWeight(p0));
      const rb = run(layer, c, b.x, b.mask, seqWeight(p1));
      // Outputs at real steps (the output mask, when there is one, says which steps are real).
      if (ra.out.rank === 3) {
        const om = ra.outMask!.value;
        for (let bb = 0; bb < n; bb++) for (let j = 0; j < ra.out.shape[1]!; j++) {
          if (!om.get(bb, j)) continue;
          const jb = c.layout === "anywhere" ? p1[bb]![p0[bb]!.indexOf(j)]! : j;
          for (let f = 0; f < ra.out.shape[2]!; f++) expect(near(rb.out.value.get(bb, jb, f), ra.out.value.get(bb, j, f))).toBe(true);
        }
      } else {
        Array.from(ra.out.data).forEach((v, i) => expect(near(rb.out.data[i]!, v)).toBe(true));
      }
      expect(Number.isFinite(ra.loss) && near(rb.loss, ra.loss)).toBe(true);
      ra.grads.forEach((g, i) => g.forEach((v, k) => expect(near(rb.grads[i]![k]!, v)).toBe(true)));
      // The input gradient: equal at real steps, exactly 0 at every padded step.
      for (let bb = 0; bb < n; bb++) for (let t = 0; t < steps + extra; t++) {
        const k = p1[bb]!.indexOf(t);
        for (let f = 0; f < F; f++) {
          const g = rb.xGrad[(bb * (steps + extra) + t) * F + f]!;
          if (k < 0) expect(g === 0).toBe(true);
          else expect(near(g, ra.xGrad[(bb * steps + p0[bb]![k]!) * F + f]!)).toBe(true);
        }
      }
    }), propertyOptions(8));
  });
});
