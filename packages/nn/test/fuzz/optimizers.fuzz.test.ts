/**
 * Fuzzing @zerograd/nn's optimizers: constructors with random option bags, then step() with
 * random gradients (wrong shapes, NaN/±Infinity among them). A throw names the optimizer and
 * leaves parameters and optimizer state as they were; a step from finite gradients and valid
 * options leaves finite parameters.
 */
import { type Tensor, tensor } from "@zerograd/autograd";
import * as N from "@zerograd/nn";
import fc from "fast-check";
import { expect, test } from "vitest";
import { Tally, type TensorSpec, checkFinite, labelled, make, optionsArb, partnerShapeArb, probe, runs, shapeArb, tensorSpecArb } from "./harness.js";

const tally = new Tally("optimizers");

const rate = fc.double({ min: 0, max: 0.5, noNaN: true });
const unit = fc.double({ min: 0, max: 0.99, noNaN: true });
const FIELDS: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  SGD: { lr: rate, momentum: unit, dampening: unit, nesterov: fc.boolean(), weightDecay: rate },
  Adam: { lr: rate, betas: fc.tuple(unit, unit), eps: fc.constantFrom(1e-8, 1e-6), weightDecay: rate, amsgrad: fc.boolean() },
  AdamW: { lr: rate, betas: fc.tuple(unit, unit), eps: fc.constantFrom(1e-8, 1e-6), weightDecay: rate, amsgrad: fc.boolean() },
  RMSprop: { lr: rate, alpha: unit, eps: fc.constantFrom(1e-8, 1e-6), momentum: unit, centered: fc.boolean(), weightDecay: rate },
};
const CLASSES = { SGD: N.SGD, Adam: N.Adam, AdamW: N.AdamW, RMSprop: N.RMSprop } as const;

/** A parameter and its gradient: usually of the parameter's shape, sometimes not, sometimes none. */
const paramArb = shapeArb({ minRank: 1, maxRank: 2, empty: false }).chain((s) => fc.tuple(
  tensorSpecArb(s).map((p) => ({ ...p, values: p.values.map((v) => (p.tame ? v : 0.5)) })),
  fc.oneof({ weight: 6, arbitrary: fc.constant(s) }, { weight: 1, arbitrary: partnerShapeArb(s) }).chain(tensorSpecArb),
  fc.boolean(),
));

const caseArb = fc.constantFrom("SGD", "Adam", "AdamW", "RMSprop").chain((name) =>
  fc.tuple(fc.constant(name), fc.array(paramArb, { minLength: 1, maxLength: 3 }), optionsArb(FIELDS[name]!), fc.integer({ min: 1, max: 3 })));

/** The parameters' values and the optimizer's state, for checking that a throw changed nothing. */
const stateOf = (params: readonly Tensor[], opt: N.Optimizer) => [params.map((p) => Array.from(p.data)), opt.stateDict()];

function stepAll(name: string, params: readonly Tensor[], grads: readonly (TensorSpec | null)[], opt: N.Optimizer, steps: number): void {
  params.forEach((p, i) => (p.grad = grads[i] ? make(grads[i]) : null));
  const finiteGrads = grads.every((g) => g === null || g.values.every(Number.isFinite));
  // Finite but huge gradients (3.4e38) may overflow the update: the math, not a bug.
  const tameGrads = grads.every((g) => g === null || g.tame);
  for (let s = 0; s < steps; s++) {
    // Every check (shapes, non-finite values) runs before the first write: a throw leaves parameters and state as they were.
    const done = probe(tally, [name, `${name}.step`], () => (opt.step(), params), { state: () => stateOf(params, opt) });
    if (done === undefined) return;
    // A NaN or ±Infinity gradient is refused by default (nonFinite: "error"), never written into the weights.
    if (!finiteGrads) throw new Error(`${name}.step: accepted a non-finite gradient`);
    if (tameGrads) checkFinite(`${name}.step`, params);
  }
}

test("fuzz: optimizer constructors and steps with random options and gradients", () => {
  fc.assert(fc.property(caseArb, ([name, specs, options, steps]) => {
    const params = specs.map(([p, , frozen]) => new N.Parameter(make(p).value, !frozen));
    const Class = CLASSES[name as keyof typeof CLASSES];
    const opt = probe(tally, name, labelled(`new ${name}`, [options], () => new Class(params, options as never)), { watch: params });
    if (opt === undefined) return;
    stepAll(name, params, specs.map(([, g, frozen]) => (frozen ? null : g)), opt, steps);
  }), runs(1000));
});

/** Issue 11: an unknown key (a typo) is refused, with the key it resembles. */
test("SGD refuses an unknown option key (a typo of momentum)", () => {
  const p = new N.Parameter(tensor([1, 2]).value);
  expect(() => new N.SGD([p], { lr: 0.1, momentun: 0.9 } as never)).toThrow(/^SGD: unknown option "momentun" \(did you mean "momentum"\?\)/);
});

/** Issue 11: step() refuses a NaN gradient, naming the parameter, and writes nothing. */
test("SGD.step() refuses a NaN gradient and leaves the parameter as it was", () => {
  const p = new N.Parameter(tensor([1, 2]).value);
  p.grad = tensor([Number.NaN, 1]);
  const opt = new N.SGD([p], { lr: 0.1 });
  expect(() => opt.step()).toThrow(/^SGD/);
  expect(Array.from(p.data)).toEqual([1, 2]);
});

/** Every gradient's shape is checked before the first parameter is written. */
test("a wrong-shaped gradient on the second parameter leaves the first one as it was", () => {
  const [a, b] = [new N.Parameter(tensor([1, 2]).value), new N.Parameter(tensor([3]).value)];
  a.grad = tensor([1, 1]);
  b.grad = tensor([1, 1]);
  const opt = new N.SGD([a, b], { lr: 0.5 });
  expect(() => opt.step()).toThrow(/^SGD\.step: gradient of parameter 1 has the wrong shape/);
  expect(Array.from(a.data)).toEqual([1, 2]);
  expect(Array.from(b.data)).toEqual([3]);
});

/**
 * RMSprop (centered): s = v − ḡ² where v = fround(g²) and ḡ = fround(g) are float32 slots, so s
 * can round below 0 (g = 0.3 with α = 0 gives v − ḡ² ≈ −1.5e-9) and √s was NaN. s is clamped at 0.
 */
test("centered RMSprop keeps the weights finite when v − ḡ² rounds below 0", () => {
  const g = Math.fround(0.3);
  expect(Math.fround(g * g) - g * g).toBeLessThan(0); // the rounding the clamp is for
  const p = new N.Parameter(tensor([0]).value);
  p.grad = tensor([0.3]);
  new N.RMSprop([p], { lr: 0.01, alpha: 0, eps: 1e-8, centered: true }).step();
  // s = 0 after the clamp: the step is lr·g/(√0 + ε) = lr·g/ε.
  expect(p.data[0]).toBeCloseTo(-0.01 * g / 1e-8, -2);
});
