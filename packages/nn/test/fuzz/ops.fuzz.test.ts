/**
 * Fuzzing @zerograd/autograd's ops: random shapes (empty dimensions included), axes, dtypes,
 * option bags and values (NaN, ±Infinity, ±0, 1e±38). Each call returns (finite values from
 * tame inputs where the op is defined everywhere, gradients included) or throws a contract
 * error naming the op, and never changes its inputs.
 */
import * as A from "@zerograd/autograd";
import type { Tensor } from "@zerograd/autograd";
import fc from "fast-check";
import { expect, test } from "vitest";
import { Tally, type TensorSpec, axisArb, expectContractError, junk, make, optionsArb, partnerShapeArb, probe, runs, shapeArb, tensorArb, tensorSpecArb } from "./harness.js";

const tally = new Tally("autograd ops");

/** Runs `f`, then (when the result needs a gradient) backward through sum(result); returns the result and the gradients. */
function withBackward(f: () => Tensor | Tensor[], inputs: readonly Tensor[]): () => Tensor[] {
  return () => {
    const out = f();
    const outs = Array.isArray(out) ? out : [out];
    const needs = outs.filter((y) => y.requiresGrad);
    if (needs.length === 0) return outs;
    A.backward(needs.map((y) => A.sum(y)).reduce((a, b) => A.add(a, b)));
    return [...outs, ...inputs.flatMap((x) => (x.grad ? [x.grad] : []))];
  };
}

/** One probed call of op `name` on tensors built from `specs`; finite output expected when `total` and every input is tame and non-empty. */
function call(name: string, specs: readonly TensorSpec[], f: (...xs: Tensor[]) => Tensor | Tensor[], total: boolean, alsoNamed: readonly string[] = []): void {
  const xs = specs.map(make);
  const finite = total && specs.every((s) => s.tame && s.values.length > 0);
  probe(tally, [name, ...alsoNamed], withBackward(() => f(...xs), xs), { watch: xs, finite });
}

const UNARY_TOTAL = ["neg", "abs", "sign", "exp", "expm1", "square", "sin", "cos", "tanh", "erf", "sigmoid", "relu", "gelu", "softplus"] as const;
const UNARY_PARTIAL = ["log", "log1p", "sqrt", "rsqrt", "reciprocal"] as const;

test("fuzz: unary elementwise ops", () => {
  const ops = [...UNARY_TOTAL, ...UNARY_PARTIAL];
  fc.assert(fc.property(fc.constantFrom(...ops), tensorArb(), (name, x) => {
    call(name, [x], (t) => (A[name] as (t: Tensor) => Tensor)(t), (UNARY_TOTAL as readonly string[]).includes(name));
  }), runs(600));
});

test("fuzz: parametrised unary ops (leakyRelu, elu, clip)", () => {
  const param = fc.oneof({ weight: 3, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) }, { weight: 1, arbitrary: junk });
  fc.assert(fc.property(fc.constantFrom("leakyRelu", "elu", "clip"), tensorArb(), param, param, (name, x, p, q) => {
    const finite = typeof p === "number" && Number.isFinite(p) && (name !== "clip" || (typeof q === "number" && Number.isFinite(q)));
    if (name === "clip") call(name, [x], (t) => A.clip(t, p as number, q as number), finite);
    else call(name, [x], (t) => A[name as "elu"](t, p as number), finite);
  }), runs(300));
});

const BINARY_TOTAL = ["add", "sub", "mul", "maximum", "minimum"] as const;
const BINARY = [...BINARY_TOTAL, "div", "pow"] as const;
const pairArb = shapeArb().chain((s) => fc.tuple(tensorSpecArb(s), partnerShapeArb(s).chain(tensorSpecArb)));

test("fuzz: binary ops with broadcasting, and where", () => {
  fc.assert(fc.property(fc.constantFrom(...BINARY, "where"), pairArb, fc.boolean(), (name, [a, b], swap) => {
    const [x, y] = swap ? [b, a] : [a, b];
    if (name === "where") call("where", [x, y], (c, v) => A.where(A.gt(c, 0), v, c), true);
    else call(name, [x, y], (s, t) => A[name](s, t), (BINARY_TOTAL as readonly string[]).includes(name));
  }), runs(600));
});

const REDUCTIONS = ["sum", "mean", "prod", "variance", "logSumExp", "max", "min", "argmax", "argmin"] as const;
/** Composed reductions may report a check of the op they are built on. */
const REDUCTION_ALIASES: Record<string, string[]> = { mean: ["sum"], variance: ["mean", "sum"], logSumExp: ["max", "sum"] };

test("fuzz: reductions with axes and keepDims", () => {
  const caseArb = tensorArb().chain((x) => fc.tuple(fc.constant(x), optionsArb({ axis: axisArb(x.shape.length), keepDims: fc.boolean() })));
  fc.assert(fc.property(fc.constantFrom(...REDUCTIONS), caseArb, (name, [x, options]) => {
    const total = name !== "max" && name !== "min" && name !== "argmax" && name !== "argmin" && !x.shape.includes(0);
    call(name, [x], (t) => (A[name] as (t: Tensor, o: unknown) => Tensor)(t, options), total, REDUCTION_ALIASES[name]);
  }), runs(800));
});

test("fuzz: softmax and logSoftmax over random axes", () => {
  const caseArb = tensorArb().chain((x) => fc.tuple(fc.constant(x), axisArb(x.shape.length)));
  fc.assert(fc.property(fc.constantFrom("softmax", "logSoftmax"), caseArb, (name, [x, axis]) => {
    call(name, [x], (t) => A[name as "softmax"](t, axis as number), true);
  }), runs(400));
});

/** Movement ops with random (often wrong) shape arguments. */
const MOVEMENT: Record<string, (x: Tensor, arg: unknown, extra: Tensor) => Tensor | Tensor[]> = {
  reshape: (x, a) => A.reshape(x, a as number[]),
  transpose: (x, a) => A.transpose(x, a as number[]),
  expandDims: (x, a) => A.expandDims(x, a as number),
  squeeze: (x, a) => A.squeeze(x, a as number),
  flatten: (x, a) => A.flatten(x, a as number),
  broadcastTo: (x, a) => A.broadcastTo(x, a as number[]),
  sumToShape: (x, a) => A.sumToShape(x, a as number[]),
  slice: (x, a) => A.slice(x, a as never),
  pad: (x, a) => A.pad(x, a as [number, number][]),
  concat: (x, a, y) => A.concat([x, y], a as number),
  stack: (x, a, y) => A.stack([x, y], a as number),
  split: (x, a) => A.split(x, a as number),
  take: (x, a) => A.take(x, a as number[]),
};

const smallInt = fc.integer({ min: -4, max: 4 });
const movementArg = fc.oneof(
  { weight: 3, arbitrary: smallInt },
  { weight: 4, arbitrary: fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 4 }) },
  { weight: 3, arbitrary: fc.array(fc.tuple(smallInt, smallInt), { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.array(fc.record({ start: smallInt, stop: smallInt, step: fc.constantFrom(1, 2, -1, 0) }, { requiredKeys: [] }), { maxLength: 4 }) },
  { weight: 1, arbitrary: junk },
);

test("fuzz: movement ops", () => {
  const caseArb = tensorArb().chain((x) => fc.tuple(fc.constant(x), partnerShapeArb(x.shape).chain(tensorSpecArb)));
  fc.assert(fc.property(fc.constantFrom(...Object.keys(MOVEMENT)), caseArb, movementArg, (name, [x, y], arg) => {
    call(name, [x, y], (t, u) => MOVEMENT[name]!(t, arg, u), true);
  }), runs(800));
});

test("fuzz: matmul", () => {
  const caseArb = shapeArb({ minRank: 1, maxRank: 4 }).chain((s) => {
    const k = s[s.length - 1]!;
    // The partner's second-to-last dimension is usually the shared one.
    const partner = fc.tuple(partnerShapeArb(s.slice(0, -2)), fc.oneof(fc.constant(k), fc.integer({ min: 0, max: 3 })), fc.integer({ min: 0, max: 3 }), fc.nat({ max: 4 }))
      .map(([batch, inner, cols, form]) => (form === 0 ? [inner] : [...batch, inner, cols]));
    return fc.tuple(tensorSpecArb(s), partner.chain(tensorSpecArb));
  });
  fc.assert(fc.property(caseArb, ([a, b]) => call("matmul", [a, b], A.matmul, true)), runs(400));
});

const pairOpt = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 })));
const paddingOpt = fc.oneof(fc.constantFrom("valid", "same", "full"), fc.integer({ min: -1, max: 2 }), fc.constant([[1, 0], [0, 1]]));
const imageArb = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 2 }))
  .chain((s) => fc.oneof({ weight: 5, arbitrary: fc.constant(s as number[]) }, { weight: 1, arbitrary: shapeArb({ maxRank: 5 }) }))
  .chain(tensorSpecArb);

test("fuzz: conv2d", () => {
  const filterArb = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })).chain((s) => tensorSpecArb(s));
  const opts = optionsArb({ strides: pairOpt, padding: paddingOpt, dilations: pairOpt });
  fc.assert(fc.property(imageArb, filterArb, opts, (x, w, o) => {
    call("conv2d", [x, w], (s, t) => A.conv2d(s, t, o as never), true);
  }), runs(400));
});

test("fuzz: maxPool2d and avgPool2d", () => {
  const opts = optionsArb({ poolSize: pairOpt, strides: pairOpt, padding: paddingOpt });
  fc.assert(fc.property(fc.constantFrom("maxPool2d", "avgPool2d"), imageArb, opts, (name, x, o) => {
    call(name, [x], (t) => A[name as "maxPool2d"](t, o as never), true);
  }), runs(400));
});

test("the probe itself refuses what the contract forbids", () => {
  const x = A.tensor([1, 2]);
  expect(() => probe(tally, "f", () => { throw new Error("f: plain"); })).toThrow(/outside the contract/);
  expect(() => probe(tally, "f", () => { throw new TypeError("g: other op"); })).toThrow(/does not name the op/);
  expect(() => probe(tally, "f", () => { x.value.data[0] = 5; throw new RangeError("f: bad"); }, { watch: [x] })).toThrow(/changed after a throw/);
  expect(() => probe(tally, "f", () => A.log(A.tensor([0])), { finite: true })).toThrow(/non-finite/);
});

test("arguments of the wrong kind that used to escape the contract now get an error naming the op", () => {
  const x = A.ones([2, 2]);
  const image = A.ones([1, 3, 3, 1]);
  const filter = A.ones([2, 2, 1, 1]);
  const cases: [string, () => unknown][] = [
    ["softmax", () => A.softmax(x, Symbol.for("x") as never)],
    ["sum", () => A.sum(x, { axis: 10n as never })],
    ["broadcastTo", () => A.broadcastTo(x, 2 as never)],
    ["sumToShape", () => A.sumToShape(A.ones([0, 2, 1]), -1 as never)],
    ["reshape", () => A.reshape(x, null as never)],
    ["squeeze", () => A.squeeze(A.ones([1]), "" as never)],
    ["split", () => A.split(x, "a" as never)],
    ["argmax", () => A.argmax(x, null as never)],
    ["clip", () => A.clip(x, Symbol.for("x") as never, 1)],
    ["elu", () => A.elu(x, 10n as never)],
    ["conv2d", () => A.conv2d(image, filter, null as never)],
    ["conv2d", () => A.conv2d(A.ones([2, 0, 5, 1]), A.ones([3, 1, 1, 1]), { strides: 3, padding: 2 ** 53 })],
    ["conv2d", () => A.conv2d(image, filter, { padding: [1, "a"] as never })],
    ["maxPool2d", () => A.maxPool2d(image, undefined as never)],
    ["avgPool2d", () => A.avgPool2d(image, { poolSize: 2, strides: null as never })],
  ];
  for (const [op, call] of cases) expectContractError(op, call);
});

// Wrong-kind arguments the op wrappers (autograd/src/ops/*) used to read before checking them.
test("reductions refuse a null options bag, naming the op", () => {
  for (const op of ["sum", "max", "min", "prod", "mean", "variance", "logSumExp"] as const) {
    expectContractError(op, () => A[op](A.ones([2]), null as never));
    expect(() => A[op](A.ones([2]), null as never)).toThrow(new RegExp(`^${op}: options must be an object, got null$`));
  }
});
test("transpose, slice and pad refuse arguments that are not arrays of the right kind", () => {
  expect(() => A.transpose(A.ones([2, 2]), 5 as never)).toThrow(/^transpose: perm must be an array, got 5$/);
  expect(() => A.slice(A.ones([2, 2]), 5 as never)).toThrow(/^slice: ranges must be an array, got 5$/);
  expect(() => A.pad(A.ones([2, 2]), 5 as never)).toThrow(/^pad: pads must be an array, got 5$/);
  expect(() => A.pad(A.ones([2, 2]), [1, 2] as never)).toThrow(/^pad: pad widths must be non-negative integers, got 1$/);
  expect(() => A.pad(A.ones([2, 2]), [[1, 1], [1]] as never)).toThrow(/^pad: pad widths must be non-negative integers, got \[1\]$/);
  // Still valid: a permutation, ranges and pairs.
  expect(A.transpose(A.ones([2, 3]), [1, 0]).shape).toEqual([3, 2]);
  expect(A.pad(A.ones([2, 2]), [[1, 0], [0, 2]]).shape).toEqual([3, 4]);
});
test("take and scatterAdd name themselves for indices that are not numbers", () => {
  expect(() => A.take(A.ones([2]), [{}] as never)).toThrow(/^take: an index must be a number, got Object$/);
  expect(() => A.take(A.ones([2]), "01" as never)).toThrow(/^take: indices must be an array, got "01"$/);
  expect(() => A.scatterAdd(A.ones([1]), [null] as never, [2])).toThrow(/^scatterAdd: an index must be a number, got null$/);
  expect(Array.from(A.take(A.tensor([5, 6, 7]), new Int32Array([2, 0])).data)).toEqual([7, 5]);
});
