/**
 * The six contract properties, each a check over one random case (see contract.ts). The test
 * files run them with fast-check over every loss.
 */
import { NDArray, Tensor, gradcheck, gradients } from "@zerograd/autograd";
import fc from "fast-check";
import { describe as vitestDescribe, expect, test } from "vitest";
import { type Case, type LossName, type Outcome, buildCase, paramsArb, close, describe, lossFn, nest, poisoned, rowEntries, run, sizeOf, targetInput } from "./contract.js";

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

function predEntries(c: Case, i: number): number[] {
  return c.kind === "elementwise" ? [i] : rowEntries(i, c.lossShape, c.predShape, c.axis);
}

/**
 * 1. masked-position gradients are exactly 0 whatever the prediction and target hold there;
 * 2. the loss value does not change when masked positions change;
 * 3. an all-masked input gives loss 0 and all-zero gradients.
 * Also: with clean data, nothing is NaN or infinite.
 */
export function checkMaskedPositions(c: Case): void {
  const clean = run(c);
  const poison = poisoned(c, c.params.seed ^ 0x5bd1e995);
  const dirty = run(poison);
  const info = describe(c);
  for (const x of [...clean.value, ...clean.grad]) if (!Number.isFinite(x)) throw new Error(`non-finite value or gradient on clean data: ${info}`);
  clean.value.forEach((v, i) => {
    if (!same(dirty.value[i]!, v)) throw new Error(`value changed at ${i} when masked positions changed: ${v} → ${dirty.value[i]}: ${info}`);
  });
  for (let i = 0; i < c.keep.length; i++) {
    if (c.keep[i]) continue;
    for (const j of predEntries(c, i)) {
      if (dirty.grad[j] !== 0) throw new Error(`gradient ${dirty.grad[j]} at masked prediction ${j} (holding ${poison.pred[j]}): ${info}`);
    }
  }
  clean.grad.forEach((g, j) => {
    if (!same(dirty.grad[j]!, g)) throw new Error(`gradient at unmasked prediction ${j} changed when masked positions changed: ${g} → ${dirty.grad[j]}: ${info}`);
  });
  if (c.keep.every((k) => k === 0)) {
    expect(dirty.value.every((v) => v === 0), `all masked: value ${Array.from(dirty.value)}`).toBe(true);
    expect(dirty.grad.every((g) => g === 0), "all masked: gradients").toBe(true);
  }
}

/** Runs the loss on plain inputs (float64) and returns value and gradient. */
function runPlain(c: Case, pred: number[], predShape: number[], target: number[], targetShape: number[], options: Record<string, unknown>, seed: number[]): Outcome {
  const p = new Tensor(new NDArray(Float64Array.from(pred), predShape), true);
  const out = lossFn(c.params.loss)(p, new NDArray(Float64Array.from(target), targetShape), options);
  const [g] = gradients(out, [p], { seed: options.reduction === "none" ? new NDArray(Float64Array.from(seed), out.shape) : undefined });
  return { value: out.value.copyData("float64") as Float64Array, grad: g!.value.copyData("float64") as Float64Array };
}

/** 4. the masked loss equals the same loss on the inputs with the masked elements removed (value and gradient). */
export function checkRemoval(c: Case): void {
  const kept = [...c.keep.keys()].filter((i) => c.keep[i]);
  const options: Record<string, unknown> = { reduction: c.params.reduction };
  for (const key of ["fromLogits", "labelSmoothing", "delta", "classWeights", "groupWeights"]) if (c.options[key] !== undefined) options[key] = c.options[key];
  if (c.weightsFull) options.weights = kept.map((i) => c.weightsFull![i]!);
  if (c.groupOf) {
    const inner = sizeOf(c.lossShape.slice(1));
    options.groups = kept.map((i) => c.groupOf![Math.floor(i / inner)]!);
  }
  if (c.posWeightFull) options.posWeight = c.params.posWeight === "scalar" ? c.options.posWeight : kept.map((i) => c.posWeightFull![i]!);

  let pred: number[], target: number[], predShape: number[], targetShape: number[];
  if (c.kind === "elementwise") {
    pred = kept.map((i) => c.pred[i]!);
    target = kept.map((i) => c.target[i]!);
    predShape = targetShape = [kept.length];
  } else {
    const rows = kept.map((i) => rowEntries(i, c.lossShape, c.predShape, c.axis));
    pred = rows.flatMap((r) => r.map((j) => c.pred[j]!));
    predShape = [kept.length, c.classes];
    target = c.kind === "sparse" ? kept.map((i) => c.target[i]!) : rows.flatMap((r) => r.map((j) => c.target[j]!));
    targetShape = c.kind === "sparse" ? [kept.length] : predShape;
  }
  const full = run(c);
  const removed = runPlain(c, pred, predShape, target, targetShape, options, kept.map((i) => c.seedGrad[i]!));
  const info = describe(c);
  if (c.params.reduction === "none") {
    expect(close(kept.map((i) => full.value[i]!), removed.value), `'none' values: ${info}`).toBe(true);
    expect(full.value.every((v, i) => c.keep[i] || v === 0), `'none' masked values: ${info}`).toBe(true);
  } else {
    expect(close(full.value, removed.value), `value ${full.value[0]} vs removed ${removed.value[0]}: ${info}`).toBe(true);
  }
  const fullGradKept = kept.flatMap((i) => predEntries(c, i).map((j) => full.grad[j]!));
  expect(close(fullGradKept, removed.grad), `gradients: ${info}`).toBe(true);
}

/** 5. gradcheck at unmasked positions (float64, with poison at masked ones), with respect to the prediction. */
export function checkGradcheck(c: Case): void {
  const d = poisoned(c, c.params.seed + 7);
  const target = targetInput(d);
  const targetArray = target instanceof Tensor ? target.value : target instanceof NDArray ? target : new NDArray(Float64Array.from(d.target), d.targetShape);
  const f = (p: Tensor, t: Tensor) => lossFn(c.params.loss)(p, t, d.options);
  const result = gradcheck(f, [new NDArray(Float64Array.from(d.pred), d.predShape), targetArray], { wrt: [0] });
  expect(result.ok, `${result.message}: ${describe(c)}`).toBe(true);
}

/**
 * 6. reduction identities: 'sum' = 'mean' × valid count; 'weightedMean' with unit weights =
 * 'mean'; grouped total = Σ_g groupWeight(g) × (the reduction within g), gradients included.
 */
export function checkIdentities(c: Case): void {
  const info = describe(c);
  const base: Record<string, unknown> = { ...c.options };
  delete base.groups;
  delete base.groupWeights;
  const count = c.keep.reduce((n, k) => n + k, 0);
  const sum = run(c, { ...base, reduction: "sum" }), mean = run(c, { ...base, reduction: "mean" });
  expect(close(sum.value, [mean.value[0]! * count]), `sum ${sum.value[0]} vs mean·count ${mean.value[0]! * count}: ${info}`).toBe(true);

  const unweighted: Record<string, unknown> = { ...base };
  delete unweighted.weights;
  delete unweighted.classWeights;
  const plainMean = run(c, { ...unweighted, reduction: "mean" });
  const unitWeighted = run(c, { ...unweighted, reduction: "weightedMean", weights: nest(new Array(sizeOf(c.lossShape)).fill(1), c.lossShape) });
  const defaultWeighted = run(c, { ...unweighted, reduction: "weightedMean" });
  expect(close(unitWeighted.value, plainMean.value) && close(unitWeighted.grad, plainMean.grad), `weightedMean(1) vs mean: ${info}`).toBe(true);
  expect(close(defaultWeighted.value, plainMean.value), `weightedMean() vs mean: ${info}`).toBe(true);

  if (!c.groupOf) return;
  const total = run(c);
  const inner = sizeOf(c.lossShape.slice(1));
  const gw = c.options.groupWeights as Record<number, number> | undefined;
  const value = new Float64Array(total.value.length), grad = new Float64Array(total.grad.length);
  for (const g of [0, 1, 2]) {
    const maskG = Array.from(c.keep, (k, i) => (k && c.groupOf![Math.floor(i / inner)] === g ? 1 : 0));
    const part = run(c, { ...base, mask: nest(maskG, c.lossShape) });
    const weight = gw ? gw[g]! : 1;
    if (!c.groupOf.includes(g) || maskG.every((k) => k === 0)) {
      expect(part.value.every((v) => v === 0) && part.grad.every((v) => v === 0), `empty group ${g} adds 0: ${info}`).toBe(true);
    }
    part.value.forEach((v, i) => (value[i]! += weight * v));
    part.grad.forEach((v, i) => (grad[i]! += weight * v));
  }
  expect(close(total.value, value), `grouped ${Array.from(total.value)} vs Σ weight·group ${Array.from(value)}: ${info}`).toBe(true);
  expect(close(total.grad, grad), `grouped gradients: ${info}`).toBe(true);
}

/** Guarantees 1–3 again in float32, the dtype models train in: same mask, same exact zeros. */
export function checkMaskedPositionsFloat32(c: Case): void {
  const runF32 = (d: Case) => {
    const p = new Tensor(new NDArray(Float32Array.from(d.pred), d.predShape), true);
    const out = lossFn(c.params.loss)(p, new NDArray(Float32Array.from(d.target), d.targetShape), d.options);
    const [g] = gradients(out, [p], { seed: d.options.reduction === "none" ? new NDArray(Float32Array.from(d.seedGrad), out.shape) : undefined });
    expect(out.dtype).toBe("float32");
    return { value: Array.from(out.data), grad: Array.from(g!.data) };
  };
  const clean = runF32(c), dirty = runF32(poisoned(c, c.params.seed + 11));
  const info = describe(c);
  expect(clean.value.every(Number.isFinite) && clean.grad.every(Number.isFinite), `float32 clean: ${info}`).toBe(true);
  expect(dirty.value, `float32 value: ${info}`).toEqual(clean.value);
  for (let i = 0; i < c.keep.length; i++) {
    for (const j of predEntries(c, i)) {
      if (c.keep[i] ? !same(dirty.grad[j]!, clean.grad[j]!) : dirty.grad[j] !== 0) throw new Error(`float32 gradient ${dirty.grad[j]} at ${j}: ${info}`);
    }
  }
}

/**
 * The contract as four seeded properties over random cases of the given losses. Each test file
 * calls it for a share of the losses, so that vitest can run the shares in parallel.
 */
export function describeContract(title: string, losses: LossName[]): void {
  const SEED = 20240611;
  vitestDescribe.each(losses)(`%s: ${title}`, (loss) => {
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
}
