/** The model of the main job: a shared trunk (two ReLU layers) with one linear head per task. */
import { Dense, MultiHead, Sequential } from "@zerograd/nn";
import { Random } from "@zerograd/tensor";
import { INK } from "./targets.js";

export type Heads = "digit" | "attributes" | "ink";

/** The same seed builds bitwise the same model, so every strategy starts from the same weights. */
export function buildModel(features: number, hidden: number, classes: number, attributes: number, seed: number): MultiHead<Heads> {
  const rng = new Random(seed);
  const trunk = new Sequential([new Dense(features, hidden, { activation: "relu", seed: rng }), new Dense(hidden, hidden, { activation: "relu", seed: rng })]);
  return new MultiHead<Heads>(trunk, {
    digit: new Dense(hidden, classes, { seed: rng }), // logits
    attributes: new Dense(hidden, attributes, { seed: rng }), // logits, one per attribute
    ink: new Dense(hidden, INK.length, { seed: rng }), // standardised measurements
  });
}
