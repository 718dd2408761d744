/**
 * Three ways to train on partly labelled data, compared by the main job:
 * 1. masked — zerograd's way: every head's loss skips its own missing labels;
 * 2. drop — keep only the samples that have every label of every head;
 * 3. impute — replace every missing label by 0 and train on it as if it were true.
 */
import { gatherRows } from "../data/index.js";
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

/** The targets of the rows `rows`, in that order. */
export function selectTargets(t: Targets, rows: ArrayLike<number>): Targets {
  return {
    count: rows.length,
    attributeNames: t.attributeNames,
    digit: gatherRows(t.digit, 1, rows),
    attributes: gatherRows(t.attributes, t.attributeNames.length, rows),
    ink: gatherRows(t.ink, INK.length, rows),
  };
}
