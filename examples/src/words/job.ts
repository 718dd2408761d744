/**
 * The words job: load → split → three classifiers (masked Transformer, the same with masks
 * off, bag-of-characters logistic regression) → accuracy, padding 20 vs 40, confusion matrix and
 * accuracy by length → a character language model per language vs a bigram baseline → samples.
 */
import { Vocabulary } from "@zerograd/nn";
import { Random } from "@zerograd/tensor";
import type { WordsOptions } from "./cli.js";
import { type Classifier, accuracy, logisticRegression, predictClasses, trainClassifier, transformerClassifier } from "./classify.js";
import { DataLoadError, LANGUAGES, type Word, loadWords, splitWords } from "./data.js";
import { CharLM, bigramBits, generate, lmBits, lmVocabulary, trainLM } from "./lm.js";

export const LENGTH_BUCKETS = [[2, 4], [5, 6], [7, 8], [9, 10], [11, 13], [14, 20]] as const;

export interface ClassifierResult {
  name: string;
  losses: number[];
  accuracy: number;
  /** Test words whose predicted language changes between padding to 20 and to 40 characters (null: no padding involved). */
  changedByPadding: number | null;
  byLength: number[];
  confusion: number[][];
  seconds: number;
}

export interface WordsResult {
  trainCount: number;
  testCount: number;
  vocabularySize: number;
  classifiers: ClassifierResult[];
  lm: { curve: number[]; bits: number; bigramBits: number; samples: Record<string, string[]>; seconds: number };
  seconds: number;
}

function evaluateClassifier(c: Classifier, losses: number[], test: readonly Word[], padded: boolean, seconds: number): ClassifierResult {
  const pred = predictClasses(c, test, padded ? 20 : undefined);
  const changed = padded ? predictClasses(c, test, 40).filter((p, i) => p !== pred[i]).length : null;
  const confusion = LANGUAGES.map(() => LANGUAGES.map(() => 0));
  test.forEach((w, i) => confusion[w.language]![pred[i]!]!++);
  const byLength = LENGTH_BUCKETS.map(([lo, hi]) => {
    const idx = test.flatMap((w, i) => ([...w.text].length >= lo && [...w.text].length <= hi ? [i] : []));
    return idx.length ? idx.filter((i) => pred[i] === test[i]!.language).length / idx.length : NaN;
  });
  return { name: c.name, losses, accuracy: accuracy(pred, test), changedByPadding: changed, byLength, confusion, seconds };
}

export async function runWordsJob(o: WordsOptions, log: (line: string) => void): Promise<WordsResult> {
  const started = performance.now();
  const words = await loadWords(o.data);
  if (o.testCount >= words.length) throw new DataLoadError(`--test-count ${o.testCount} leaves no training words (the data has ${words.length})`);
  const { train, test } = splitWords(words, o.testCount, o.seed);
  const vocab = Vocabulary.fromCharacters(train.map((w) => w.text));
  const training = { epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate, seed: o.seed };
  const classifiers: ClassifierResult[] = [];
  const makers: [() => Classifier, boolean][] = [
    [() => transformerClassifier(vocab, o.dim, true, o.seed), true],
    [() => transformerClassifier(vocab, o.dim, false, o.seed), true],
    [() => logisticRegression(vocab, o.seed), false],
  ];
  for (const [make, padded] of makers) {
    const t0 = performance.now();
    const c = make();
    const losses = trainClassifier(c, train, { ...training, learningRate: padded ? o.learningRate : 0.05 }, (e, loss) => log(`${c.name}: epoch ${e + 1}/${o.epochs} loss ${loss.toFixed(4)}`));
    classifiers.push(evaluateClassifier(c, losses, test, padded, (performance.now() - t0) / 1000));
  }
  const t1 = performance.now();
  const lmVocab = lmVocabulary(train);
  const lm = new CharLM(lmVocab, o.dim, o.seed + 10);
  const curve = trainLM(lm, train, { ...training, epochs: o.lmEpochs }, (e, bits) => log(`language model: epoch ${e + 1}/${o.lmEpochs} ${bits.toFixed(3)} bits/char`));
  const rng = new Random(o.seed);
  const samples = Object.fromEntries(LANGUAGES.map((lang, i) => [lang, generate(lm, i, 5, rng)]));
  return {
    trainCount: train.length,
    testCount: test.length,
    vocabularySize: vocab.size,
    classifiers,
    lm: { curve, bits: lmBits(lm, test), bigramBits: bigramBits(train, test, lmVocab), samples, seconds: (performance.now() - t1) / 1000 },
    seconds: (performance.now() - started) / 1000,
  };
}
