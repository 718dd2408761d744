/**
 * Language identification from characters: a one-layer Transformer encoder with masked mean
 * pooling, the same model with the masks switched off (padding read as data), and a
 * bag-of-characters logistic regression.
 */
import { Tensor, argmax, noGrad } from "@zerograd/autograd";
import { sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { Adam, Dense, Embedding, GlobalAveragePooling1D, type Module, PositionalEmbedding, Sequential, TransformerEncoderLayer, type Vocabulary } from "@zerograd/nn";
import { NDArray, Random } from "@zerograd/tensor";
import { LANGUAGES, type Word, batchOf, batches } from "./data.js";

/** The longest padding the job uses (predictions are compared padded to 20 and to 40). */
export const MAX_LEN = 40;

export interface Classifier {
  name: string;
  /** Logits [N, 4] for the words, padded to `padTo` characters (the Transformers), or as a bag of characters. */
  logits(words: readonly Word[], padTo?: number): Tensor;
  model: Module<any[], any>;
}

/** Embedding (maskZero = masked) → learned positions → Transformer encoder layer → mean over steps → 4 logits. */
export function transformerClassifier(vocab: Vocabulary, dim: number, masked: boolean, seed: number): Classifier {
  const model = new Sequential([
    new Embedding(vocab.size, dim, { maskZero: masked, seed, initializer: "glorotUniform" }),
    new PositionalEmbedding(MAX_LEN, dim, { seed: seed + 1 }),
    new TransformerEncoderLayer(dim, 2, { dimFeedforward: 2 * dim, dropout: 0, seed: seed + 2 }),
    new GlobalAveragePooling1D(),
    new Dense(dim, LANGUAGES.length, { seed: seed + 3 }),
  ]);
  return {
    name: masked ? "Transformer, masked" : "Transformer, masks off",
    model,
    logits: (words, padTo) => model.call(new Tensor(batchOf(words, vocab, padTo).ids)),
  };
}

/** Character counts / word length: [N, V]. */
export function bagOfCharacters(words: readonly Word[], vocab: Vocabulary): NDArray {
  const out = new Float32Array(words.length * vocab.size);
  words.forEach((w, i) => {
    const ids = vocab.encode(w.text);
    for (const id of ids) out[i * vocab.size + id]! += 1 / ids.length;
  });
  return new NDArray(out, [words.length, vocab.size]);
}

export function logisticRegression(vocab: Vocabulary, seed: number): Classifier {
  const model = new Dense(vocab.size, LANGUAGES.length, { seed });
  return { name: "bag of characters (logistic regression)", model, logits: (words) => model.call(new Tensor(bagOfCharacters(words, vocab))) };
}

/** Predicted classes, in batches, without a graph. */
export function predictClasses(c: Classifier, words: readonly Word[], padTo?: number): number[] {
  const out: number[] = [];
  noGrad(() => {
    for (let at = 0; at < words.length; at += 500) out.push(...argmax(c.logits(words.slice(at, at + 500), padTo), { axis: -1 }).data);
  });
  return out;
}

export const accuracy = (pred: readonly number[], words: readonly Word[]) => pred.filter((p, i) => p === words[i]!.language).length / words.length;

/** Adam on the mean cross-entropy of shuffled batches (each padded to its longest word); the mean loss per epoch. */
export function trainClassifier(c: Classifier, train: readonly Word[], o: { epochs: number; batchSize: number; learningRate: number; seed: number }, onEpoch: (epoch: number, loss: number) => void): number[] {
  const optimizer = new Adam(c.model.parameters(), { lr: o.learningRate });
  const rng = new Random(o.seed);
  const losses: number[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let total = 0;
    for (const batch of batches(train, o.batchSize, rng, (w) => w.text.length)) {
      const labels = new NDArray(Float32Array.from(batch, (w) => w.language), [batch.length]);
      optimizer.zeroGrad();
      const loss = sparseCategoricalCrossEntropy(c.logits(batch), labels, { fromLogits: true });
      loss.backward();
      optimizer.step();
      total += loss.item() * batch.length;
    }
    losses.push(total / train.length);
    onEpoch(epoch, losses.at(-1)!);
  }
  return losses;
}
