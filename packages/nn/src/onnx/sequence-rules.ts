/**
 * Export rules for the sequence layers ([N, T, F] batch-first values, always in zerograd's
 * layout). A mask travels as a boolean [N, T] graph value beside the tensor it belongs to
 * (`ctx.mask`); Embedding(maskZero) makes it from the ids, so a graph input may be token ids.
 *
 * Recurrent layers map to ONNX's GRU (linear_before_reset = 1: PyTorch's equation) and LSTM with
 * the gate blocks reordered, and masks to `sequence_lens`. ONNX only knows trailing padding, so
 * a masked batch is first compacted: each row's real steps are moved to the front (a stable
 * argsort of the mask, TopK), run with sequence_lens = Σ mask, and the outputs are moved back.
 * With trailing padding the permutation is the identity; with holes it is Keras's semantics
 * exactly (a masked step neither reads its input nor changes the state, and outputs 0).
 */
import { Conv1D } from "../layers/conv1d.js";
import { Dense } from "../layers/core.js";
import { LayerNormalization } from "../layers/normalization.js";
import { Bidirectional, GRU, LSTM } from "../layers/recurrent.js";
import { GlobalAveragePooling1D, GlobalMaxPooling1D } from "../layers/sequence-pooling.js";
import { MultiHeadAttention, TransformerEncoderLayer } from "../layers/attention.js";
import { PositionalEmbedding, SinusoidalPositionalEncoding, sinusoidalTable } from "../layers/positional.js";
import type { AnyModule } from "../module.js";
import type { Tensor } from "@zerograd/autograd";
import type { Attribute } from "./proto.js";
import { type GraphBuilder, type OnnxValue, int, ints } from "./graph.js";
import { type MaskedResult, type RuleContext, input, onnxRules, rule, weightData } from "./rules.js";

/** A value in zerograd's layout, as a rule's input. */
const seqValue = (name: string, shape: readonly number[]): OnnxValue => ({ shape, type: "float", forms: { last: name } });

/** Runs `layer`'s own rule on `x` (a sublayer of a composite layer); returns its output in zerograd's layout. */
function sublayer(ctx: RuleContext<unknown>, layer: AnyModule, name: string, x: OnnxValue): string {
  const scope = `${ctx.scope}.${name}`;
  const out = onnxRules.get(layer.constructor as never)!({ ...ctx, layer, scope, owner: `${ctx.owner} (its ${name})`, inputs: [x], options: {} });
  return "forms" in out ? ctx.g.form(out, "last", scope) : out.name;
}

/** x [N, T, F] with the masked steps set to 0 (Where, so even a NaN there is dropped). */
function zeroMasked(g: GraphBuilder, scope: string, x: string, mask: string | undefined): string {
  if (mask === undefined) return x;
  return g.node(scope, "Where", [g.node(scope, "Unsqueeze", [mask, g.int64s(`${scope}.last_axis`, [-1])]), x, g.scalar(`${scope}.zero`, 0)]);
}

/** Size `axis` of x as a 1-D int64 [1] (dynamic shapes). */
const sizeOf = (g: GraphBuilder, scope: string, x: string, axis: number) => g.node(scope, "Gather", [g.node(scope, "Shape", [x]), g.int64s(`${scope}.axis`, [axis])], { axis: int(0) });

/** The integers 0 … T−1 as floats [T], T = size of axis 1 of x. */
function stepIndices(g: GraphBuilder, scope: string, x: string): string {
  const t = g.node(scope, "Cast", [g.node(scope, "Squeeze", [sizeOf(g, scope, x, 1), g.int64s(`${scope}.axis0`, [0])])], { to: int(1) });
  return g.node(scope, "Range", [g.scalar(`${scope}.zero`, 0), t, g.scalar(`${scope}.one`, 1)]);
}

/** The indices that sort `keys` [N, T] ascending along axis 1 (keys are distinct: a stable order). */
function argsort(g: GraphBuilder, scope: string, keys: string): string {
  return g.nodeOutputs(scope, "TopK", [keys, sizeOf(g, scope, keys, 1)], 2, { axis: int(1), largest: int(0), sorted: int(1) })[1]!;
}

/** x [N, T, F] with its steps taken in the order `order` [N, T]. */
function gatherSteps(g: GraphBuilder, scope: string, x: string, order: string): string {
  const idx = g.node(scope, "Expand", [g.node(scope, "Unsqueeze", [order, g.int64s(`${scope}.last_axis`, [-1])]), g.node(scope, "Shape", [x])]);
  return g.node(scope, "GatherElements", [x, idx], { axis: int(1) });
}

/** PyTorch's gate blocks (each H rows of `w` [G·H, cols]) in ONNX's order: block k of the result is block order[k]. */
function reorderGates(w: ArrayLike<number>, hidden: number, cols: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(order.length * hidden * cols), block = hidden * cols;
  order.forEach((from, k) => out.set(Array.prototype.slice.call(w, from * block, (from + 1) * block) as number[], k * block));
  return out;
}

// ONNX GRU gates z, r, h from PyTorch's r, z, n; ONNX LSTM gates i, o, f, c from PyTorch's i, f, g, o.
const GATE_ORDER = { gru: [1, 0, 2], lstm: [0, 3, 1, 2] } as const;

interface RecurrentSpec { kind: "gru" | "lstm"; inputSize: number; hiddenSize: number; returnSequences: boolean }

/** W [D, G·H, in], R [D, G·H, H], B [D, 2·G·H] from the owner's PyTorch-named parameters, one suffix per direction. */
function recurrentWeights(g: GraphBuilder, scope: string, owner: object, spec: RecurrentSpec, suffixes: readonly string[]): string[] {
  const o = owner as Record<string, Tensor | null>, H = spec.hiddenSize, G = spec.kind === "gru" ? 3 : 4, order = GATE_ORDER[spec.kind];
  const stack = (name: string, cols: number) => suffixes.flatMap((s) => [...reorderGates(weightData(o[`${name}_l0${s}`]!), H, cols, order)]);
  const bias = (name: string) => suffixes.map((s) => (o[`${name}_l0${s}`] ? reorderGates(weightData(o[`${name}_l0${s}`]!), H, 1, order) : new Float32Array(G * H)));
  const [bi, bh] = [bias("bias_ih"), bias("bias_hh")];
  const b = suffixes.flatMap((_, d) => [...bi[d]!, ...bh[d]!]);
  const D = suffixes.length;
  return [g.floats(`${scope}.W`, [D, G * H, spec.inputSize], stack("weight_ih", spec.inputSize)), g.floats(`${scope}.R`, [D, G * H, H], stack("weight_hh", H)), g.floats(`${scope}.B`, [D, 2 * G * H], b)];
}

/** A GRU or LSTM (one or two directions) as the ONNX operator, masks through sequence_lens on compacted steps. */
function emitRecurrent(ctx: RuleContext<unknown>, owner: object, spec: RecurrentSpec, suffixes: readonly string[]): MaskedResult {
  const { g, scope, mask } = ctx;
  if (ctx.options.initialState !== undefined) throw new TypeError(`exportOnnx: ${ctx.owner} was called with an initialState; only the default zero state exports`);
  let x = g.form(input(ctx), "last", scope), lens = "", order: string | undefined;
  if (mask !== undefined) {
    const real = g.node(scope, "Cast", [mask], { to: int(1) });
    // Sort key: step index, plus a large constant on masked steps (real steps first, each group in order).
    const keys = g.node(scope, "Add", [stepIndices(g, scope, real), g.node(scope, "Mul", [g.node(scope, "Sub", [g.scalar(`${scope}.one`, 1), real]), g.scalar(`${scope}.big`, 1 << 20)])]);
    order = argsort(g, scope, keys);
    x = gatherSteps(g, scope, x, order);
    lens = g.node(scope, "Cast", [g.reduce(scope, "ReduceSum", real, [1], false)], { to: int(6) });
  }
  const D = suffixes.length, H = spec.hiddenSize;
  const inputs = [g.node(scope, "Transpose", [x], { perm: ints([1, 0, 2]) }), ...recurrentWeights(g, scope, owner, spec, suffixes), lens];
  const attributes = { hidden_size: int(H), direction: { s: D === 2 ? "bidirectional" : "forward" }, ...(spec.kind === "gru" ? { linear_before_reset: int(1) } : {}) };
  const [y, yh] = g.nodeOutputs(scope, spec.kind.toUpperCase(), inputs, 2, attributes) as [string, string];
  if (!spec.returnSequences) {
    // Y_h [D, N, H] → [N, D·H] (forward then reverse, as concat does); a row with no real step keeps the zero state.
    const h = g.node(scope, "Reshape", [g.node(scope, "Transpose", [yh], { perm: ints([1, 0, 2]) }), g.int64s(`${scope}.flat`, [0, -1])]);
    if (lens === "") return { name: h, layout: "last" };
    const any = g.node(scope, "Unsqueeze", [g.node(scope, "Greater", [lens, g.node(scope, "Cast", [g.scalar(`${scope}.zero`, 0)], { to: int(6) })]), g.int64s(`${scope}.last_axis`, [-1])]);
    return { name: g.node(scope, "Where", [any, h, g.scalar(`${scope}.zero`, 0)]), layout: "last" };
  }
  // Y [T, D, N, H] → [N, T, D·H], then the steps back in place; masked steps output 0.
  let seq = g.node(scope, "Reshape", [g.node(scope, "Transpose", [y], { perm: ints([2, 0, 1, 3]) }), g.int64s(`${scope}.seq`, [0, 0, -1])]);
  if (order !== undefined) seq = gatherSteps(g, scope, seq, argsort(g, scope, g.node(scope, "Cast", [order], { to: int(1) })));
  return { name: zeroMasked(g, scope, seq, mask), layout: "last" };
}

const recurrentRule = (ctx: RuleContext<GRU | LSTM>) => emitRecurrent(ctx, ctx.layer, ctx.layer, [""]);
rule(GRU, recurrentRule);
rule(LSTM, recurrentRule);
rule(Bidirectional, (ctx) => {
  const inner = (ctx.layer as unknown as { layer: RecurrentSpec }).layer;
  return emitRecurrent(ctx, ctx.layer, inner, ["", "_reverse"]);
});

/** Σ over the real steps, and their count (at least 1): [N, F] and [N, 1]. */
function maskedSum(g: GraphBuilder, scope: string, x: string, mask: string): { total: string; count: string } {
  const total = g.reduce(scope, "ReduceSum", zeroMasked(g, scope, x, mask), [1], false);
  const count = g.reduce(scope, "ReduceSum", g.node(scope, "Cast", [mask], { to: int(1) }), [1], true);
  return { total, count };
}

rule(GlobalAveragePooling1D, (ctx) => {
  const { g, scope, mask } = ctx;
  const x = g.form(input(ctx), "last", scope);
  if (mask === undefined) return { name: g.reduce(scope, "ReduceMean", x, [1], false), layout: "last" };
  const { total, count } = maskedSum(g, scope, x, mask);
  return { name: g.node(scope, "Div", [total, g.node(scope, "Max", [count, g.scalar(`${scope}.one`, 1)])]), layout: "last" };
});

// Max over the real steps (masked ones read −∞); a row with no real step gives 0.
rule(GlobalMaxPooling1D, (ctx) => {
  const { g, scope, mask } = ctx;
  const x = g.form(input(ctx), "last", scope);
  if (mask === undefined) return { name: g.reduce(scope, "ReduceMax", x, [1], false), layout: "last" };
  const col = g.node(scope, "Unsqueeze", [mask, g.int64s(`${scope}.last_axis`, [-1])]);
  const top = g.reduce(scope, "ReduceMax", g.node(scope, "Where", [col, x, g.scalar(`${scope}.minus_inf`, -Infinity)]), [1], false);
  const any = g.node(scope, "Cast", [g.reduce(scope, "ReduceMax", g.node(scope, "Cast", [mask], { to: int(1) }), [1], true)], { to: int(9) });
  return { name: g.node(scope, "Where", [any, top, g.scalar(`${scope}.zero`, 0)]), layout: "last" };
});

/** x + table[0:T] (the first T rows of a [maxLen, dim] table, T dynamic). */
function addPositions(ctx: RuleContext<unknown>, table: ArrayLike<number>, maxLen: number, dim: number): MaskedResult {
  const { g, scope } = ctx;
  const x = g.form(input(ctx), "last", scope);
  const rows = g.node(scope, "Slice", [g.floats(`${scope}.table`, [maxLen, dim], table), g.int64s(`${scope}.start`, [0]), sizeOf(g, scope, x, 1), g.int64s(`${scope}.axis0`, [0])]);
  return { name: g.node(scope, "Add", [x, rows]), layout: "last" };
}
rule(PositionalEmbedding, (ctx) => addPositions(ctx, weightData(ctx.layer.weight), ctx.layer.maxLen, ctx.layer.dim));
rule(SinusoidalPositionalEncoding, (ctx) => {
  // The table up to the traced length when every input size is fixed, else up to maxLen.
  const steps = ctx.g.fixedSizes ? input(ctx).shape[1]! : ctx.layer.maxLen;
  return addPositions(ctx, sinusoidalTable(steps, ctx.layer.dim).flat(), steps, ctx.layer.dim);
});

/** The [N or 1, 1, T or 1, S] boolean "may attend" value, or undefined when every pair may. */
function allowedPairs(g: GraphBuilder, scope: string, x: string, mask: string | undefined, causal: boolean): string | undefined {
  let allowed: string | undefined;
  if (mask !== undefined) allowed = g.node(scope, "Unsqueeze", [mask, g.int64s(`${scope}.key_axes`, [1, 2])]);
  if (causal) {
    // key s may be read by query t when s ≤ t: [T, S] from the step indices.
    const steps = stepIndices(g, scope, x);
    const unsq = (axes: number[]) => g.node(scope, "Unsqueeze", [steps, g.int64s(`${scope}.axes`, axes)]);
    const lower = g.node(scope, "Unsqueeze", [g.node(scope, "LessOrEqual", [unsq([0]), unsq([1])]), g.int64s(`${scope}.pair_axes`, [0, 1])]);
    allowed = allowed === undefined ? lower : g.node(scope, "And", [allowed, lower]);
  }
  return allowed;
}

/** softmax over the last axis among the allowed entries only; a row with none allowed is all 0 (as maskedSoftmax). */
function maskedSoftmax(g: GraphBuilder, scope: string, scores: string, allowed: string | undefined): string {
  if (allowed === undefined) return g.node(scope, "Softmax", [scores], { axis: int(-1) });
  const zero = g.scalar(`${scope}.zero`, 0);
  const rowMax = g.reduce(scope, "ReduceMax", g.node(scope, "Where", [allowed, scores, g.scalar(`${scope}.lowest`, -3.4e38)]), [-1], true);
  const e = g.node(scope, "Where", [allowed, g.node(scope, "Exp", [g.node(scope, "Where", [allowed, g.node(scope, "Sub", [scores, rowMax]), zero])]), zero]);
  const total = g.reduce(scope, "ReduceSum", e, [-1], true);
  return g.node(scope, "Div", [e, g.node(scope, "Where", [g.node(scope, "Greater", [total, zero]), total, g.scalar(`${scope}.one`, 1)])]);
}

/** Self-attention of x [N, T, E] (zerograd's value) as MatMul/Softmax; queries with no key, and masked queries, output 0. */
function emitSelfAttention(ctx: RuleContext<unknown>, layer: MultiHeadAttention, x: OnnxValue, mask: string | undefined, causal: boolean): string {
  const { g, scope } = ctx, E = layer.embedDim, h = layer.numHeads, d = layer.headDim;
  const clean = zeroMasked(g, scope, g.form(x, "last", scope), mask);
  // One projection for q, k and v: [N, T, 3E] → [N, T, 3, h, d] → [3, N, h, T, d].
  let qkv = g.node(scope, "MatMul", [clean, g.floats(`${scope}.in_proj_weight_t`, [E, 3 * E], transposed(weightData(layer.in_proj_weight), 3 * E, E))]);
  if (layer.in_proj_bias) qkv = g.node(scope, "Add", [qkv, g.floats(`${scope}.in_proj_bias`, [3 * E], weightData(layer.in_proj_bias))]);
  const heads = g.node(scope, "Transpose", [g.node(scope, "Reshape", [qkv, g.int64s(`${scope}.heads`, [0, 0, 3, h, d])])], { perm: ints([2, 0, 3, 1, 4]) });
  const part = (i: number) => g.node(scope, "Gather", [heads, g.node(scope, "Cast", [g.scalar(`${scope}.part`, i)], { to: int(7) })], { axis: int(0) });
  const [q, k, v] = [part(0), part(1), part(2)];
  const scores = g.node(scope, "Mul", [g.node(scope, "MatMul", [q, g.node(scope, "Transpose", [k], { perm: ints([0, 1, 3, 2]) })]), g.scalar(`${scope}.scale`, 1 / Math.sqrt(d))]);
  const allowed = allowedPairs(g, scope, clean, mask, causal);
  const attended = g.node(scope, "MatMul", [maskedSoftmax(g, scope, scores, allowed), v]);
  const merged = g.node(scope, "Reshape", [g.node(scope, "Transpose", [attended], { perm: ints([0, 2, 1, 3]) }), g.int64s(`${scope}.merge`, [0, 0, -1])]);
  const out = sublayer(ctx, layer.out_proj, "out_proj", seqValue(merged, x.shape));
  if (allowed === undefined) return out;
  // rows [N|1, T|1, 1]: the query has some key, and is itself real.
  const hasKey = g.node(scope, "Squeeze", [g.reduce(scope, "ReduceMax", g.node(scope, "Cast", [allowed], { to: int(1) }), [-1], true), g.int64s(`${scope}.head_axis`, [1])]);
  const rows = g.node(scope, "Cast", [hasKey], { to: int(9) });
  return zeroMasked(g, scope, g.node(scope, "Where", [rows, out, g.scalar(`${scope}.zero`, 0)]), mask);
}

/** w [rows, cols] as [cols, rows]. */
function transposed(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/** The options attention exports: self-attention with the key mask and causal; the rest is a clear error. */
function attentionOptions(ctx: RuleContext<unknown>): boolean {
  for (const name of ["key", "value", "keyMask", "attnMask", "attnBias"]) {
    if (ctx.options[name] !== undefined) throw new TypeError(`exportOnnx: ${ctx.owner} was called with ${name}; only self-attention with a key mask (the input's mask) and causal exports`);
  }
  return ctx.options.causal === true;
}

rule(MultiHeadAttention, (ctx) => ({ name: emitSelfAttention(ctx, ctx.layer, input(ctx), ctx.mask, attentionOptions(ctx)), layout: "last" }));

// PyTorch's encoder layer: post-norm y = LN1(x + SA(x)); LN2(y + FF(y)), or pre-norm x + SA(LN1(x)), then + FF(LN2(·)).
rule(TransformerEncoderLayer, (ctx) => {
  const { g, scope, layer, mask } = ctx;
  const causal = attentionOptions(ctx), x0 = input(ctx), shape = x0.shape;
  const x = zeroMasked(g, scope, g.form(x0, "last", scope), mask);
  const norm = (which: "norm1" | "norm2", v: string) => sublayer(ctx, layer[which] as LayerNormalization, which, seqValue(v, shape));
  const attend = (v: string) => emitSelfAttention({ ...ctx, scope: `${scope}.self_attn` }, layer.self_attn, seqValue(v, shape), mask, causal);
  const activation = (layer as unknown as { activation: AnyModule }).activation;
  const feedForward = (v: string) => {
    const hidden = sublayer(ctx, activation, "activation", seqValue(sublayer(ctx, layer.linear1 as Dense, "linear1", seqValue(v, shape)), [...shape.slice(0, 2), layer.linear1.outFeatures]));
    return sublayer(ctx, layer.linear2, "linear2", seqValue(hidden, [...shape.slice(0, 2), layer.linear1.outFeatures]));
  };
  let y: string;
  if (layer.normFirst) {
    y = g.node(scope, "Add", [x, attend(norm("norm1", x))]);
    y = g.node(scope, "Add", [y, feedForward(norm("norm2", y))]);
  } else {
    y = norm("norm1", g.node(scope, "Add", [x, attend(x)]));
    y = norm("norm2", g.node(scope, "Add", [y, feedForward(y)]));
  }
  return { name: zeroMasked(g, scope, y, mask), layout: "last" };
});

// Conv1D: NWC around ONNX's NCW Conv; the weight is PyTorch's [C_out, C_in, k], ONNX's layout as it is.
// "same" is SAME_UPPER (the extra zero after, as Keras), "causal" pads span − 1 zeros before.
rule(Conv1D, (ctx) => {
  const { g, scope, layer, mask } = ctx;
  const span = (layer.kernelSize - 1) * layer.dilation + 1;
  const x = g.node(scope, "Transpose", [zeroMasked(g, scope, g.form(input(ctx), "last", scope), mask)], { perm: ints([0, 2, 1]) });
  const window: Record<string, Attribute> = { strides: ints([layer.stride]), dilations: ints([layer.dilation]) };
  const padding = conv1dPadding(ctx, span, input(ctx).shape[1]!);
  const inputs = [x, g.floats(`${scope}.weight`, [layer.outChannels, layer.inChannels, layer.kernelSize], weightData(layer.weight))];
  if (layer.bias) inputs.push(g.floats(`${scope}.bias`, [layer.outChannels], weightData(layer.bias)));
  const y = g.node(scope, "Transpose", [g.node(scope, "Conv", inputs, { ...window, ...padding })], { perm: ints([0, 2, 1]) });
  if (mask === undefined) return { name: y, layout: "last" };
  const outMask = conv1dMask(g, scope, layer, mask, window);
  return { name: zeroMasked(g, scope, y, outMask), layout: "last", mask: outMask };
});

/**
 * Conv1D's pads. "same" adds (⌈T/s⌉ − 1)·s + span − T zeros, the extra one after: a constant with
 * stride 1 or a fixed length; else ONNX's SAME_UPPER, which ONNX Runtime allows without dilation only.
 */
function conv1dPadding(ctx: RuleContext<Conv1D>, span: number, steps: number): Record<string, Attribute> {
  const { layer } = ctx;
  if (layer.padding !== "same") return { pads: ints(layer.padding === "causal" ? [span - 1, 0] : [0, 0]) };
  if (layer.stride === 1 || ctx.g.fixedSizes) {
    const total = Math.max(0, (Math.ceil(steps / layer.stride) - 1) * layer.stride + span - steps);
    return { pads: ints([Math.floor(total / 2), total - Math.floor(total / 2)]) };
  }
  if (layer.dilation === 1) return { auto_pad: { s: "SAME_UPPER" } };
  throw new TypeError(`exportOnnx: ${ctx.owner} has "same" padding with stride ${layer.stride} and dilation ${layer.dilation} on sequences of any length; give the input a fixed length to export it`);
}

/** Conv1D's output mask: "same"/"causal": step j is real when input step j·stride is; "valid": when its whole window is. */
function conv1dMask(g: GraphBuilder, scope: string, layer: Conv1D, mask: string, window: Record<string, Attribute>): string {
  if (layer.padding !== "valid") return g.node(scope, "Slice", [mask, g.int64s(`${scope}.start`, [0]), g.int64s(`${scope}.end`, [2 ** 31 - 1]), g.int64s(`${scope}.axis1`, [1]), g.int64s(`${scope}.stride`, [layer.stride])]);
  // The number of real steps in each window (a Conv with a kernel of ones) equals the kernel size.
  const real = g.node(scope, "Unsqueeze", [g.node(scope, "Cast", [mask], { to: int(1) }), g.int64s(`${scope}.channel_axis`, [1])]);
  const counts = g.node(scope, "Conv", [real, g.floats(`${scope}.ones`, [1, 1, layer.kernelSize], new Float32Array(layer.kernelSize).fill(1))], window);
  const full = g.node(scope, "Greater", [counts, g.scalar(`${scope}.almost_full`, layer.kernelSize - 0.5)]);
  return g.node(scope, "Squeeze", [full, g.int64s(`${scope}.channel_axis`, [1])]);
}

/**
 * Every rule: the core layers' (rules.ts) and the sequence layers' above. exportOnnx reads the
 * table from here: the package is free of side effects for bundlers, so a bare
 * `import "./sequence-rules.js"` is dropped from a bundle, and these rules with it.
 */
export const ONNX_RULES: typeof onnxRules = onnxRules;
