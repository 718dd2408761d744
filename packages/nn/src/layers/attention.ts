/**
 * Multi-head attention and a Transformer encoder layer, with PyTorch's parameter names and
 * layouts (`in_proj_weight` [3E, E], `in_proj_bias` [3E], `out_proj.weight`, `out_proj.bias`;
 * `self_attn`, `linear1`, `linear2`, `norm1`, `norm2`), batch-first.
 *
 * Masks follow our convention, true = exists / may attend. PyTorch's `key_padding_mask` and
 * boolean `attn_mask` are the opposite (true = ignore): pass `keyMask = !key_padding_mask` and
 * `attnMask = !attn_mask`; a float `attn_mask` is our additive `attnBias`.
 * A query that has no key left to attend to gets output 0 and gradients exactly 0 (PyTorch
 * gives NaN there); outputs at masked query positions are 0.
 */
import { Tensor, add, div, exp, matmul, mT, mul, reshape, slice, sub, sum, transpose, where, max } from "@zerograd/autograd";
import { NDArray, type OptionsOf, ShapeError, boolean, checkArg, defineOptions, number, oneOf, shapesEqual, zeros } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";
import { generatorFrom, glorotUniform } from "../init.js";
import { Module, Parameter } from "../module.js";
import { type MaskArg, type MaskInput, type MaskingLayer, featureMask, maskOf, resolveMask, toMask, withMask } from "../sequence/mask.js";
import { weightFields } from "../sequence/options.js";
import { GELU, ReLU } from "./activations.js";
import { Dense, Dropout } from "./core.js";
import { LayerNormalization } from "./normalization.js";

/**
 * softmax over the last axis among the `allowed` entries only (0/1, broadcast to x):
 * disallowed entries get probability exactly 0, and a row with nothing allowed is all 0 — with
 * exactly-zero gradients ("double where": exp never sees a disallowed score). The row maximum
 * is subtracted for stability and detached (softmax does not depend on it).
 */
export function maskedSoftmax(x: Tensor, allowed: NDArray): Tensor {
  const a = new Tensor(allowed);
  const rowMax = max(where(a, x, -Infinity), { axis: -1, keepDims: true }).detach();
  const safeMax = where(new Tensor(T.isFinite(rowMax.value)), rowMax, 0);
  const e = where(a, exp(where(a, sub(x, safeMax), 0)), 0);
  const total = sum(e, { axis: -1, keepDims: true });
  return div(e, where(new Tensor(T.gt(total.value, 0)), total, 1));
}

export interface AttentionCallOptions extends MaskArg {
  /** Keys [N, S, E] (default: the query: self-attention). */
  key?: Tensor;
  /** Values [N, S, E] (default: the key). */
  value?: Tensor;
  /** [N, S], true = the key exists (default: the key's attached mask, or the query's mask for self-attention). */
  keyMask?: MaskInput | null;
  /** Boolean [T, S] or [N, T, S], true = query t may attend to key s. */
  attnMask?: MaskInput | NDArray;
  /** Additive [T, S] or [N, T, S] added to the scores; −∞ forbids. */
  attnBias?: Tensor | NDArray;
  /** Forbid attending to later positions (key s > query t). */
  causal?: boolean;
}

const MHA = defineOptions({
  ...weightFields,
  /** Dropout on the attention weights in training (default 0). */
  dropout: number({ min: 0, max: 1, default: 0 }),
});
export type MultiHeadAttentionOptions = OptionsOf<typeof MHA>;

/**
 * f applied to the rows of x [N, T, F] as one [N·T, F] matrix (then reshaped back): one large
 * matmul instead of N small ones. Per-step layers only.
 */
export function perStep(x: Tensor, f: (rows: Tensor) => Tensor): Tensor {
  const [n, t] = x.shape as [number, number];
  const y = f(reshape(x, [n * t, x.shape[2]!]));
  return reshape(y, [n, t, y.shape[1]!]);
}

/** [N, T, E] → [N, h, T, d] */
const splitHeads = (x: Tensor, h: number) => transpose(reshape(x, [x.shape[0]!, x.shape[1]!, h, x.shape[2]! / h]), [0, 2, 1, 3]);

function checkPair(op: string, what: string, m: NDArray, n: number, t: number, s: number): NDArray {
  if (shapesEqual(m.shape, [t, s])) return T.reshape(m, [1, 1, t, s]);
  if (shapesEqual(m.shape, [n, t, s])) return T.reshape(m, [n, 1, t, s]);
  throw new ShapeError(op, `${what} must be [T, S] = [${t},${s}] or [N, T, S]`, [m.shape]);
}

export class MultiHeadAttention extends Module<[Tensor, AttentionCallOptions?]> implements MaskingLayer {
  readonly supportsMasking = true;
  in_proj_weight: Parameter;
  in_proj_bias: Parameter | null;
  out_proj: Dense;
  dropout: Dropout;
  readonly headDim: number;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiHeadAttentionOptions = {}) {
    super();
    checkArg(Number.isInteger(embedDim) && embedDim > 0, "MultiHeadAttention", `embedDim must be a positive integer, got ${embedDim}`);
    checkArg(Number.isInteger(numHeads) && numHeads > 0 && embedDim % numHeads === 0, "MultiHeadAttention", `numHeads must be a positive integer dividing embedDim ${embedDim}, got ${numHeads}`);
    const o = MHA.parse("MultiHeadAttention", options);
    const rng = generatorFrom(o.seed);
    this.headDim = embedDim / numHeads;
    this.in_proj_weight = new Parameter(glorotUniform([3 * embedDim, embedDim], { fanIn: embedDim, fanOut: 3 * embedDim, rng, dtype: o.dtype }));
    this.in_proj_bias = o.bias ? new Parameter(zeros([3 * embedDim], { dtype: o.dtype })) : null;
    this.out_proj = new Dense(embedDim, embedDim, { seed: rng, dtype: o.dtype, bias: o.bias });
    if (this.out_proj.bias) this.out_proj.bias.value.data.fill(0);
    this.dropout = new Dropout(o.dropout, { seed: rng.nextUint32() });
  }

  /** Projection i (0 = query, 1 = key, 2 = value) with its rows of in_proj_weight and in_proj_bias. */
  private project(x: Tensor, i: number): Tensor {
    const rows = { start: i * this.embedDim, stop: (i + 1) * this.embedDim };
    return perStep(x, (r) => {
      const y = matmul(r, mT(slice(this.in_proj_weight, [rows])));
      return this.in_proj_bias ? add(y, slice(this.in_proj_bias, [rows])) : y;
    });
  }

  /** Which (query, key) pairs may attend: [N, 1, T, S] of 0/1, and the additive bias if any. */
  private allowed(n: number, t: number, s: number, keyMask: Tensor | null, o: AttentionCallOptions): { allowed: NDArray; bias: Tensor | null } {
    const op = "MultiHeadAttention";
    let allowed = T.ones([n, 1, t, s]);
    if (keyMask) allowed = T.logicalAnd(allowed, T.reshape(keyMask.value, [n, 1, 1, s]));
    if (o.causal) allowed = T.logicalAnd(allowed, T.reshape(T.le(T.reshape(T.arange(s), [1, s]), T.reshape(T.arange(t), [t, 1])), [1, 1, t, s]));
    if (o.attnMask !== undefined) allowed = T.logicalAnd(allowed, checkPair(op, "attnMask", toMask(op, o.attnMask as MaskInput).value, n, t, s));
    let bias: Tensor | null = null;
    if (o.attnBias !== undefined) {
      const b = checkPair(op, "attnBias", o.attnBias instanceof Tensor ? o.attnBias.value : o.attnBias, n, t, s);
      allowed = T.logicalAnd(allowed, T.isFinite(b)); // −∞ forbids; a finite bias is added
      bias = new Tensor(T.where(T.isFinite(b), b, 0));
    }
    return { allowed, bias };
  }

  forward(query: Tensor, options: AttentionCallOptions = {}): Tensor {
    const op = "MultiHeadAttention";
    const key = options.key ?? query, value = options.value ?? key;
    for (const [what, x] of [["query", query], ["key", key], ["value", value]] as const) {
      if (x.rank !== 3 || x.shape[2] !== this.embedDim) throw new ShapeError(op, `${what} must be [N, L, ${this.embedDim}]`, [x.shape]);
    }
    if (key.shape[0] !== query.shape[0] || !shapesEqual(key.shape, value.shape)) throw new ShapeError(op, "query, key and value must share N, and key and value their shape", [query.shape, key.shape, value.shape]);
    const [n, t] = query.shape as [number, number], s = key.shape[1]!;
    const queryMask = resolveMask(op, query, options);
    const keyMask = options.keyMask !== undefined || options.key ? resolveMask(op, key, { mask: options.keyMask ?? maskOf(key) }) : queryMask;
    const { allowed, bias } = this.allowed(n, t, s, keyMask, options);
    // Masked steps are zeroed first, so whatever they hold (even NaN) reaches no output or gradient.
    const clean = (x: Tensor, m: Tensor | null) => (m ? where(featureMask(m), x, 0) : x);
    const q = splitHeads(this.project(clean(query, queryMask), 0), this.numHeads);
    const k = splitHeads(this.project(clean(key, keyMask), 1), this.numHeads);
    const v = splitHeads(this.project(clean(value, keyMask), 2), this.numHeads);
    const scores = mul(matmul(q, mT(k)), 1 / Math.sqrt(this.headDim));
    const p = this.dropout.call(maskedSoftmax(bias ? add(scores, bias) : scores, allowed));
    const heads = reshape(transpose(matmul(p, v), [0, 2, 1, 3]), [n, t, this.embedDim]);
    // A query with no key left, or masked itself, outputs 0 (the out_proj bias included).
    let rows = T.reshape(T.gt(T.sum(allowed, { axis: -1 }), 0), [n, t]);
    if (queryMask) rows = T.logicalAnd(rows, queryMask.value);
    return withMask(where(featureMask(new Tensor(rows)), perStep(heads, (r) => this.out_proj.call(r)), 0), queryMask);
  }

  /** The output's mask is the query's. */
  computeMask(_x: Tensor, mask: Tensor | null): Tensor | null {
    return mask;
  }

  override describe(): string {
    return `MultiHeadAttention(${this.embedDim}, heads=${this.numHeads})`;
  }
}

const ENCODER = defineOptions({
  ...weightFields,
  dimFeedforward: number({ integer: true, min: 1, default: 2048 }),
  dropout: number({ min: 0, max: 1, default: 0.1 }),
  activation: oneOf(["relu", "gelu"] as const, { default: "relu" }),
  /** Pre-norm (LayerNorm before attention and feed-forward) instead of PyTorch's default post-norm. */
  normFirst: boolean({ default: false }),
  layerNormEps: number({ min: 0, minExclusive: true, default: 1e-5 }),
});
export type TransformerEncoderLayerOptions = OptionsOf<typeof ENCODER>;

/** PyTorch's TransformerEncoderLayer (batch-first): self-attention and a feed-forward block, each with a residual and LayerNorm. */
export class TransformerEncoderLayer extends Module<[Tensor, AttentionCallOptions?]> implements MaskingLayer {
  readonly supportsMasking = true;
  self_attn: MultiHeadAttention;
  linear1: Dense;
  dropout: Dropout;
  linear2: Dense;
  norm1: LayerNormalization;
  norm2: LayerNormalization;
  dropout1: Dropout;
  dropout2: Dropout;
  private readonly activation: ReLU | GELU;
  readonly normFirst: boolean;

  constructor(readonly dModel: number, readonly nHead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    const o = ENCODER.parse("TransformerEncoderLayer", options);
    const rng = generatorFrom(o.seed);
    const w = { seed: rng, dtype: o.dtype, bias: o.bias };
    this.self_attn = new MultiHeadAttention(dModel, nHead, { ...w, dropout: o.dropout });
    this.linear1 = new Dense(dModel, o.dimFeedforward, w);
    this.dropout = new Dropout(o.dropout, { seed: rng.nextUint32() });
    this.linear2 = new Dense(o.dimFeedforward, dModel, w);
    this.norm1 = new LayerNormalization(dModel, { eps: o.layerNormEps, dtype: o.dtype });
    this.norm2 = new LayerNormalization(dModel, { eps: o.layerNormEps, dtype: o.dtype });
    this.dropout1 = new Dropout(o.dropout, { seed: rng.nextUint32() });
    this.dropout2 = new Dropout(o.dropout, { seed: rng.nextUint32() });
    this.activation = o.activation === "gelu" ? new GELU() : new ReLU();
    this.normFirst = o.normFirst;
  }

  private attend(x: Tensor, mask: Tensor | null, o: AttentionCallOptions): Tensor {
    return this.dropout1.call(this.self_attn.call(x, { causal: o.causal, attnMask: o.attnMask, attnBias: o.attnBias, mask }));
  }

  private feedForward(x: Tensor): Tensor {
    return this.dropout2.call(perStep(x, (r) => this.linear2.call(this.dropout.call(this.activation.call(this.linear1.call(r))))));
  }

  /** Outputs at masked steps are 0; the mask is carried to the output. */
  forward(x: Tensor, options: AttentionCallOptions = {}): Tensor {
    const mask = resolveMask("TransformerEncoderLayer", x, options);
    if (mask) x = where(featureMask(mask), x, 0); // padded steps (even NaN) reach no output or gradient
    let y: Tensor;
    if (this.normFirst) {
      y = add(x, this.attend(this.norm1.call(x), mask, options));
      y = add(y, this.feedForward(this.norm2.call(y)));
    } else {
      y = this.norm1.call(add(x, this.attend(x, mask, options)));
      y = this.norm2.call(add(y, this.feedForward(y)));
    }
    return withMask(mask ? where(featureMask(mask), y, 0) : y, mask);
  }

  computeMask(_x: Tensor, mask: Tensor | null): Tensor | null {
    return mask;
  }
}
