/**
 * Walks the op table: every op in OPS and every composite must have an entry here (keyed by its
 * name), with a worked example, a float64 gradcheck and a broadcast-shape case, so a new op
 * cannot ship untested. Also checks the table against the exported functions and Tensor methods.
 */
import { describe, expect, test } from "vitest";
import * as A from "@zerograd/autograd";
import { COMPOSITES, OPS, type OpName, type Tensor, apply, gradients, sum } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import type { NestedArray, Shape } from "@zerograd/tensor";
import { expectGradcheck, randn64, t64, uniform64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

type Name = OpName | (typeof COMPOSITES)[number];

interface OpCase {
  /** The op through its public function (internal ops through apply). */
  f: (...xs: Tensor[]) => Tensor;
  /** Worked by hand: the output and the gradients of Σ w ⊙ f(inputs) (w = 1 unless given). */
  example: { inputs: NestedArray[]; out: NestedArray; grads: NestedArray[]; weights?: NestedArray };
  /** Where gradcheck samples: standard normal (default) or uniform in [0.5, 2). */
  domain?: "positive";
  /** Input shapes, each optionally broadcast (a stride-0 view) to a larger shape before f. */
  broadcast: { shapes: Shape[]; to?: (Shape | undefined)[] };
}

const LN2 = Math.LN2, LN3 = Math.log(3), E = Math.E;
const x23 = [[1, 2, 3], [4, 5, 6]];
const x44 = [[[[0], [1], [2], [3]], [[4], [5], [6], [7]], [[8], [9], [10], [11]], [[12], [13], [14], [15]]]];
const image = [[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]];
const covered = [[[[1], [2], [1]], [[2], [4], [2]], [[1], [2], [1]]]]; // windows of 2×2 covering each pixel of a 3×3 image
const elementwise = (shape: Shape = [3, 1], to: Shape = [2, 3, 4]) => ({ shapes: [shape], to: [to] });
const pairs = { shapes: [[16, 1, 5], [4, 5]] };
const unary = (f: (x: Tensor) => Tensor, x: number[], out: number[], grad: number[], domain?: "positive"): OpCase =>
  ({ f, example: { inputs: [x], out, grads: [grad] }, domain, broadcast: elementwise() });
const binary = (f: (a: Tensor, b: Tensor) => Tensor, out: number[][], da: number[][], db: number[], domain?: "positive"): OpCase =>
  ({ f, example: { inputs: [[[1], [2]], [3, 4, 5]], out, grads: [da, db] }, domain, broadcast: pairs });
const along1 = (f: (x: Tensor, o: A.ReduceOptions) => Tensor, out: number[], grad: number[][]): OpCase =>
  ({ f: (x) => f(x, { axis: 1 }), example: { inputs: [x23], out, grads: [grad] }, broadcast: elementwise([3, 1], [3, 4]) });
const phi1 = Math.exp(-0.5) / Math.sqrt(2 * Math.PI), PHI1 = 0.8413447460685429;
const sigma = (v: number) => 1 / (1 + Math.exp(-v));

const cases: Record<Name, OpCase> = {
  neg: unary(A.neg, [1, -2], [-1, 2], [-1, -1]),
  abs: unary(A.abs, [-3, 2], [3, 2], [-1, 1]),
  sign: unary(A.sign, [-3, 2], [-1, 1], [0, 0]),
  exp: unary(A.exp, [0, 1], [1, E], [1, E]),
  expm1: unary(A.expm1, [0, 1], [0, E - 1], [1, E]),
  log: unary(A.log, [1, 2], [0, LN2], [1, 0.5], "positive"),
  log1p: unary(A.log1p, [0, 1], [0, LN2], [1, 0.5], "positive"),
  sqrt: unary(A.sqrt, [4, 0.25], [2, 0.5], [0.25, 1], "positive"), // 1/(2√x)
  rsqrt: unary(A.rsqrt, [4, 0.25], [0.5, 2], [-1 / 16, -4], "positive"), // −½ x^(−3/2)
  square: unary(A.square, [-3, 0.5], [9, 0.25], [-6, 1]),
  reciprocal: unary(A.reciprocal, [4, -0.5], [0.25, -2], [-1 / 16, -4], "positive"),
  sin: unary(A.sin, [0, Math.PI / 3], [0, Math.sqrt(3) / 2], [1, 0.5]),
  cos: unary(A.cos, [0, Math.PI / 6], [1, Math.sqrt(3) / 2], [0, -0.5]),
  tanh: unary(A.tanh, [0, LN3], [0, 0.8], [1, 0.36]), // tanh(ln 3) = 0.8
  erf: unary(A.erf, [0, 1], [0, 0.8427007929497149], [2 / Math.sqrt(Math.PI), 2 / (Math.sqrt(Math.PI) * E)]),
  sigmoid: unary(A.sigmoid, [0, LN3], [0.5, 0.75], [0.25, 0.1875]),
  relu: unary(A.relu, [-1, 2], [0, 2], [0, 1]),
  gelu: unary(A.gelu, [0, 1], [0, PHI1], [0.5, PHI1 + phi1]),
  softplus: unary(A.softplus, [0, LN3], [LN2, 2 * LN2], [0.5, sigma(LN3)]),
  leakyRelu: unary((x) => A.leakyRelu(x, 0.1), [-2, 3], [-0.2, 3], [0.1, 1]),
  elu: unary((x) => A.elu(x, 2), [-LN2, 1], [-1, 1], [1, 1]), // α(e^(−ln 2) − 1) = −1, slope α·e^(−ln 2) = 1
  clip: unary((x) => A.clip(x, 0, 1), [-1, 0.5, 2], [0, 0.5, 1], [0, 1, 0]),
  // a [2,1] ⊙ b [3]; ∂/∂a sums over b's 3 columns, ∂/∂b over a's 2 rows
  add: binary(A.add, [[4, 5, 6], [5, 6, 7]], [[3], [3]], [2, 2, 2]),
  sub: binary(A.sub, [[-2, -3, -4], [-1, -2, -3]], [[3], [3]], [-2, -2, -2]),
  mul: binary(A.mul, [[3, 4, 5], [6, 8, 10]], [[12], [12]], [3, 3, 3]),
  div: binary(A.div, [[1 / 3, 1 / 4, 1 / 5], [2 / 3, 2 / 4, 2 / 5]], [[47 / 60], [47 / 60]], [-3 / 9, -3 / 16, -3 / 25], "positive"),
  // ∂/∂aᵢ = Σⱼ bⱼ aᵢ^(bⱼ−1); ∂/∂bⱼ = Σᵢ aᵢ^bⱼ ln aᵢ = 2^bⱼ ln 2
  pow: binary(A.pow, [[1, 1, 1], [8, 16, 32]], [[12], [3 * 4 + 4 * 8 + 5 * 16]], [8 * LN2, 16 * LN2, 32 * LN2], "positive"),
  maximum: binary(A.maximum, [[3, 4, 5], [3, 4, 5]], [[0], [0]], [2, 2, 2]),
  minimum: binary(A.minimum, [[1, 1, 1], [2, 2, 2]], [[3], [3]], [0, 0, 0]),
  where: {
    f: (a, b) => A.where(A.tensor([[1], [0]]), a, b),
    example: { inputs: [[1, 2, 3], [[10], [20]]], out: [[1, 2, 3], [20, 20, 20]], grads: [[1, 1, 1], [[0], [3]]] },
    broadcast: { shapes: [[3], [2, 1]] },
  },
  sum: along1(A.sum, [6, 15], [[1, 1, 1], [1, 1, 1]]),
  max: along1(A.max, [3, 6], [[0, 0, 1], [0, 0, 1]]),
  min: along1(A.min, [1, 4], [[1, 0, 0], [1, 0, 0]]),
  prod: along1(A.prod, [6, 120], [[6, 3, 2], [30, 24, 20]]),
  reshape: { f: (x) => A.reshape(x, [x.size / 2, 2]), example: { inputs: [x23], out: [[1, 2], [3, 4], [5, 6]], weights: [[1, 2], [3, 4], [5, 6]], grads: [x23] }, broadcast: elementwise() },
  transpose: { f: (x) => A.transpose(x), example: { inputs: [x23], out: [[1, 4], [2, 5], [3, 6]], weights: [[10, 40], [20, 50], [30, 60]], grads: [[[10, 20, 30], [40, 50, 60]]] }, broadcast: elementwise() },
  broadcastTo: { f: (x) => A.broadcastTo(x, [3, 2]), example: { inputs: [[1, 2]], out: [[1, 2], [1, 2], [1, 2]], grads: [[3, 3]] }, broadcast: { shapes: [[3, 1]] } },
  sumToShape: { f: (x) => A.sumToShape(x, [2]), example: { inputs: [[[1, 2], [3, 4]]], out: [4, 6], weights: [1, 10], grads: [[[1, 10], [1, 10]]] }, broadcast: elementwise([3, 1], [2, 3, 2]) },
  slice: { f: (x) => A.slice(x, [{ start: 1, step: 2 }]), example: { inputs: [[0, 1, 2, 3, 4, 5]], out: [1, 3, 5], weights: [10, 30, 50], grads: [[0, 10, 0, 30, 0, 50]] }, broadcast: elementwise([3, 1], [3, 4]) },
  sliceAdjoint: {
    f: (x) => apply(OPS.sliceAdjoint, [x], { shape: [4, ...x.shape.slice(1)], ranges: [{ start: 1, stop: 3 }] }),
    example: { inputs: [[7, 8]], out: [0, 7, 8, 0], weights: [1, 2, 3, 4], grads: [[2, 3]] },
    broadcast: elementwise([2, 1], [2, 3]),
  },
  take: { f: (x) => A.take(x, [2, 0, 2], -1), example: { inputs: [[10, 20, 30]], out: [30, 10, 30], weights: [1, 2, 4], grads: [[2, 0, 5]] }, broadcast: elementwise([3, 1], [3, 4]) },
  scatterAdd: { f: (x) => A.scatterAdd(x, [2, 0, 2], [3, ...x.shape.slice(1)]), example: { inputs: [[1, 2, 4]], out: [2, 0, 5], weights: [10, 20, 30], grads: [[30, 10, 30]] }, broadcast: elementwise([3, 1], [3, 4]) },
  concat: {
    f: (a, b) => A.concat([a, b]),
    example: { inputs: [[[1, 2]], [[3, 4], [5, 6]]], out: [[1, 2], [3, 4], [5, 6]], weights: [[1, 2], [3, 4], [5, 6]], grads: [[[1, 2]], [[3, 4], [5, 6]]] },
    broadcast: { shapes: [[1, 3], [2, 1]], to: [[2, 3], [2, 3]] },
  },
  // d/dA Σ AB = 1·Bᵀ (row sums of B), d/dB = Aᵀ·1 (column sums of A)
  matmul: { f: A.matmul, example: { inputs: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], out: [[19, 22], [43, 50]], grads: [[[11, 15], [11, 15]], [[4, 4], [6, 6]]] }, broadcast: { shapes: [[2, 1, 3, 4], [5, 4, 2]] } },
  // exponentials 1, 2, 3: y = [1, 2, 3]/6; with w = e₁: softmax y ⊙ (w − y₁), logSoftmax w − y
  softmax: { f: (x) => A.softmax(x), example: { inputs: [[0, LN2, LN3]], out: [1 / 6, 2 / 6, 3 / 6], weights: [1, 0, 0], grads: [[5 / 36, -2 / 36, -3 / 36]] }, broadcast: elementwise() },
  logSoftmax: { f: (x) => A.logSoftmax(x), example: { inputs: [[0, LN2, LN3]], out: [-Math.log(6), Math.log(2 / 6), Math.log(3 / 6)], weights: [1, 0, 0], grads: [[5 / 6, -2 / 6, -3 / 6]] }, broadcast: elementwise() },
  im2col: {
    f: (x) => A.im2col(x, T.window2d("im2col", x.shape, 2, 2, {})),
    example: { inputs: [image], out: [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]], grads: [covered] },
    broadcast: { shapes: [[1, 3, 1, 1]], to: [[2, 3, 3, 1]] },
  },
  col2im: {
    f: (c) => A.col2im(c, T.window2d("col2im", [1, 3, 3, 1], 2, 2, {})),
    example: { inputs: [[[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]], out: covered, weights: image, grads: [[[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]] },
    broadcast: { shapes: [[4, 1]], to: [[4, 4]] },
  },
  maxPool2d: { f: (x) => A.maxPool2d(x, { poolSize: 2 }), example: { inputs: [x44], out: [[[[5], [7]], [[13], [15]]]], grads: [[[[[0], [0], [0], [0]], [[0], [1], [0], [1]], [[0], [0], [0], [0]], [[0], [1], [0], [1]]]]] }, broadcast: { shapes: [[1, 4, 1, 2]], to: [[2, 4, 4, 2]] } },
  maxPool2dAdjoint: {
    f: (g) => apply(OPS.maxPool2dAdjoint, [g], { argmax: Int32Array.of(5, 7, 13, 15), shape: [1, 4, 4, 1] }),
    example: { inputs: [[[[[1], [2]], [[3], [4]]]]], out: [[[[0], [0], [0], [0]], [[0], [1], [0], [2]], [[0], [0], [0], [0]], [[0], [3], [0], [4]]]], weights: x44, grads: [[[[[5], [7]], [[13], [15]]]]] },
    broadcast: { shapes: [[1, 2, 1, 1]], to: [[1, 2, 2, 1]] },
  },
  avgPool2d: { f: (x) => A.avgPool2d(x, { poolSize: 2 }), example: { inputs: [x44], out: [[[[2.5], [4.5]], [[10.5], [12.5]]]], weights: [[[[4], [8]], [[12], [16]]]], grads: [[[[[1], [1], [2], [2]], [[1], [1], [2], [2]], [[3], [3], [4], [4]], [[3], [3], [4], [4]]]]] }, broadcast: { shapes: [[1, 4, 1, 2]], to: [[2, 4, 4, 2]] } },
  avgPool2dAdjoint: {
    f: (g) => apply(OPS.avgPool2dAdjoint, [g], { options: { poolSize: 2 }, shape: [1, 4, 4, 1] }),
    example: { inputs: [[[[[4], [8]], [[12], [16]]]]], out: [[[[1], [1], [2], [2]], [[1], [1], [2], [2]], [[3], [3], [4], [4]], [[3], [3], [4], [4]]]], weights: x44, grads: [[[[[2.5], [4.5]], [[10.5], [12.5]]]]] },
    broadcast: { shapes: [[1, 2, 1, 1]], to: [[1, 2, 2, 1]] },
  },
  mean: along1(A.mean, [2, 5], [[1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]]),
  variance: along1(A.variance, [2 / 3, 2 / 3], [[-2 / 3, 0, 2 / 3], [-2 / 3, 0, 2 / 3]]), // 2(xᵢ − mean)/n
  logSumExp: { f: (x) => A.logSumExp(x), example: { inputs: [[0, LN2, LN3]], out: Math.log(6), grads: [[1 / 6, 2 / 6, 3 / 6]] }, broadcast: elementwise() },
  conv2d: {
    f: (x, w) => A.conv2d(x, w),
    example: { inputs: [image, [[[[1]], [[1]]], [[[1]], [[1]]]]], out: [[[[12], [16]], [[24], [28]]]], grads: [covered, [[[[12]], [[16]]], [[[24]], [[28]]]]] },
    broadcast: { shapes: [[1, 4, 1, 2], [2, 2, 2, 1]], to: [[2, 4, 4, 2], [2, 2, 2, 3]] },
  },
  stack: { f: (a, b) => A.stack([a, b], 1), example: { inputs: [[1, 2], [3, 4]], out: [[1, 3], [2, 4]], weights: [[1, 2], [3, 4]], grads: [[1, 3], [2, 4]] }, broadcast: { shapes: [[3, 1], [1, 4]], to: [[3, 4], [3, 4]] } },
  split: { f: (x) => A.split(x, [2, 3])[1]!, example: { inputs: [[1, 2, 3, 4, 5]], out: [3, 4, 5], weights: [7, 8, 9], grads: [[0, 0, 7, 8, 9]] }, broadcast: elementwise([5, 1], [5, 2]) },
  pad: { f: (x) => A.pad(x, [[1, 0], [0, 2]], 9), example: { inputs: [[[1, 2]]], out: [[9, 9, 9, 9], [1, 2, 9, 9]], weights: [[1, 1, 1, 1], [5, 6, 1, 1]], grads: [[[5, 6]]] }, broadcast: elementwise([3, 1], [3, 4]) },
  expandDims: { f: (x) => A.expandDims(x, 0), example: { inputs: [[1, 2]], out: [[1, 2]], weights: [[3, 4]], grads: [[3, 4]] }, broadcast: elementwise() },
  squeeze: { f: (x) => A.squeeze(x, 1), example: { inputs: [[[1], [2]]], out: [1, 2], weights: [7, 8], grads: [[[7], [8]]] }, broadcast: elementwise([3, 1], [3, 1]) },
  flatten: { f: (x) => A.flatten(x), example: { inputs: [[[[1, 2]], [[3, 4]]]], out: [[1, 2], [3, 4]], weights: [[1, 2], [3, 4]], grads: [[[[1, 2]], [[3, 4]]]] }, broadcast: elementwise() },
  mT: { f: (x) => A.mT(x), example: { inputs: [x23], out: [[1, 4], [2, 5], [3, 6]], weights: [[10, 40], [20, 50], [30, 60]], grads: [[[10, 20, 30], [40, 50, 60]]] }, broadcast: elementwise() },
  permute: { f: (x) => A.permute(x, [1, 0]), example: { inputs: [x23], out: [[1, 4], [2, 5], [3, 6]], weights: [[10, 40], [20, 50], [30, 60]], grads: [[[10, 20, 30], [40, 50, 60]]] }, broadcast: elementwise([3, 1], [3, 4]) },
};

const binaryOpsByName = { add: 1, sub: 1, mul: 1, div: 1, pow: 1, maximum: 1, minimum: 1, matmul: 1 };
const names = [...Object.keys(OPS), ...COMPOSITES] as Name[];

describe.each(names)("%s", (name) => {
  const c = cases[name];

  test("has an entry in this registry", () => {
    expect(c, `no test entry for ${name}: add a worked example, a gradcheck domain and a broadcast case`).toBeDefined();
  });
  if (!c) return;
  const inputs = () => c.example.inputs.map((v) => t64(v, true));

  test("worked example: value and gradients", () => {
    const xs = inputs();
    const y = c.f(...xs);
    expect(y).toBeAllclose(c.example.out, { atol: 1e-14 });
    const loss = sum(c.example.weights === undefined ? y : A.mul(y, t64(c.example.weights)));
    gradients(loss, xs).forEach((g, i) => expect(g).toBeAllclose(c.example.grads[i]!, { atol: 1e-14 }));
    if (name in OPS) expect(y.node?.op ?? OPS[name as OpName]).toBe(OPS[name as OpName]); // the function runs the table's record
  });

  test("float64 gradcheck", () => {
    const sample = c.example.inputs.map((v, i) => {
      const shape = t64(v).shape;
      return c.domain === "positive" ? uniform64(shape, 0.5, 2, 10 + i) : randn64(shape, 10 + i);
    });
    expectGradcheck((...xs) => c.f(...xs), sample);
  });

  test("broadcast shapes: gradients come back in the input shapes", () => {
    const xs = c.broadcast.shapes.map((s, i) => uniform64(s, 0.5, 1.5, 20 + i).requireGrad());
    const viewed = xs.map((x, i) => (c.broadcast.to?.[i] ? A.broadcastTo(x, c.broadcast.to[i]!) : x));
    const gs = gradients(sum(c.f(...viewed)), xs);
    gs.forEach((g, i) => {
      expect(g.shape).toEqual(c.broadcast.shapes[i]);
      expect(A.isFinite(g)).toBeAllclose(1);
    });
  });
});

describe("the table and the functions agree", () => {
  test("every op except the internal adjoints has an exported function of its name", () => {
    const internal = new Set(["sliceAdjoint", "maxPool2dAdjoint", "avgPool2dAdjoint"]);
    for (const name of [...Object.keys(OPS), ...COMPOSITES]) if (!internal.has(name)) expect(typeof (A as Record<string, unknown>)[name], name).toBe("function");
    for (const [name, op] of Object.entries(OPS)) expect(op.name).toBe(name);
  });

  test("every exported function is an op of the table, a composite, or listed here as something else", () => {
    const other = new Set([
      // no gradient: comparisons, logic, tests, indices
      "eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr", "logicalXor", "logicalNot", "isNaN", "isFinite", "argmax", "argmin", "oneHot", "constant",
      // creation
      "tensor", "zeros", "ones", "full", "zerosLike", "onesLike", "arange", "linspace", "eye", "randn", "rand", "randomUniform", "randomNormal",
      // the engine, modes and tools
      "Tensor", "NDArray", "Random", "ShapeError", "AnomalyError", "apply", "asTensor", "opTable", "named", "backward", "gradients", "grad", "valueAndGrad",
      "gradcheck", "toDot", "noGrad", "isGradEnabled", "withGradMode", "detectAnomaly", "setDetectAnomaly", "isAnomalyEnabled",
    ]);
    const known = new Set<string>([...Object.keys(OPS), ...COMPOSITES, ...other]);
    const exported = Object.keys(A).filter((k) => typeof (A as Record<string, unknown>)[k] === "function");
    expect(exported.filter((k) => !known.has(k))).toEqual([]);
  });

  test("every Tensor method calls the function of the same name", () => {
    const tools = new Set(["constructor", "item", "toArray", "detach", "requireGrad", "backward", "toString"]);
    const args: Record<string, unknown[]> = { reshape: [[6]], expandDims: [0], squeeze: [0] };
    const methods = Object.getOwnPropertyNames(A.Tensor.prototype).filter((m) => !tools.has(m) && typeof Object.getOwnPropertyDescriptor(A.Tensor.prototype, m)?.value === "function");
    expect(methods.length).toBeGreaterThan(25);
    for (const m of methods) {
      const x = uniform64([1, 2, 3], 0.5, 2, 1);
      const binaryArg = m === "matmul" ? [uniform64([1, 3, 3], 0.5, 2, 2)] : [uniform64([1, 1, 3], 0.5, 2, 2)];
      const a = args[m] ?? (m in OPS && OPS[m as OpName].name in { ...binaryOpsByName } ? binaryArg : []);
      const fn = (A as unknown as Record<string, (...v: unknown[]) => Tensor>)[m];
      expect(fn, `Tensor.${m} has no function of its name`).toBeTypeOf("function");
      const viaMethod = (x as unknown as Record<string, (...v: unknown[]) => Tensor>)[m]!(...a);
      expect(viaMethod).toBeAllclose(fn!(x, ...a));
    }
  });
});
