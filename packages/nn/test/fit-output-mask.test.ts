import { sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { NDArray } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { Adam, Dense, Embedding, GRU, Sequential, evaluate, fit, predict } from "../src/index.js";

// A per-step classifier over padded id sequences (0 = padding): its output carries the [N, T] mask.
const ids = new NDArray(new Float32Array([3, 4, 5, 0, 0, 6, 7, 0, 0, 0, 2, 3, 4, 5, 6, 1, 0, 0, 0, 0]), [4, 5]);
const T = 5, C = 3;
const model = () => new Sequential([new Embedding(8, 4, { maskZero: true, seed: 1 }), new GRU(4, 5, { returnSequences: true, seed: 2 }), new Dense(5, C, { seed: 3 })]);
/** Labels i mod 3 at real steps, `pad` at padded ones (garbage: even out of range). */
const labelsWith = (x: NDArray, pad: number) => new NDArray(Float32Array.from(x.flat(), (v, i) => (v === 0 ? pad : (i * 7) % C)), x.shape);
const loss = { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } };

/** Mean cross-entropy and accuracy over the real steps only, by plain loops over predict()'s logits. */
function byHand(m: Sequential, x: NDArray, labels: NDArray): { loss: number; accuracy: number } {
  const logits = (predict(m, x) as NDArray).flat(), ids = x.flat(), y = labels.flat();
  let total = 0, hits = 0, count = 0;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === 0) continue;
    const row = Array.from(logits.subarray(i * C, (i + 1) * C));
    const max = Math.max(...row), lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += lse - row[y[i]!]!;
    hits += row.indexOf(max) === y[i] ? 1 : 0;
    count++;
  }
  return { loss: total / count, accuracy: hits / count };
}

describe("fit()/evaluate(): the output's mask reaches logs, metrics and validation", () => {
  test("evaluate(): loss and accuracy over real steps only, whatever the padding labels", () => {
    const m = model();
    const expected = byHand(m, ids, labelsWith(ids, 0));
    for (const pad of [0, 2, 99, -7]) {
      const logs = evaluate(m, { x: ids, y: labelsWith(ids, pad) }, { loss, metrics: ["accuracy"], batchSize: 3 });
      expect(logs.loss).toBeCloseTo(expected.loss, 5);
      expect(logs.accuracy).toBeCloseTo(expected.accuracy, 10);
    }
    // The loss's own mask is ANDed with the output's: masking out row 0 as well leaves rows 1-3's real steps.
    const rows = new NDArray(new Float32Array([0, 1, 1, 1]), [4, 1]);
    const rest = evaluate(m, { x: ids, y: labelsWith(ids, 99) }, { loss: { ...loss, options: { ...loss.options, mask: rows } }, metrics: ["accuracy"] });
    const tail = (a: NDArray) => new NDArray(a.flat().slice(T), [3, T]);
    const restExpected = byHand(m, tail(ids), tail(labelsWith(ids, 0)));
    expect(rest.loss).toBeCloseTo(restExpected.loss, 5);
    expect(rest.accuracy).toBeCloseTo(restExpected.accuracy, 10);
  });

  test("fit(): the epoch's loss and metrics, and val_loss/val_accuracy, count real steps only", async () => {
    const run = async (pad: number) => {
      const m = model();
      const h = await fit(m, { x: ids, y: labelsWith(ids, pad) }, {
        optimizer: new Adam(m.parameters(), { lr: 0.05 }),
        loss,
        metrics: ["accuracy"],
        validationData: { x: ids, y: labelsWith(ids, pad) },
        epochs: 2,
        batchSize: 2,
        shuffle: false,
        verbose: "silent",
      });
      return { h: h.history, m };
    };
    const a = await run(0), b = await run(99);
    for (const key of ["loss", "accuracy", "val_loss", "val_accuracy"]) expect(b.h[key]).toEqual(a.h[key]);
    const after = byHand(a.m, ids, labelsWith(ids, 0));
    expect(a.h.val_loss!.at(-1)).toBeCloseTo(after.loss, 5);
    expect(a.h.val_accuracy!.at(-1)).toBeCloseTo(after.accuracy, 10);
  });

  test("a label out of range at a real step is still refused before training, naming the row", async () => {
    const labels = labelsWith(ids, 99);
    labels.data[6] = 99; // row 1, step 1: a real step
    const m = model();
    await expect(fit(m, { x: ids, y: labels }, { optimizer: new Adam(m.parameters()), loss, epochs: 1, verbose: "silent" })).rejects.toThrow(/row 1/);
  });
});
