/**
 * The workloads, each written once per library from the same seeded input data. A case builds a
 * runner per library; `run()` is exactly what gets timed and returns the outputs as flat arrays,
 * so the very numbers that were timed can be compared across libraries.
 */
import * as zg from "@zerograd/autograd";
import { Random } from "@zerograd/tensor";
import { jaxArray, jit, np, readJax } from "./jax.js";
import { anomalyStepCase, cnnStepCase, maskedBceCase, mlpStepCase } from "./steps.js";
import { FULL_SEQUENCE, QUICK_SEQUENCE, type SequenceSizes, sequenceCases } from "./sequence.js";
import { readTf, tf } from "./tfjs.js";

/**
 * The implementations: zerograd with the kernels it picks by default (WebAssembly SIMD in Node),
 * zerograd with the plain-JS kernels forced, TensorFlow.js on its CPU and WebAssembly backends,
 * and jax-js (jitted) on its WebAssembly device.
 */
export type Library = "zerograd" | "zerograd-js" | "tfjs-cpu" | "tfjs-wasm" | "jax-js";
export const LIBRARIES: readonly Library[] = ["zerograd", "zerograd-js", "tfjs-cpu", "tfjs-wasm", "jax-js"];

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
  /** The jax-js version, where the case has one. */
  jax?(): Runner;
  /** Implementations that cannot run the case (e.g. tfjs-wasm has no conv filter gradient). */
  skip?: Library[];
  /** zerograd runs the case with this many threads (worker threads of @zerograd/tensor/node). */
  threads?: number;
}

/** Seeded float32 data shared by every library. */
export interface Data {
  shape: number[];
  values: Float32Array;
}

export function normal(shape: number[], seed: number, scale = 1): Data {
  const rng = new Random(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = scale * rng.normal();
  return { shape, values };
}

export const toZg = (d: Data): zg.Tensor => zg.tensor(d.values, { shape: d.shape });
export const toTf = (d: Data): tf.Tensor => tf.tensor(d.values, d.shape, "float32");
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
  const c = simple("matmul", batch === null ? "matmul" : "batched matmul", [a, b], zg.matmul, (x, y) => tf.matMul(x, y), {
    size,
    flops: 2 * (batch ?? 1) * m * k * n,
  });
  if (m * k * n >= 1024 ** 3) c.skip = ["tfjs-cpu"]; // seconds per call: it would take a minute of the run
  c.jax = () => {
    const [x, y] = [jaxArray(a.values, a.shape), jaxArray(b.values, b.shape)];
    const f = jit((p: np.Array, q: np.Array) => np.matmul(p, q));
    return { run: () => readJax([f(x.ref, y.ref)]), dispose: () => { x.dispose(); y.dispose(); f.dispose(); } };
  };
  return c;
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

export interface CaseSizes {
  matmul: number[];
  batched: [number, number];
  elementwise: [number, number];
  softmax: [number, number];
  conv: { input: number[]; filter: number[] };
  /** The MLP's layer widths and the batch sizes of its step. */
  mlp: { sizes: [number, number, number, number]; batches: number[] };
  cnnBatch: number;
  bce: [number, number];
  /** The sequence layers (default FULL_SEQUENCE). */
  sequence?: SequenceSizes;
}

/** The full benchmark: the workloads of the speed targets, a few minutes in all on 2 cores. */
export const FULL_SIZES: CaseSizes = {
  matmul: [64, 128, 256, 512, 1024],
  batched: [32, 128],
  elementwise: [1000, 1000],
  softmax: [1000, 1000],
  conv: { input: [8, 28, 28, 16], filter: [3, 3, 16, 32] },
  mlp: { sizes: [784, 256, 128, 10], batches: [16, 128, 512] },
  cnnBatch: 32,
  bce: [4096, 64],
};

/** Tiny sizes for the smoke test: every code path, in a moment. */
export const QUICK_SIZES: CaseSizes = {
  matmul: [8, 17],
  batched: [3, 9],
  elementwise: [7, 33],
  softmax: [5, 11],
  conv: { input: [2, 6, 5, 3], filter: [3, 3, 3, 4] },
  mlp: { sizes: [6, 7, 5, 4], batches: [9] },
  cnnBatch: 2,
  bce: [9, 7],
  sequence: QUICK_SEQUENCE,
};

/** zerograd's matmul with worker threads, beside its one-thread row of the same size. */
function threadedMatmulCase(n: number, threads: number, seed: number): BenchCase {
  const c = matmulCase(null, n, n, n, seed);
  return { ...c, op: `matmul, ${threads} threads`, threads, skip: LIBRARIES.filter((l) => l !== "zerograd") };
}

export function buildCases(sizes: CaseSizes): BenchCase[] {
  const [rows, cols] = sizes.elementwise;
  const x = normal([rows, cols], 11), other = normal([rows, cols], 12), row = normal([cols], 13);
  const [bs, bn] = sizes.batched;
  return [
    ...sizes.matmul.map((n, i) => matmulCase(null, n, n, n, 100 + 2 * i)),
    ...sizes.matmul.slice(-2).map((n) => threadedMatmulCase(n, 2, 100 + 2 * sizes.matmul.indexOf(n))),
    matmulCase(bs, bn, bn, bn, 200),
    simple("elementwise", "add (broadcast row)", [x, row], zg.add, (a, b) => tf.add(a, b)),
    simple("elementwise", "mul", [x, other], zg.mul, (a, b) => tf.mul(a, b)),
    simple("elementwise", "exp", [x], zg.exp, (a) => tf.exp(a)),
    simple("elementwise", "relu", [x], zg.relu, (a) => tf.relu(a)),
    simple("reduction", "sum axis -1", [x], (a) => zg.sum(a, { axis: -1 }), (a) => tf.sum(a, -1)),
    simple("softmax", "softmax axis -1", [normal(sizes.softmax, 14, 3)], (a) => zg.softmax(a, -1), (a) => tf.softmax(a, -1)),
    conv2dCase(sizes.conv.input, sizes.conv.filter, 300),
    ...sizes.mlp.batches.map((batch, i) => mlpStepCase(batch, sizes.mlp.sizes, 400 + 10 * i)),
    anomalyStepCase(sizes.mlp.batches[Math.min(1, sizes.mlp.batches.length - 1)]!, sizes.mlp.sizes, 410),
    cnnStepCase(sizes.cnnBatch, 500),
    maskedBceCase(sizes.bce[0], sizes.bce[1], 600),
    ...sequenceCases(sizes.sequence ?? FULL_SEQUENCE),
  ];
}

/** Cases whose suite or op contains `filter` (case-insensitive); all of them without one. */
export function filterCases(cases: BenchCase[], filter: string | undefined): BenchCase[] {
  if (!filter) return cases;
  const f = filter.toLowerCase();
  return cases.filter((c) => c.suite.toLowerCase().includes(f) || c.op.toLowerCase().includes(f));
}
