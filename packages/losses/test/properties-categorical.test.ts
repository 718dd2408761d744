import fc from "fast-check";
import { describe, test } from "vitest";
import { type LossName, buildCase, paramsArb } from "./contract.js";
import { checkGradcheck, checkIdentities, checkMaskedPositions, checkRemoval } from "./properties.js";

/** The contract, as properties over random cases, for the categorical losses. */
const LOSSES: LossName[] = ["categoricalCrossEntropy", "sparseCategoricalCrossEntropy"];
const SEED = 20240611;

describe.each(LOSSES)("%s: the masked-loss contract", (loss) => {
  const cases = paramsArb([loss], 5).map(buildCase);
  test("masked gradients are exactly 0 and the value ignores masked positions (all masked: 0)", () => {
    fc.assert(fc.property(cases, checkMaskedPositions), { seed: SEED, numRuns: 500 });
  });
  test("equals the loss on the inputs with the masked elements removed", () => {
    fc.assert(fc.property(cases, checkRemoval), { seed: SEED + 1, numRuns: 300 });
  });
  test("gradcheck passes with respect to the prediction", () => {
    fc.assert(fc.property(paramsArb([loss], 4).map(buildCase), checkGradcheck), { seed: SEED + 2, numRuns: 200 });
  });
  test("reduction identities: sum = mean·count, weightedMean(1) = mean, grouped = Σ weight·group", () => {
    fc.assert(fc.property(cases, checkIdentities), { seed: SEED + 3, numRuns: 300 });
  });
});
