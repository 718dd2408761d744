/**
 * Three ways to train on partly labelled data, compared by the main job:
 * 1. masked — zerograd's way: every head's loss skips its own missing labels;
 * 2. drop — keep only the samples that have every label of every head;
 * 3. impute — replace every missing label by 0 and train on it as if it were true.
 */
import { INK, type Targets, isComplete } from "./targets.js";

export const STRATEGIES = ["masked", "drop", "impute"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const STRATEGY_LABELS: Record<Strategy, string> = {
  masked: "masked losses",
  drop: "drop incomplete samples",
  impute: "impute missing as 0",
};

/** The training rows (indices into the training set) and targets a strategy trains on. */
export function applyStrategy(strategy: Strategy, t: Targets): { rows: Int32Array; targets: Targets } {
  if (strategy === "masked") return { rows: Int32Array.from({ length: t.count }, (_, i) => i), targets: t };
  if (strategy === "drop") {
    const rows = Int32Array.from({ length: t.count }, (_, i) => i).filter((i) => isComplete(t, i));
    return { rows, targets: selectTargets(t, rows) };
  }
  const fill = (a: Float32Array, missing: (v: number) => boolean) => a.map((v) => (missing(v) ? 0 : v));
  return {
    rows: Int32Array.from({ length: t.count }, (_, i) => i),
    targets: { ...t, digit: fill(t.digit, (v) => v === -1), attributes: fill(t.attributes, Number.isNaN), ink: fill(t.ink, Number.isNaN) },
  };
}

export function selectTargets(t: Targets, rows: ArrayLike<number>): Targets {
  const A = t.attributeNames.length, K = INK.length;
  const out: Targets = { count: rows.length, attributeNames: t.attributeNames, digit: new Float32Array(rows.length), attributes: new Float32Array(rows.length * A), ink: new Float32Array(rows.length * K) };
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!;
    out.digit[r] = t.digit[i]!;
    out.attributes.set(t.attributes.subarray(i * A, (i + 1) * A), r * A);
    out.ink.set(t.ink.subarray(i * K, (i + 1) * K), r * K);
  }
  return out;
}
