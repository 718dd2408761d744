/**
 * Fuzzing @zerograd/losses: every loss with random predictions (NaN/±Infinity/±0/1e±38 among
 * them), targets in and out of the loss's domain, masks, weights, groups and option bags (valid,
 * wrong-typed, unknown keys). Each call returns a finite loss and finite gradients when the
 * prediction is tame and the targets are valid, or throws a contract error naming the loss.
 */
import { type Tensor, backward, tensor } from "@zerograd/autograd";
import * as L from "@zerograd/losses";
import fc from "fast-check";
import { expect, test } from "vitest";
import { OP_NAMES, Tally, type TensorSpec, expectContractError, junk, make, optionsArb, probe, runs, sizeOf, tensorSpecArb } from "./harness.js";

const tally = new Tally("losses");

type Kind = "binary" | "categorical" | "sparse" | "regression";
const LOSSES: Record<string, { kind: Kind; fn: (p: Tensor, t: unknown, o: unknown) => Tensor }> = {
  binaryCrossEntropy: { kind: "binary", fn: (p, t, o) => L.binaryCrossEntropy(p, t as never, o as never) },
  categoricalCrossEntropy: { kind: "categorical", fn: (p, t, o) => L.categoricalCrossEntropy(p, t as never, o as never) },
  sparseCategoricalCrossEntropy: { kind: "sparse", fn: (p, t, o) => L.sparseCategoricalCrossEntropy(p, t as never, o as never) },
  meanSquaredError: { kind: "regression", fn: (p, t, o) => L.meanSquaredError(p, t as never, o as never) },
  meanAbsoluteError: { kind: "regression", fn: (p, t, o) => L.meanAbsoluteError(p, t as never, o as never) },
  huber: { kind: "regression", fn: (p, t, o) => L.huber(p, t as never, o as never) },
};

/** Flat 0/1 or boolean entries of length n, or a wrong length, or junk. */
const flagsArb = (n: number) => fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.oneof(fc.constantFrom(0, 1), fc.boolean()), { minLength: n, maxLength: n }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(0, 1), { maxLength: n + 2 }) },
  { weight: 1, arbitrary: junk },
);
const numbersArb = (n: number, min: number, max: number) => fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.double({ min, max, noNaN: true }), { minLength: n, maxLength: n }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(-1, Number.NaN, Infinity, 0.5), { minLength: n, maxLength: n }) },
  { weight: 1, arbitrary: junk },
);

/** The option fields of a loss of `kind` over predictions [n, c]. */
function lossOptions(name: string, kind: Kind, n: number, c: number): fc.Arbitrary<unknown> {
  const perElement = kind === "categorical" || kind === "sparse" ? n : n * c;
  const shared = {
    mask: flagsArb(perElement),
    maskValue: fc.constantFrom(-1, 0, Number.NaN),
    weights: numbersArb(perElement, 0, 3),
    reduction: fc.constantFrom("mean", "weightedMean", "sum", "none", "mean", "avg"),
    groups: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
    groupWeights: fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { maxLength: 3 }),
  };
  const probabilistic = { fromLogits: fc.boolean(), labelSmoothing: fc.oneof({ weight: 4, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(-0.1, 1.5) }) };
  const axis = { axis: fc.constantFrom(-1, -1, -1, 1, 0, 2, -3) };
  if (kind === "binary") return optionsArb({ ...shared, ...probabilistic, posWeight: fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), numbersArb(c, 0, 3)) });
  if (kind === "categorical") return optionsArb({ ...shared, ...probabilistic, ...axis });
  if (kind === "sparse") return optionsArb({ ...shared, ...probabilistic, ...axis, ignoreIndex: fc.integer({ min: -1, max: 3 }), classWeights: numbersArb(c, 0, 2) });
  return optionsArb(name === "huber" ? { ...shared, delta: fc.double({ min: -1, max: 3, noNaN: true }) } : shared);
}

/** Targets for predictions [n, c]: valid for the loss (`valid`), or outside its domain. */
function targetArb(kind: Kind, n: number, c: number): fc.Arbitrary<{ target: unknown; valid: boolean }> {
  const valid = {
    binary: fc.array(fc.constantFrom(0, 1, 0.25), { minLength: n * c, maxLength: n * c }),
    categorical: fc.array(fc.nat({ max: Math.max(c - 1, 0) }), { minLength: n, maxLength: n }).map((ys) => ys.flatMap((y) => Array.from({ length: c }, (_, j) => Number(j === y)))),
    sparse: fc.array(fc.nat({ max: Math.max(c - 1, 0) }), { minLength: n, maxLength: n }),
    regression: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n * c, maxLength: n * c }),
  }[kind];
  const size = kind === "sparse" ? n : n * c;
  const invalid = fc.oneof(
    fc.array(fc.constantFrom(2, -1, 1.5, c, Number.NaN, Infinity, -Infinity, 1e38), { minLength: size, maxLength: size }),
    fc.array(fc.constantFrom(0, 1), { maxLength: size + 2 }),
    junk,
  );
  return fc.oneof(
    { weight: 3, arbitrary: valid.map((t) => ({ target: t, valid: c > 0 })) },
    { weight: 1, arbitrary: invalid.map((t) => ({ target: t, valid: false })) },
  );
}

/** A flat list of the right length becomes a tensor of `shape` (booleans as 0/1); anything else is passed as it is. */
const shaped = (t: unknown, shape: readonly number[]): unknown =>
  Array.isArray(t) && t.length === sizeOf(shape) && t.every((v) => typeof v === "number" || typeof v === "boolean") ? tensor(t.map(Number), { shape }) : t;

const caseArb = fc.tuple(fc.constantFrom(...Object.keys(LOSSES)), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).chain(([name, n, c]) => {
  const kind = LOSSES[name]!.kind;
  return fc.tuple(fc.constant(name), fc.constant([n, c] as const), tensorSpecArb([n, c]), targetArb(kind, n, c), lossOptions(name, kind, n, c));
});

function run(name: string, [n, c]: readonly [number, number], pred: TensorSpec, target: { target: unknown; valid: boolean }, options: unknown): void {
  const p = make(pred);
  const kind = LOSSES[name]!.kind;
  const t = shaped(target.target, kind === "sparse" ? [n] : [n, c]);
  // Masks and weights are per element of ℓ: [n] for categorical losses, [n, c] for the others.
  const lossShape = kind === "sparse" || kind === "categorical" ? [n] : [n, c];
  if (typeof options === "object" && options !== null && !Array.isArray(options)) {
    const o = options as Record<string, unknown>;
    options = { ...o, ...("mask" in o && { mask: shaped(o.mask, lossShape) }), ...("weights" in o && { weights: shaped(o.weights, lossShape) }) };
  }
  // From probabilities, tame predictions outside [0, 1] are outside the loss's domain.
  const probabilities = kind !== "regression" && (options as { fromLogits?: unknown } | null)?.fromLogits !== true;
  const inDomain = pred.tame && target.valid && (!probabilities || pred.values.every((v) => v >= 0 && v <= 1));
  probe(tally, name, () => {
    const loss = LOSSES[name]!.fn(p, t, options);
    if (!p.requiresGrad) return [loss];
    backward(loss.rank === 0 ? loss : loss.sum());
    return [loss, p.grad];
  }, { watch: [p], finite: inDomain });
}

test("fuzz: every loss with random predictions, targets, masks and option bags", () => {
  fc.assert(fc.property(caseArb, ([name, nc, pred, target, options]) => run(name, nc, pred, target, options)), runs(2000));
});

// Option bags and mask helpers the losses used to read before checking them.
test("a null options bag is read as no options by every loss (as the option schema reads it)", () => {
  const cases: [string, () => Tensor, () => Tensor][] = [
    ["binaryCrossEntropy", () => L.binaryCrossEntropy(tensor([0.25, 0.5]), [1, 0], null as never), () => L.binaryCrossEntropy(tensor([0.25, 0.5]), [1, 0])],
    ["categoricalCrossEntropy", () => L.categoricalCrossEntropy(tensor([[0.25, 0.75]]), [[1, 0]], null as never), () => L.categoricalCrossEntropy(tensor([[0.25, 0.75]]), [[1, 0]])],
    ["sparseCategoricalCrossEntropy", () => L.sparseCategoricalCrossEntropy(tensor([[0.5, 1.5]]), [1], null as never), () => L.sparseCategoricalCrossEntropy(tensor([[0.5, 1.5]]), [1])],
    ["meanSquaredError", () => L.meanSquaredError(tensor([0.5, 2]), [1, 0], null as never), () => L.meanSquaredError(tensor([0.5, 2]), [1, 0])],
    ["meanAbsoluteError", () => L.meanAbsoluteError(tensor([0.5, 2]), [1, 0], null as never), () => L.meanAbsoluteError(tensor([0.5, 2]), [1, 0])],
    ["huber", () => L.huber(tensor([0.5, 3]), [0, 0], null as never), () => L.huber(tensor([0.5, 3]), [0, 0])],
  ];
  for (const [name, withNull, without] of cases) expect(withNull().item(), name).toBe(without().item());
  expect(() => L.huber(tensor([0.5]), [0], 3 as never)).toThrow(/^huber: options must be an object, got 3$/);
});
test("meanSquaredError refuses a maskValue that is not a number, by name", () => {
  expectContractError("meanSquaredError", () => L.meanSquaredError(tensor([0.5]), [1], { maskValue: Symbol.for("x") as never }));
  expect(() => L.meanSquaredError(tensor([0.5]), [1], { maskValue: 10n as never })).toThrow(/^meanSquaredError: maskValue must be a number/);
});
test("maskFromNaN's errors name maskFromNaN, maskFromSentinel's name maskFromSentinel", () => {
  expect(() => L.maskFromNaN("nope" as never)).toThrow(/^maskFromNaN: target: /);
  expect(() => L.maskFromSentinel("nope" as never, -1)).toThrow(/^maskFromSentinel: target: /);
  expect(Array.from(L.maskFromNaN([1, Number.NaN, 3]).data)).toEqual([1, 0, 1]);
});

/** Mask helpers and metrics: each with a random first argument (valid arrays or junk) and a random second one. */
const HELPERS: Record<string, (a: unknown, b: unknown) => unknown> = {
  maskFromSentinel: (a, b) => L.maskFromSentinel(a as never, b as number),
  maskFromPadding: (a, b) => L.maskFromPadding(a as never, 0, b as number),
  maskFromNaN: (a) => L.maskFromNaN(a as never),
  maskAnd: (a, b) => L.maskAnd(a as never, b as never),
  maskOr: (a, b) => L.maskOr(a as never, b as never),
  maskNot: (a) => L.maskNot(a as never),
  validCount: (a) => L.validCount(a as never),
  accuracy: (a, b) => L.accuracy(a as never, b as never),
  sparseAccuracy: (a, b) => L.sparseAccuracy(a as never, b as never),
  binaryAccuracy: (a, b) => L.binaryAccuracy(a as never, b as never),
  meanAbsoluteErrorMetric: (a, b) => L.meanAbsoluteErrorMetric(a as never, b as never),
};

test("fuzz: mask helpers and metrics", () => {
  const arg = fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.array(fc.constantFrom(0, 1, -1, Number.NaN, 0.5, true), { minLength: 2, maxLength: 2 }), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
    { weight: 1, arbitrary: junk },
  );
  fc.assert(fc.property(fc.constantFrom(...Object.keys(HELPERS)), arg, arg, (name, a, b) => {
    probe(tally, [name, ...OP_NAMES], () => HELPERS[name]!(a, b));
  }), runs(600));
});

test("groupWeights of the wrong kind is refused by the loss's name (null used to reach Object.hasOwn)", () => {
  const options = { groups: [1, 2], groupWeights: null as never };
  expect(() => L.meanSquaredError(tensor([0.5, 1]), [1, 0], options)).toThrow(/^meanSquaredError: groupWeights must be an array or a record of weights by group id, got null$/);
  expectContractError("categoricalCrossEntropy", () => L.categoricalCrossEntropy(tensor([[0.5, 0.5], [0.25, 0.75]]), [[1, 0], [0, 1]], { groups: [1, 2], groupWeights: 3 as never }));
  expect(L.meanSquaredError(tensor([0.5, 1]), [1, 0], { groups: [1, 2], groupWeights: { 1: 2, 2: 0 } }).item()).toBeCloseTo(0.5);
});
