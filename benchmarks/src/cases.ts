/**
 * The workloads, each written once per library from the same seeded input data. A case builds a
 * runner per library; `run()` is exactly what gets timed and returns the outputs as flat arrays,
 * so the very numbers that were timed can be compared across libraries.
 */
import * as zg from "@zerograd/autograd";
import { Random } from "@zerograd/tensor";
import { readTf, tf } from "./tfjs.js";

export type Library = "zerograd" | "tfjs-cpu" | "tfjs-wasm";
export const LIBRARIES: readonly Library[] = ["zerograd", "tfjs-cpu", "tfjs-wasm"];

/** A prepared workload: `run` computes it once and returns every output read back to JavaScript. */
export interface Runner {
  run(): ArrayLike<number>[];
  dispose(): void;
}

export interface BenchCase {
  /** The table it belongs to: matmul, elementwise, reduction, softmax, conv2d, train-step. */
  suite: string;
  op: string;
  size: string;
  /** Floating-point operations per call (multiply and add counted separately), where meaningful. */
  flops?: number;
  zerograd(): Runner;
  /** Builds the tfjs version on whichever tfjs backend is active. */
  tfjs(): Runner;
}

/** Seeded float32 data shared by every library. */
interface Data {
  shape: number[];
  values: Float32Array;
}

function normal(shape: number[], seed: number, scale = 1): Data {
  const rng = new Random(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = scale * rng.normal();
  return { shape, values };
}

function oneHot(rows: number, classes: number, seed: number): Data {
  const rng = new Random(seed);
  const values = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) values[r * classes + Math.floor(rng.uniform(0, classes))] = 1;
  return { shape: [rows, classes], values };
}

const toZg = (d: Data): zg.Tensor => zg.tensor(d.values, { shape: d.shape });
const toTf = (d: Data): tf.Tensor => tf.tensor(d.values, d.shape, "float32");
const fmt = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/** A case whose zerograd and tfjs versions are one function of the inputs each. */
function simple(
  suite: string,
  op: string,
  inputs: Data[],
  zgFn: (...xs: zg.Tensor[]) => zg.Tensor,
  tfFn: (...xs: tf.Tensor[]) => tf.Tensor,
  options: { size?: string; flops?: number } = {},
): BenchCase {
  return {
    suite,
    op,
    size: options.size ?? inputs.map((d) => fmt(d.shape)).join(" · "),
    flops: options.flops,
    zerograd() {
      const xs = inputs.map(toZg);
      return { run: () => [zgFn(...xs).data], dispose() {} };
    },
    tfjs() {
      const xs = inputs.map(toTf);
      return { run: () => readTf(() => tfFn(...xs)), dispose: () => tf.dispose(xs) };
    },
  };
}

function matmulCase(batch: number | null, m: number, k: number, n: number, seed: number): BenchCase {
  const lead = batch === null ? [] : [batch];
  const a = normal([...lead, m, k], seed), b = normal([...lead, k, n], seed + 1);
  const size = batch === null && m === k && k === n ? `${n}×${n}` : `${fmt(a.shape)} · ${fmt(b.shape)}`;
  return simple("matmul", batch === null ? "matmul" : "batched matmul", [a, b], zg.matmul, (x, y) => tf.matMul(x, y), {
    size,
    flops: 2 * (batch ?? 1) * m * k * n,
  });
}

/** conv2d, NHWC input and [kh, kw, cin, cout] filter in both libraries, stride 1, 'same' padding. */
function conv2dCase(input: number[], filter: number[], seed: number): BenchCase {
  const [n, h, w] = input as [number, number, number, number];
  const [kh, kw, cin, cout] = filter as [number, number, number, number];
  return simple(
    "conv2d",
    "conv2d same",
    [normal(input, seed), normal(filter, seed + 1, 1 / Math.sqrt(kh * kw * cin))],
    (x, f) => zg.conv2d(x, f, { padding: "same" }),
    (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, "same"),
    { flops: 2 * n * h * w * kh * kw * cin * cout },
  );
}

/**
 * One training step of a two-layer perceptron: logits = relu(x·W1 + b1)·W2 + b2, loss = mean
 * softmax cross-entropy against one-hot labels, then the loss and its gradient for every
 * parameter. Both libraries compute the same formula, −mean(Σ y ⊙ logSoftmax(logits)).
 */
function mlpStepCase(batch: number, inputs: number, hidden: number, classes: number, seed: number): BenchCase {
  const x = normal([batch, inputs], seed), y = oneHot(batch, classes, seed + 1);
  const params = [
    normal([inputs, hidden], seed + 2, Math.sqrt(2 / inputs)),
    normal([hidden], seed + 3, 0.1),
    normal([hidden, classes], seed + 4, Math.sqrt(2 / hidden)),
    normal([classes], seed + 5, 0.1),
  ];
  const flops = 3 * 2 * batch * (inputs * hidden + hidden * classes); // forward matmuls + two per backward
  return {
    suite: "train-step",
    op: "MLP step (fwd+bwd)",
    size: `${inputs}→${hidden}→${classes}, batch ${batch}`,
    flops,
    zerograd() {
      const xs = toZg(x), ys = toZg(y);
      const ps = params.map(toZg);
      const loss = (w1: zg.Tensor, b1: zg.Tensor, w2: zg.Tensor, b2: zg.Tensor): zg.Tensor => {
        const h = zg.relu(zg.add(zg.matmul(xs, w1), b1));
        const logits = zg.add(zg.matmul(h, w2), b2);
        return zg.neg(zg.mean(zg.sum(zg.mul(ys, zg.logSoftmax(logits, -1)), { axis: -1 })));
      };
      const step = zg.valueAndGrad(loss, [0, 1, 2, 3]);
      return {
        run() {
          const [value, grads] = step(ps[0]!, ps[1]!, ps[2]!, ps[3]!);
          return [value.data, ...grads.map((g) => g.data)];
        },
        dispose() {},
      };
    },
    tfjs() {
      const xs = toTf(x), ys = toTf(y);
      const vars = params.map((p) => tf.variable(toTf(p)));
      const [w1, b1, w2, b2] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
      const loss = (): tf.Scalar => {
        const h = tf.relu(tf.add(tf.matMul(xs, w1), b1));
        const logits = tf.add(tf.matMul(h, w2), b2);
        return tf.neg(tf.mean(tf.sum(tf.mul(ys, tf.logSoftmax(logits, -1)), -1))) as tf.Scalar;
      };
      return {
        run: () =>
          readTf(() => {
            const { value, grads } = tf.variableGrads(loss, vars);
            return [value, ...vars.map((v) => grads[v.name]!)];
          }),
        dispose: () => tf.dispose([xs, ys, ...vars]),
      };
    },
  };
}

export interface CaseSizes {
  matmul: number[];
  batched: [number, number];
  elementwise: [number, number];
  softmax: [number, number];
  conv: { input: number[]; filter: number[] };
  mlp: { batch: number; inputs: number; hidden: number; classes: number };
}

/** The full benchmark: sizes that take a few minutes in all on 2 cores. */
export const FULL_SIZES: CaseSizes = {
  matmul: [64, 128, 256, 512],
  batched: [32, 128],
  elementwise: [1000, 1000],
  softmax: [1000, 1000],
  conv: { input: [8, 28, 28, 16], filter: [3, 3, 16, 32] },
  mlp: { batch: 128, inputs: 64, hidden: 128, classes: 10 },
};

/** Tiny sizes for the smoke test: every code path, in a moment. */
export const QUICK_SIZES: CaseSizes = {
  matmul: [8, 17],
  batched: [3, 9],
  elementwise: [7, 33],
  softmax: [5, 11],
  conv: { input: [2, 6, 5, 3], filter: [3, 3, 3, 4] },
  mlp: { batch: 9, inputs: 6, hidden: 7, classes: 4 },
};

export function buildCases(sizes: CaseSizes): BenchCase[] {
  const [rows, cols] = sizes.elementwise;
  const x = normal([rows, cols], 11), other = normal([rows, cols], 12), row = normal([cols], 13);
  const [bs, bn] = sizes.batched;
  return [
    ...sizes.matmul.map((n, i) => matmulCase(null, n, n, n, 100 + 2 * i)),
    matmulCase(bs, bn, bn, bn, 200),
    simple("elementwise", "add (broadcast row)", [x, row], zg.add, (a, b) => tf.add(a, b)),
    simple("elementwise", "mul", [x, other], zg.mul, (a, b) => tf.mul(a, b)),
    simple("elementwise", "exp", [x], zg.exp, (a) => tf.exp(a)),
    simple("elementwise", "sigmoid", [x], zg.sigmoid, (a) => tf.sigmoid(a)),
    simple("elementwise", "relu", [x], zg.relu, (a) => tf.relu(a)),
    simple("reduction", "sum axis 0", [x], (a) => zg.sum(a, { axis: 0 }), (a) => tf.sum(a, 0)),
    simple("reduction", "sum axis -1", [x], (a) => zg.sum(a, { axis: -1 }), (a) => tf.sum(a, -1)),
    simple("softmax", "softmax axis -1", [normal(sizes.softmax, 14, 3)], (a) => zg.softmax(a, -1), (a) => tf.softmax(a, -1)),
    conv2dCase(sizes.conv.input, sizes.conv.filter, 300),
    mlpStepCase(sizes.mlp.batch, sizes.mlp.inputs, sizes.mlp.hidden, sizes.mlp.classes, 400),
  ];
}

/** Cases whose suite or op contains `filter` (case-insensitive); all of them without one. */
export function filterCases(cases: BenchCase[], filter: string | undefined): BenchCase[] {
  if (!filter) return cases;
  const f = filter.toLowerCase();
  return cases.filter((c) => c.suite.toLowerCase().includes(f) || c.op.toLowerCase().includes(f));
}
