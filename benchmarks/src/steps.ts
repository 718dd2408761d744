/**
 * The training workloads of the speed targets, each written once per library from the same seeded
 * data: the MLP step and the CNN step (forward, backward, one Adam update) and the masked binary
 * cross-entropy from logits (forward and backward). Each `run()` returns the loss, the gradients
 * and (for steps) the updated parameters, so the first call of every library can be compared.
 */
import * as zg from "@zerograd/autograd";
import { binaryCrossEntropy } from "@zerograd/losses";
import { Adam } from "@zerograd/nn";
import type { BenchCase, Data, Runner } from "./cases.js";
import { normal, toTf, toZg } from "./cases.js";
import { type JaxArray, jaxArray, jit, nn as jnn, np, readJax, valueAndGrad } from "./jax.js";
import { readTf, tf } from "./tfjs.js";

/**
 * Adam's settings in every library. A small learning rate keeps the first update (≈ lr·sign(g))
 * within the agreement check even where a gradient near 0 rounds to opposite signs.
 */
const ADAM = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-7 };

function labels(rows: number, classes: number, seed: number): Data {
  const values = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) values[r * classes + ((r * 7 + seed) % classes)] = 1;
  return { shape: [rows, classes], values };
}

/** zerograd: loss(params) → backward → Adam step; returns loss, gradients and updated parameters. */
function zgStep(params: Data[], lossOf: (ps: zg.Tensor[]) => zg.Tensor): Runner {
  const ps = params.map((p) => zg.tensor(p.values.slice(), { shape: p.shape, requiresGrad: true }));
  const adam = new Adam(ps, { lr: ADAM.lr, betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps });
  return {
    run() {
      adam.zeroGrad();
      const loss = lossOf(ps);
      loss.backward();
      const grads = ps.map((p) => p.grad!.data.slice());
      adam.step();
      return [loss.data.slice(), ...grads, ...ps.map((p) => p.data.slice())];
    },
    dispose() {},
  };
}

/** tfjs: variableGrads then the Adam optimizer's applyGradients. */
function tfStep(params: Data[], lossOf: (vs: tf.Variable[]) => tf.Scalar): Runner {
  const vars = params.map((p) => tf.variable(toTf(p)));
  const adam = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  return {
    run() {
      const out: Float32Array[] = [];
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(vars), vars);
        out.push(value.dataSync() as Float32Array, ...vars.map((v) => grads[v.name]!.dataSync() as Float32Array));
        adam.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
      });
      return [...out, ...vars.map((v) => v.dataSync() as Float32Array)];
    },
    dispose: () => {
      adam.dispose();
      tf.dispose(vars);
    },
  };
}

/** jax-js: one jitted function computes loss, gradients and the Adam update of every parameter. */
function jaxStep(params: Data[], inputs: Data[], lossOf: (ps: JaxArray[], xs: JaxArray[]) => JaxArray): Runner {
  let ps = params.map((p) => jaxArray(p.values, p.shape));
  let ms = params.map((p) => np.zeros(p.shape)), vs = params.map((p) => np.zeros(p.shape));
  const xs = inputs.map((d) => jaxArray(d.values, d.shape));
  const lossAndGrad = valueAndGrad((p: JaxArray[], x: JaxArray[]) => lossOf(p, x));
  const step = jit((p: JaxArray[], m: JaxArray[], v: JaxArray[], x: JaxArray[], c1: JaxArray, c2: JaxArray) => {
    const [loss, grads] = lossAndGrad(p.map((pi) => pi.ref), x);
    const m2 = m.map((mi, i) => mi.mul(ADAM.beta1).add(grads[i]!.ref.mul(1 - ADAM.beta1)));
    const v2 = v.map((vi, i) => vi.mul(ADAM.beta2).add(grads[i]!.ref.mul(grads[i]!.ref).mul(1 - ADAM.beta2)));
    const p2 = p.map((pi, i) => pi.sub(m2[i]!.ref.div(c1.ref).mul(ADAM.lr).div(np.sqrt(v2[i]!.ref.div(c2.ref)).add(ADAM.eps))));
    c1.dispose();
    c2.dispose();
    return { loss, grads, p: p2, m: m2, v: v2 };
  });
  let t = 0;
  return {
    run() {
      t++;
      const c1 = np.array(new Float32Array([1 - ADAM.beta1 ** t])).reshape([]), c2 = np.array(new Float32Array([1 - ADAM.beta2 ** t])).reshape([]);
      const r = step(ps, ms, vs, xs.map((x) => x.ref), c1, c2);
      [ps, ms, vs] = [r.p, r.m, r.v];
      return readJax([r.loss, ...r.grads, ...ps.map((p) => p.ref)]);
    },
    dispose() {
      for (const a of [...ps, ...ms, ...vs, ...xs]) a.dispose();
      step.dispose();
    },
  };
}

/** Mean softmax cross-entropy −mean(Σ y ⊙ logSoftmax(logits)) in each library. */
const zgCe = (logits: zg.Tensor, y: zg.Tensor) => zg.neg(zg.mean(zg.sum(zg.mul(y, zg.logSoftmax(logits, -1)), { axis: -1 })));
const tfCe = (logits: tf.Tensor, y: tf.Tensor) => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits, -1)), -1))) as tf.Scalar;
const jaxCe = (logits: JaxArray, y: JaxArray) => y.mul(jnn.logSoftmax(logits, -1)).sum(-1).mean().neg();

/** MLP inputs→hidden→hidden2→classes with ReLU, softmax cross-entropy, one Adam step. */
export function mlpStepCase(batch: number, sizes: [number, number, number, number], seed: number): BenchCase {
  const [i0, h1, h2, c] = sizes;
  const x = normal([batch, i0], seed), y = labels(batch, c, seed);
  const params = [
    normal([i0, h1], seed + 2, Math.sqrt(2 / i0)), normal([h1], seed + 3, 0.1),
    normal([h1, h2], seed + 4, Math.sqrt(2 / h1)), normal([h2], seed + 5, 0.1),
    normal([h2, c], seed + 6, Math.sqrt(2 / h2)), normal([c], seed + 7, 0.1),
  ];
  return {
    suite: "train-step",
    op: "MLP step",
    size: `${sizes.join("-")}, batch ${batch}`,
    flops: 3 * 2 * batch * (i0 * h1 + h1 * h2 + h2 * c),
    zerograd() {
      const xs = toZg(x), ys = toZg(y);
      return zgStep(params, ([w1, b1, w2, b2, w3, b3]) => {
        const h = zg.relu(zg.add(zg.matmul(zg.relu(zg.add(zg.matmul(xs, w1!), b1!)), w2!), b2!));
        return zgCe(zg.add(zg.matmul(h, w3!), b3!), ys);
      });
    },
    tfjs() {
      const xs = toTf(x), ys = toTf(y);
      const runner = tfStep(params, ([w1, b1, w2, b2, w3, b3]) => {
        const h = tf.relu(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(xs, w1!), b1!)), w2!), b2!));
        return tfCe(tf.add(tf.matMul(h, w3!), b3!), ys);
      });
      return { run: runner.run, dispose: () => { runner.dispose(); tf.dispose([xs, ys]); } };
    },
    jax() {
      return jaxStep(params, [x, y], ([w1, b1, w2, b2, w3, b3], [xs, ys]) => {
        const h = jnn.relu(np.matmul(jnn.relu(np.matmul(xs!, w1!).add(b1!)), w2!).add(b2!));
        return jaxCe(np.matmul(h, w3!).add(b3!), ys!);
      });
    },
  };
}

/**
 * The same MLP step with autograd's anomaly mode on (every op's output and every vjp's output
 * checked for new NaN/±Infinity): its cost beside the plain step's row. zerograd only.
 */
export function anomalyStepCase(batch: number, sizes: [number, number, number, number], seed: number): BenchCase {
  const plain = mlpStepCase(batch, sizes, seed);
  const zerograd = (): Runner => {
    const runner = plain.zerograd();
    return { run: () => zg.detectAnomaly(() => runner.run()), dispose: () => runner.dispose() };
  };
  const others = ["zerograd-js", "tfjs-cpu", "tfjs-wasm", "jax-js"] as const;
  return { ...plain, op: "MLP step, detectAnomaly", zerograd, jax: undefined, skip: [...others] };
}

/**
 * The CNN step: conv3×3(1→16)-ReLU-maxpool2-conv3×3(16→32)-ReLU-maxpool2-dense(800→10) on 28×28
 * images, NHWC, 'valid' convolutions, softmax cross-entropy, one Adam step. tfjs-wasm cannot train
 * it (it has no Conv2DBackpropFilter), so it has no tfjs-wasm row.
 */
export function cnnStepCase(batch: number, seed: number): BenchCase {
  const x = normal([batch, 28, 28, 1], seed), y = labels(batch, 10, seed);
  const params = [
    normal([3, 3, 1, 16], seed + 2, Math.sqrt(2 / 9)), normal([16], seed + 3, 0.1),
    normal([3, 3, 16, 32], seed + 4, Math.sqrt(2 / 144)), normal([32], seed + 5, 0.1),
    normal([800, 10], seed + 6, Math.sqrt(2 / 800)), normal([10], seed + 7, 0.1),
  ];
  return {
    suite: "train-step",
    op: "CNN step",
    size: `conv16-pool-conv32-pool-dense10, batch ${batch}`,
    skip: ["tfjs-wasm", "jax-js"],
    zerograd() {
      const xs = toZg(x), ys = toZg(y);
      return zgStep(params, ([k1, b1, k2, b2, w, b]) => {
        const pool = (t: zg.Tensor) => zg.maxPool2d(t, { poolSize: 2 });
        const h1 = pool(zg.relu(zg.add(zg.conv2d(xs, k1!), b1!)));
        const h2 = pool(zg.relu(zg.add(zg.conv2d(h1, k2!), b2!)));
        return zgCe(zg.add(zg.matmul(zg.reshape(h2, [batch, 800]), w!), b!), ys);
      });
    },
    tfjs() {
      const xs = toTf(x) as tf.Tensor4D, ys = toTf(y);
      const runner = tfStep(params, ([k1, b1, k2, b2, w, b]) => {
        const pool = (t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, "valid");
        const h1 = pool(tf.relu(tf.add(tf.conv2d(xs, k1 as tf.Tensor4D, 1, "valid"), b1!)));
        const h2 = pool(tf.relu(tf.add(tf.conv2d(h1 as tf.Tensor4D, k2 as tf.Tensor4D, 1, "valid"), b2!)));
        return tfCe(tf.add(tf.matMul(tf.reshape(h2, [batch, 800]), w!), b!), ys);
      });
      return { run: runner.run, dispose: () => { runner.dispose(); tf.dispose([xs, ys]); } };
    },
  };
}

/**
 * Masked binary cross-entropy from logits, forward and backward: targets in {0, 1} with −1 for a
 * missing label (about a third), mean over the labels present. Returns the loss and ∂loss/∂logits.
 */
export function maskedBceCase(rows: number, cols: number, seed: number): BenchCase {
  const x = normal([rows, cols], seed, 2);
  const z: Data = { shape: [rows, cols], values: new Float32Array(rows * cols) };
  for (let i = 0; i < z.values.length; i++) z.values[i] = ((i * 2654435761 + seed) >>> 7) % 3 - 1; // −1, 0, 1 in a scrambled order
  const mask: Data = { shape: z.shape, values: z.values.map((v) => (v === -1 ? 0 : 1)) };
  const target: Data = { shape: z.shape, values: z.values.map((v) => (v === 1 ? 1 : 0)) };
  return {
    suite: "loss",
    op: "masked BCE from logits (fwd+bwd)",
    size: `${rows}×${cols}`,
    zerograd() {
      const logits = zg.tensor(x.values.slice(), { shape: x.shape, requiresGrad: true }), zs = toZg(z);
      return {
        run() {
          logits.grad = null;
          const loss = binaryCrossEntropy(logits, zs, { fromLogits: true, maskValue: -1 });
          loss.backward();
          return [loss.data, logits.grad!.data];
        },
        dispose() {},
      };
    },
    tfjs() {
      const xs = toTf(x), ms = toTf(mask), ts = toTf(target);
      // ℓ = max(x, 0) − x·z + log1p(e^−|x|), mean over the unmasked entries
      const loss = (l: tf.Tensor) => tf.div(tf.sum(tf.mul(ms, tf.add(tf.sub(tf.relu(l), tf.mul(l, ts)), tf.log1p(tf.exp(tf.neg(tf.abs(l))))))), tf.sum(ms)) as tf.Scalar;
      const vg = tf.valueAndGrad(loss);
      return {
        run: () => readTf(() => { const { value, grad } = vg(xs); return [value, grad]; }),
        dispose: () => tf.dispose([xs, ms, ts]),
      };
    },
    jax() {
      const xs = jaxArray(x.values, x.shape), ms = jaxArray(mask.values, mask.shape), ts = jaxArray(target.values, target.shape);
      const f = jit(valueAndGrad((l: JaxArray, m: JaxArray, t: JaxArray) => {
        const ell = jnn.relu(l.ref).sub(l.ref.mul(t)).add(np.log1p(np.exp(np.abs(l).neg())));
        return m.ref.mul(ell).sum().div(m.sum());
      }));
      return {
        run: () => { const [v, g] = f(xs.ref, ms.ref, ts.ref); return readJax([v, g]); },
        dispose: () => { for (const a of [xs, ms, ts]) a.dispose(); f.dispose(); },
      };
    },
  };
}
