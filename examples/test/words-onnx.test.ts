/**
 * The words job's language-identification model (Embedding(maskZero) → learned positions →
 * Transformer encoder layer → masked mean → Dense), briefly trained, exported with token ids as
 * its input (the mask made inside the graph), and run in ONNX Runtime: the same logits and the
 * same predicted languages as zerograd, at batch sizes 1 and 7, padded to 20 and to 40.
 */
import { predict, Vocabulary } from "@zerograd/nn";
import { exportOnnx } from "@zerograd/nn/onnx";
import { NDArray } from "@zerograd/tensor";
import { expect, test } from "vitest";
import { onnxCheck, onnxPython, runOrt } from "../../packages/nn/test/helpers/onnx.js";
import { decodeModel } from "../../packages/nn/src/onnx/proto.js";
import { transformerClassifier, trainClassifier } from "../src/words/classify.js";
import { DEFAULTS } from "../src/words/cli.js";
import { DEFAULT_WORDS_PATH, LANGUAGES, batchOf, loadWords, splitWords } from "../src/words/data.js";

const argmaxRows = (data: ArrayLike<number>, rows: number, cols: number) =>
  Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c]! > data[r * cols + best]!) best = c;
    return best;
  });

test("the words job's classifier, exported, predicts what zerograd predicts (batch 1 and 7, padded to 20 and 40)", { timeout: 120_000 }, async () => {
  const { train, test: held } = splitWords(await loadWords(DEFAULT_WORDS_PATH), DEFAULTS.testCount, DEFAULTS.seed);
  const vocab = Vocabulary.fromCharacters(train.map((w) => w.text));
  const classifier = transformerClassifier(vocab, DEFAULTS.dim, true, DEFAULTS.seed);
  trainClassifier(classifier, train.slice(0, 1500), { epochs: 1, batchSize: 64, learningRate: DEFAULTS.learningRate, seed: 1 }, () => {});
  const bytes = exportOnnx(classifier.model, { inputs: { ids: { shape: [null, null], type: "int64" } }, output: "logits", metadata: { languages: JSON.stringify(LANGUAGES), vocabulary: JSON.stringify(vocab.tokens) } });
  expect(decodeModel(bytes).graph.inputs).toEqual([{ name: "ids", type: "int64", shape: ["batch", "ids_1"] }]);
  if (onnxPython) onnxCheck(bytes);
  const words = held.slice(0, 28);
  let worst = 0, compared = 0;
  for (const batch of [1, 7]) {
    for (let start = 0; start + batch <= words.length; start += batch) {
      for (const padTo of [20, 40]) {
        const { ids } = batchOf(words.slice(start, start + batch), vocab, padTo);
        const want = predict(classifier.model, ids) as NDArray;
        const got = (await runOrt(bytes, { ids: { int64: ids } })).logits!;
        expect(got.dims).toEqual([batch, LANGUAGES.length]);
        want.flat().forEach((v, i) => (worst = Math.max(worst, Math.abs(v - got.data[i]!))));
        expect(argmaxRows(got.data, batch, LANGUAGES.length)).toEqual(argmaxRows(want.flat(), batch, LANGUAGES.length));
        compared += batch;
      }
    }
  }
  console.log(`words classifier: ${compared} predictions compared, max |ONNX Runtime − predict| = ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-4);
});
