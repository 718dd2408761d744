/**
 * A character language model per language: one causal Transformer layer over
 * [<s>, c1, …, cn] predicting [c1, …, cn, </s>], with the language added to every position
 * as a condition, trained with a per-step masked sparse cross-entropy; and a bigram baseline.
 */
import { Tensor, add, expandDims, noGrad, softmax } from "@zerograd/autograd";
import { sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { Adam, Dense, Embedding, Module, PositionalEmbedding, TransformerEncoderLayer, Vocabulary, maskOf, padSequences, perStep, withMask } from "@zerograd/nn";
import { NDArray, Random } from "@zerograd/tensor";
import { LANGUAGES, type Word, batches } from "./data.js";

export const BOS = "<s>", EOS = "</s>";
const MAX_WORD = 20;

/** The characters of the training words plus the start and end markers. */
export function lmVocabulary(train: readonly Word[]): Vocabulary {
  return new Vocabulary([...Vocabulary.fromCharacters(train.map((w) => w.text)).tokens, BOS, EOS]);
}

/** Inputs [<s>, c…] and targets [c…, </s>], padded at the end with 0 (masked). */
export function lmBatch(words: readonly Word[], vocab: Vocabulary): { inputs: NDArray; targets: NDArray; mask: NDArray; languages: NDArray } {
  const ids = words.map((w) => vocab.encode(w.text));
  const inputs = padSequences(ids.map((s) => [vocab.idOf(BOS), ...s]));
  const targets = padSequences(ids.map((s) => [...s, vocab.idOf(EOS)]));
  return { inputs: inputs.values, targets: targets.values, mask: inputs.mask, languages: new NDArray(Float32Array.from(words, (w) => w.language), [words.length]) };
}

export class CharLM extends Module<[NDArray, NDArray], Tensor> {
  tokens: Embedding;
  language: Embedding;
  positions: PositionalEmbedding;
  block: TransformerEncoderLayer;
  head: Dense;

  constructor(readonly vocab: Vocabulary, dim: number, seed: number) {
    super();
    this.tokens = new Embedding(vocab.size, dim, { maskZero: true, seed, initializer: "glorotUniform" });
    this.language = new Embedding(LANGUAGES.length, dim, { seed: seed + 1, initializer: "glorotUniform" });
    this.positions = new PositionalEmbedding(MAX_WORD + 2, dim, { seed: seed + 2 });
    this.block = new TransformerEncoderLayer(dim, 2, { dimFeedforward: 2 * dim, dropout: 0, seed: seed + 3 });
    this.head = new Dense(dim, vocab.size, { seed: seed + 4 });
  }

  /** Logits [N, T, V]; the mask of the inputs travels with them. */
  forward(inputs: NDArray, languages: NDArray): Tensor {
    const tokens = this.tokens.call(inputs);
    const mask = maskOf(tokens);
    const x = this.positions.call(add(tokens, expandDims(this.language.call(languages), 1)));
    const h = this.block.call(x, { mask, causal: true });
    return withMask(perStep(h, (rows) => this.head.call(rows)), mask); // one [N·T, d] matmul
  }
}

/** Per-step masked cross-entropy: the mean over real target steps (nats). */
function stepLoss(model: CharLM, words: readonly Word[], reduction: "mean" | "sum"): Tensor {
  const b = lmBatch(words, model.vocab);
  const logits = model.call(b.inputs, b.languages);
  return sparseCategoricalCrossEntropy(logits, b.targets, { fromLogits: true, mask: b.mask, reduction });
}

export function trainLM(model: CharLM, train: readonly Word[], o: { epochs: number; batchSize: number; learningRate: number; seed: number }, onEpoch: (epoch: number, bits: number) => void): number[] {
  const optimizer = new Adam(model.parameters(), { lr: o.learningRate });
  const rng = new Random(o.seed);
  const curve: number[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let nats = 0, steps = 0;
    for (const batch of batches(train, o.batchSize, rng, (w) => w.text.length)) {
      optimizer.zeroGrad();
      const loss = stepLoss(model, batch, "mean");
      loss.backward();
      optimizer.step();
      const count = batch.reduce((n, w) => n + [...w.text].length + 1, 0);
      nats += loss.item() * count;
      steps += count;
    }
    curve.push(nats / steps / Math.LN2);
    onEpoch(epoch, curve.at(-1)!);
  }
  return curve;
}

/** Bits per character (end marker included) on held-out words. */
export function lmBits(model: CharLM, words: readonly Word[]): number {
  let nats = 0, steps = 0;
  noGrad(() => {
    for (let at = 0; at < words.length; at += 500) {
      const part = words.slice(at, at + 500);
      nats += stepLoss(model, part, "sum").item();
      steps += part.reduce((n, w) => n + [...w.text].length + 1, 0);
    }
  });
  return nats / steps / Math.LN2;
}

/** P(next | previous, language) from counts with add-α smoothing over the same vocabulary; bits per character on `test`. */
export function bigramBits(train: readonly Word[], test: readonly Word[], vocab: Vocabulary, alpha = 0.1): number {
  const v = vocab.size;
  const counts = new Float64Array(LANGUAGES.length * v * v);
  const pairs = (w: Word) => {
    const ids = [vocab.idOf(BOS), ...vocab.encode(w.text), vocab.idOf(EOS)];
    return ids.slice(1).map((next, i) => (w.language * v + ids[i]!) * v + next);
  };
  for (const w of train) for (const k of pairs(w)) counts[k]! += 1;
  const rowTotals = new Float64Array(LANGUAGES.length * v);
  for (let r = 0; r < rowTotals.length; r++) for (let c = 0; c < v; c++) rowTotals[r]! += counts[r * v + c]!;
  let bits = 0, steps = 0;
  for (const w of test) {
    for (const k of pairs(w)) {
      bits -= Math.log2((counts[k]! + alpha) / (rowTotals[Math.floor(k / v)]! + alpha * v));
      steps++;
    }
  }
  return bits / steps;
}

/** `count` new words for a language, sampled character by character at `temperature` from a seeded generator. */
export function generate(model: CharLM, language: number, count: number, rng: Random, temperature = 0.8): string[] {
  const vocab = model.vocab, eos = vocab.idOf(EOS);
  const words: string[] = [];
  noGrad(() => {
    while (words.length < count) {
      const ids = [vocab.idOf(BOS)];
      while (ids.length <= MAX_WORD) {
        const logits = model.call(new NDArray(Float32Array.from(ids), [1, ids.length]), new NDArray(new Float32Array([language]), [1]));
        const last = logits.value.contiguous().flat().slice((ids.length - 1) * vocab.size, ids.length * vocab.size);
        const p = softmax(new Tensor(new NDArray(Float32Array.from(last, (x) => x / temperature), [vocab.size]))).data;
        let u = rng.next() * (1 - p[0]! - p[1]! - p[vocab.idOf(BOS)]!), next = eos;
        for (let k = 2; k < vocab.size; k++) {
          if (k === vocab.idOf(BOS)) continue;
          u -= p[k]!;
          if (u <= 0) { next = k; break; }
        }
        if (next === eos) break;
        ids.push(next);
      }
      words.push(vocab.decode(ids.slice(1)));
    }
  });
  return words;
}

