/**
 * Fuzzing @zerograd/nn's layers: constructors with random arguments and option bags (valid,
 * wrong-typed, unknown keys), then forward (in training and inference mode) with random inputs.
 * A constructor builds or throws a contract error naming the layer; forward returns finite
 * values from tame inputs, or throws one, without changing the layer's state or its input.
 */
import { sum } from "@zerograd/autograd";
import * as N from "@zerograd/nn";
import fc from "fast-check";
import { expect, test } from "vitest";
import { OP_NAMES, Tally, expectContractError, junk, labelled, make, optionsArb, probe, runs, shapeArb, tensorSpecArb } from "./harness.js";

const tally = new Tally("nn layers");

const dim = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5) }, { weight: 1, arbitrary: junk });
const pairArg = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), fc.constantFrom(0, [1, 2, 3]));
const weightFields = { seed: fc.integer({ min: 0, max: 100 }), dtype: fc.constantFrom("float32", "float64", "int8") };
const initName = fc.constantFrom("zeros", "ones", "glorotUniform", "heNormal", "lecunNormal", "nope");
const activationName = fc.constantFrom("relu", "tanh", "sigmoid", "softmax", "gelu", "nope");
const paddingArg = fc.oneof(fc.constantFrom("valid", "same", "full", 1, 0), fc.constant([[1, 0], [0, 1]]));

/** Each layer: its constructor from random arguments, and the input rank its forward expects. */
const LAYERS: Record<string, { build: fc.Arbitrary<() => N.Module>; rank: number }> = {
  Dense: { rank: 2, build: fc.tuple(dim, dim, optionsArb({ ...weightFields, bias: fc.boolean(), activation: activationName, weightInitializer: initName, biasInitializer: initName })).map(([i, o, opts]) => labelled("new Dense", [i, o, opts], () => new N.Dense(i as number, o as number, opts as never))) },
  Conv2D: { rank: 4, build: fc.tuple(dim, dim, pairArg, optionsArb({ ...weightFields, strides: pairArg, padding: paddingArg, dilations: pairArg, bias: fc.boolean(), activation: activationName })).map(([i, o, k, opts]) => labelled("new Conv2D", [i, o, k, opts], () => new N.Conv2D(i as number, o as number, k as never, opts as never))) },
  MaxPool2D: { rank: 4, build: fc.tuple(pairArg, optionsArb({ strides: pairArg, padding: paddingArg })).map(([k, opts]) => labelled("new MaxPool2D", [k, opts], () => new N.MaxPool2D(k as never, opts as never))) },
  AvgPool2D: { rank: 4, build: fc.tuple(pairArg, optionsArb({ strides: pairArg, padding: paddingArg })).map(([k, opts]) => labelled("new AvgPool2D", [k, opts], () => new N.AvgPool2D(k as never, opts as never))) },
  Dropout: { rank: 2, build: fc.tuple(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), junk), optionsArb({ seed: fc.nat() })).map(([r, opts]) => labelled("new Dropout", [r, opts], () => new N.Dropout(r as number, opts as never))) },
  BatchNormalization: { rank: 2, build: fc.tuple(dim, optionsArb({ eps: fc.double({ min: 1e-8, max: 1e-2 }), momentum: fc.double({ min: 0, max: 1, noNaN: true }), affine: fc.boolean(), dtype: weightFields.dtype })).map(([n, opts]) => labelled("new BatchNormalization", [n, opts], () => new N.BatchNormalization(n as number, opts as never))) },
  LayerNormalization: { rank: 2, build: fc.tuple(fc.oneof(dim, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 })), optionsArb({ eps: fc.double({ min: 1e-8, max: 1e-2 }), affine: fc.boolean() })).map(([s, opts]) => labelled("new LayerNormalization", [s, opts], () => new N.LayerNormalization(s as number, opts as never))) },
  LeakyReLU: { rank: 2, build: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), junk).map((a) => labelled("new LeakyReLU", [a], () => new N.LeakyReLU(a as number))) },
  ELU: { rank: 2, build: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), junk).map((a) => labelled("new ELU", [a], () => new N.ELU(a as number))) },
  Softmax: { rank: 2, build: fc.oneof(fc.integer({ min: -3, max: 2 }), junk).map((a) => labelled("new Softmax", [a], () => new N.Softmax(a as number))) },
  Flatten: { rank: 3, build: fc.oneof(fc.integer({ min: -3, max: 3 }), junk).map((a) => labelled("new Flatten", [a], () => new N.Flatten(a as number))) },
  GlobalAveragePooling: { rank: 3, build: fc.constant(() => new N.GlobalAveragePooling()) },
  ReLU: { rank: 2, build: fc.constant(() => new N.ReLU()) },
  GELU: { rank: 2, build: fc.constant(() => new N.GELU()) },
};

/** An input of the layer's rank with small dimensions (often matching its features), sometimes of another rank. */
const inputArb = (rank: number) => fc.oneof(
  { weight: 4, arbitrary: shapeArb({ minRank: rank, maxRank: rank, maxDim: 4 }) },
  { weight: 1, arbitrary: shapeArb({ maxRank: 5 }) },
).chain(tensorSpecArb);

test("fuzz: layer constructors and forward with random options and inputs", () => {
  const caseArb = fc.constantFrom(...Object.keys(LAYERS)).chain((name) => fc.tuple(fc.constant(name), LAYERS[name]!.build, inputArb(LAYERS[name]!.rank), fc.boolean()));
  fc.assert(fc.property(caseArb, ([name, build, input, training]) => {
    const layer = probe(tally, name, build);
    if (layer === undefined) return;
    layer.train(training);
    const x = make(input);
    // A layer's forward may report the check of an op it is composed of (as PyTorch's layers do).
    probe(tally, [name, ...OP_NAMES], () => {
      const y = layer.forward(x) as ReturnType<typeof sum>;
      if (y.requiresGrad) sum(y).backward();
      return [y, ...layer.parameters().flatMap((p) => (p.grad ? [p.grad] : []))];
    }, { watch: [x], state: () => layer.stateDict(), finite: input.tame && training === false && name !== "Dropout" });
  }), runs(1200));
});

test("layer arguments of the wrong kind that used to escape the contract now get an error naming the layer", () => {
  expectContractError("MaxPool2D", () => new N.MaxPool2D(2, { strides: 10n as never }));
  expectContractError("Conv2D", () => new N.Conv2D(1, 1, 2, { padding: 10n as never }));
  expectContractError("LayerNormalization", () => new N.LayerNormalization(null as never));
});

/** Sizes are integers ≥ 1 with no upper bound of their own: a parameter too large for one array is refused by the layer, not the allocator. */
test("new Dense(2 ** 53, 1) and other oversized layers throw an error naming the layer", () => {
  expect(() => new N.Dense(2 ** 53, 1)).toThrow(/^Dense: a parameter of shape \[1,9007199254740992\] has more elements than one array can hold/);
  expect(() => new N.BatchNormalization(2 ** 53)).toThrow(/^BatchNormalization: numFeatures must be < 2³¹/);
  expect(() => new N.Dense(2 ** 16, 2 ** 16)).toThrow(/^Dense: a parameter of shape \[65536,65536\] has more elements than one array can hold/);
  expectContractError("Embedding", () => new N.Embedding(2 ** 40, 4));
  expectContractError("Conv2D", () => new N.Conv2D(2 ** 20, 2 ** 20, 3));
  expect(new N.Dense(3, 2).weight.shape).toEqual([2, 3]);
});
