/**
 * The sequence layers against TensorFlow.js: a GRU layer and a MultiHeadAttention block, forward
 * and backward, with the same weights and inputs in every library. `run()` returns the loss
 * Σ y ⊙ r (r a fixed random weighting of the output; a sum, not a mean, so that the gradients are
 * of order 1 and the agreement check is not vacuous), its gradient with respect to the input and
 * to every parameter, so the first call of every library can be compared.
 *
 * The tfjs versions are compositions of tf ops with PyTorch's equations, differentiated by
 * tf.valueAndGrads. tfjs 4.22 has no layer computing the same function: tf.layers.gru has
 * Keras' reset-before equations (n = tanh(W_n·x + U_n·(r ⊙ h))) and refuses resetAfter, and
 * MultiHeadAttention is not exported by tf.layers.
 */
import * as zg from "@zerograd/autograd";
import { type AnyModule, GRU, MultiHeadAttention } from "@zerograd/nn";
import type { BenchCase, Data, Runner } from "./cases.js";
import { normal, toTf, toZg } from "./cases.js";
import { readTf, tf } from "./tfjs.js";

export interface SequenceSizes {
  /** Batch, steps, input features, hidden units. */
  gru: [number, number, number, number];
  /** Batch, positions, embedding width, heads. */
  attention: [number, number, number, number];
}

export const FULL_SEQUENCE: SequenceSizes = { gru: [64, 20, 64, 128], attention: [32, 32, 128, 4] };
export const QUICK_SEQUENCE: SequenceSizes = { gru: [3, 4, 5, 6], attention: [2, 5, 8, 2] };

/**
 * zerograd: `layer.call(x)` with the given parameter values (by name), then backward.
 * Returns the loss, then the gradients of x and of the parameters in `names` order.
 */
function zgLayer(layer: AnyModule, params: Record<string, Data>, x: Data, r: Data): Runner {
  const named = new Map(layer.namedParameters());
  const names = Object.keys(params);
  for (const name of names) named.get(name)!.value.data.set(params[name]!.values);
  const xs = zg.tensor(x.values, { shape: x.shape, requiresGrad: true }), rs = toZg(r);
  return {
    run() {
      layer.zeroGrad();
      xs.grad = null;
      const loss = zg.sum(zg.mul(layer.call(xs) as zg.Tensor, rs));
      loss.backward();
      return [loss.data.slice(), xs.grad!.data.slice(), ...names.map((n) => named.get(n)!.grad!.data.slice())];
    },
    dispose() {},
  };
}

/** tfjs: the same loss from `f(x, ...params)`, differentiated with tf.valueAndGrads. */
function tfLayer(params: Data[], x: Data, r: Data, f: (x: tf.Tensor, ...ps: tf.Tensor[]) => tf.Tensor): Runner {
  const inputs = [toTf(x), ...params.map(toTf)], rt = toTf(r);
  const lossAndGrads = tf.valueAndGrads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(xs[0]!, ...xs.slice(1)), rt)) as tf.Scalar);
  return {
    run: () =>
      readTf(() => {
        const { value, grads } = lossAndGrads(inputs);
        return [value, ...grads];
      }),
    dispose: () => tf.dispose([...inputs, rt]),
  };
}

/** x [N, T, F] · wᵀ + b as one [N·T, F] matrix product, reshaped back. */
function tfLinear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [n, t, f] = x.shape as [number, number, number];
  return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [n * t, f]), w, false, true), b), [n, t, w.shape[0]!]);
}

/**
 * PyTorch's GRU in tf ops (gate order r, z, n):
 *   r = σ(W_ir·x + b_ir + W_hr·h + b_hr),  z = σ(W_iz·x + b_iz + W_hz·h + b_hz)
 *   n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h
 */
function tfGru(x: tf.Tensor, wih: tf.Tensor, whh: tf.Tensor, bih: tf.Tensor, bhh: tf.Tensor): tf.Tensor {
  const [n, steps] = x.shape as [number, number, number];
  const hidden = whh.shape[1]!;
  const gi = tf.unstack(tfLinear(x, wih, bih), 1); // [N, 3H] per step
  let h: tf.Tensor = tf.zeros([n, hidden]);
  const outputs: tf.Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const [ir, iz, inn] = tf.split(gi[t]!, 3, 1);
    const [hr, hz, hn] = tf.split(tf.add(tf.matMul(h, whh, false, true), bhh), 3, 1);
    const r = tf.sigmoid(tf.add(ir!, hr!)), z = tf.sigmoid(tf.add(iz!, hz!));
    const candidate = tf.tanh(tf.add(inn!, tf.mul(r, hn!)));
    h = tf.add(tf.mul(tf.sub(1, z), candidate), tf.mul(z, h));
    outputs.push(h);
  }
  return tf.stack(outputs, 1);
}

/** GRU(F → H) over [N, T, F], every step's output, forward and backward. */
export function gruCase([n, t, f, hidden]: SequenceSizes["gru"], seed: number): BenchCase {
  const k = 1 / Math.sqrt(hidden);
  const params = {
    weight_ih_l0: normal([3 * hidden, f], seed + 1, k),
    weight_hh_l0: normal([3 * hidden, hidden], seed + 2, k),
    bias_ih_l0: normal([3 * hidden], seed + 3, k),
    bias_hh_l0: normal([3 * hidden], seed + 4, k),
  };
  const x = normal([n, t, f], seed), r = normal([n, t, hidden], seed + 5);
  return {
    suite: "sequence",
    op: "GRU forward + backward",
    size: `batch ${n}, ${t} steps, ${f} → ${hidden}`,
    // per step: x·W_ihᵀ and h·W_hhᵀ, forward and twice that backward
    flops: 3 * 2 * n * t * 3 * hidden * (f + hidden),
    zerograd: () => zgLayer(new GRU(f, hidden, { returnSequences: true }), params, x, r),
    tfjs: () => tfLayer(Object.values(params), x, r, tfGru),
  };
}

/** Self-attention with PyTorch's layout: in_proj [3E, E] (q, k, v), heads of E/h, out_proj. */
function tfAttention(heads: number) {
  return (x: tf.Tensor, inW: tf.Tensor, inB: tf.Tensor, outW: tf.Tensor, outB: tf.Tensor): tf.Tensor => {
    const [n, t, e] = x.shape as [number, number, number];
    const d = e / heads;
    const [q, k, v] = tf.split(tfLinear(x, inW, inB), 3, 2).map((p) => tf.transpose(tf.reshape(p, [n, t, heads, d]), [0, 2, 1, 3]));
    const weights = tf.softmax(tf.div(tf.matMul(q!, k!, false, true), Math.sqrt(d)), -1);
    const merged = tf.reshape(tf.transpose(tf.matMul(weights, v!), [0, 2, 1, 3]), [n, t, e]);
    return tfLinear(merged, outW, outB);
  };
}

/** MultiHeadAttention(E, heads) as self-attention over [N, T, E], forward and backward. */
export function attentionCase([n, t, e, heads]: SequenceSizes["attention"], seed: number): BenchCase {
  const k = 1 / Math.sqrt(e);
  const params = {
    in_proj_weight: normal([3 * e, e], seed + 1, k),
    in_proj_bias: normal([3 * e], seed + 2, 0.1),
    "out_proj.weight": normal([e, e], seed + 3, k),
    "out_proj.bias": normal([e], seed + 4, 0.1),
  };
  const x = normal([n, t, e], seed), r = normal([n, t, e], seed + 5);
  return {
    suite: "sequence",
    op: "MultiHeadAttention forward + backward",
    size: `batch ${n}, ${t} positions, E ${e}, ${heads} heads`,
    // projections (4·T·E² per sequence) and attention (2·T²·E), forward and twice that backward
    flops: 3 * 2 * n * (4 * t * e * e + 2 * t * t * e),
    zerograd: () => zgLayer(new MultiHeadAttention(e, heads), params, x, r),
    tfjs: () => tfLayer(Object.values(params), x, r, tfAttention(heads)),
  };
}

export function sequenceCases(sizes: SequenceSizes): BenchCase[] {
  return [gruCase(sizes.gru, 700), attentionCase(sizes.attention, 800)];
}
