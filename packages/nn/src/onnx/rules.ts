/**
 * How each layer becomes ONNX nodes: one rule per layer class, in one table. A rule receives the
 * layer, its traced inputs and the graph, adds nodes and initializers, and says which value (and
 * in which layout) is the layer's output. A class missing from the table cannot be exported; a
 * new layer (GRU, LSTM, attention) is exported by adding its entry here.
 *
 * Lookup is by exact class: a subclass may compute something else, so it needs its own entry.
 */
import type { Padding } from "@zerograd/tensor";
import { Flatten, Dense, Dropout, Embedding } from "../layers/core.js";
import { AvgPool2D, Conv2D, GlobalAveragePooling, MaxPool2D } from "../layers/conv.js";
import { BatchNormalization, LayerNormalization } from "../layers/normalization.js";
import { ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from "../layers/activations.js";
import type { AnyModule, Parameter } from "../module.js";
import type { Tensor } from "@zerograd/autograd";
import { type ActivationSpec, emitActivation, identifyActivation } from "./activation.js";
import { type GraphBuilder, type OnnxValue, type Produced, float, int, ints, once } from "./graph.js";

export interface RuleContext<M> {
  readonly layer: M;
  /** Names the layer's nodes and weights: its path in the model ("trunk.0"), or its class for the root. */
  readonly scope: string;
  /** Names the layer in errors: `Dense at "trunk.0"`. */
  readonly owner: string;
  /** The traced tensor arguments, in order (undefined where an optional argument was not given). */
  readonly inputs: readonly (OnnxValue | undefined)[];
  /** The call's options record (`{ mask, causal, … }`), or {} when none was given. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The boolean [N, T] graph value of the mask the first input carries (or the explicit `mask` option); undefined without one. */
  readonly mask: string | undefined;
  /** The traced value of a tensor found in the options (`what` names it in the error if it is not traced). */
  readonly value: (t: unknown, what: string) => OnnxValue;
  readonly g: GraphBuilder;
}

/** A rule returns the node output holding the layer's result, or an existing value (an identity, a deferred layout). */
export type OnnxRule<M = AnyModule> = (ctx: RuleContext<M>) => Produced | OnnxValue | MaskedResult;

/** A result that also says which boolean [N, T] value is its output's mask (default: the input's). */
export type MaskedResult = Produced & { mask?: string };

type LayerClass<M> = abstract new (...args: never[]) => M;

/** The export rules, by layer class. */
export const onnxRules = new Map<LayerClass<AnyModule>, OnnxRule>();

export function rule<M extends AnyModule>(cls: LayerClass<M>, fn: OnnxRule<M>): void {
  onnxRules.set(cls, fn as OnnxRule);
}

export function input(ctx: RuleContext<unknown>, i = 0): OnnxValue {
  const v = ctx.inputs[i];
  if (!v) throw new TypeError(`exportOnnx: ${ctx.owner} was called without its argument ${i}`);
  return v;
}

export const weightData = (p: Parameter | Tensor) => p.value.flat();

/** A layer activation applied in whatever layout `x` is in. */
function activate(ctx: RuleContext<unknown>, spec: ActivationSpec, x: Produced, rank: number): Produced {
  return emitActivation(ctx.g, ctx.scope, spec, x, rank);
}

/** The function a Dense or Conv2D applies after its affine map (a private field: see activation.ts). */
function layerActivation(ctx: RuleContext<Dense | Conv2D>): ActivationSpec {
  const fn: unknown = (ctx.layer as unknown as { activation?: unknown }).activation;
  if (typeof fn !== "function") throw new TypeError(`exportOnnx: cannot read the activation of ${ctx.owner} (no resolved activation function on the layer)`);
  return identifyActivation(ctx.owner, fn as (x: Tensor) => Tensor);
}

// y = x·Wᵀ + b. W is [out, in] (PyTorch's layout): Gemm with transB reads it as it is; inputs of
// rank > 2 (…, in) use MatMul with Wᵀ stored, then Add.
rule(Dense, (ctx) => {
  const { g, scope, layer } = ctx;
  const x = input(ctx);
  const flat = x.forms.last === undefined ? x.flatFirst : undefined;
  const xs = flat ? flat.read() : g.form(x, "last", scope);
  const rank = x.shape.length;
  const bias = layer.bias ? g.floats(`${scope}.bias`, [layer.outFeatures], weightData(layer.bias)) : null;
  let y: string;
  if (rank === 2) {
    const data = flat ? channelsFirstColumns(weightData(layer.weight), layer.outFeatures, flat.image) : weightData(layer.weight);
    const w = g.floats(`${scope}.weight`, [layer.outFeatures, layer.inFeatures], data);
    y = g.node(scope, "Gemm", bias ? [xs, w, bias] : [xs, w], { transB: int(1) });
  } else {
    const [o, n] = [layer.outFeatures, layer.inFeatures], w = weightData(layer.weight);
    const wt = Float32Array.from({ length: n * o }, (_, k) => w[(k % o) * n + Math.floor(k / o)]!); // wt[i][j] = w[j][i]
    y = g.node(scope, "MatMul", [xs, g.floats(`${scope}.weight_t`, [n, o], wt)]);
    if (bias) y = g.node(scope, "Add", [y, bias]);
  }
  return activate(ctx, layerActivation(ctx), { name: y, layout: "last" }, rank);
});

/**
 * Window attributes: ONNX pads are [top, left, bottom, right]. TensorFlow's "same" (the odd
 * row/column at the bottom/right) is ONNX's SAME_UPPER, for any input size; ONNX Runtime has no
 * dilated SAME_UPPER, so a dilated "same" window gets explicit pads for the traced image size,
 * which must then be fixed.
 */
function windowAttributes(ctx: RuleContext<unknown>, x: OnnxValue, kernel: [number, number], strides: [number, number], padding: Padding, dilations: [number, number] = [1, 1]) {
  const attributes = { kernel_shape: ints(kernel), strides: ints(strides) };
  const dilated = dilations[0] > 1 || dilations[1] > 1;
  if (padding === "same" && !dilated) return { ...attributes, auto_pad: { s: "SAME_UPPER" } };
  if (padding === "same" && !ctx.g.fixedSizes) throw new TypeError(`exportOnnx: ${ctx.owner} has dilated "same" padding, which ONNX expresses only for a fixed image size; give the input's height and width as numbers`);
  const same = (axis: 0 | 1): [number, number] => {
    const total = samePad(x.shape[axis + 1]!, kernel[axis], strides[axis], dilations[axis]);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [[top, bottom], [left, right]] = padding === "valid" ? [[0, 0], [0, 0]] : typeof padding === "number" ? [[padding, padding], [padding, padding]] : padding === "same" ? [same(0), same(1)] : padding;
  return { ...attributes, pads: ints([top, left, bottom, right]) };
}

/** TensorFlow's total "same" padding along one axis: max((⌈n/s⌉ − 1)·s + (k − 1)·d + 1 − n, 0). */
const samePad = (n: number, k: number, s: number, d: number) => Math.max((Math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0);

/**
 * A Dense weight [out, s·c] whose columns follow zerograd's flatten order (spatial position s,
 * then channel c) reordered for inputs flattened channels-first (c, then s): W'[o][c·S + s] = W[o][s·C + c].
 */
function channelsFirstColumns(w: ArrayLike<number>, out: number, image: readonly number[]): Float32Array {
  const C = image.at(-1)!, S = image.slice(0, -1).reduce((a, b) => a * b, 1), n = S * C;
  const p = new Float32Array(out * n);
  for (let o = 0; o < out; o++) for (let s = 0; s < S; s++) for (let c = 0; c < C; c++) p[o * n + c * S + s] = w[o * n + s * C + c]!;
  return p;
}

// Our filter is [kh, kw, in, out]; ONNX's Conv wants [out, in, kh, kw]: the weights are stored
// transposed, and the image goes channels-first (a Transpose only if it is not already).
rule(Conv2D, (ctx) => {
  const { g, scope, layer } = ctx;
  const x = input(ctx);
  const [kh, kw] = layer.kernelSize, [ci, co] = [layer.inChannels, layer.outChannels];
  const w = weightData(layer.weight);
  const onnxW = new Float32Array(co * ci * kh * kw);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) onnxW[((o * ci + c) * kh + i) * kw + j] = w[((i * kw + j) * ci + c) * co + o]!;
  const inputs = [g.form(x, "first", scope), g.floats(`${scope}.weight`, [co, ci, kh, kw], onnxW)];
  if (layer.bias) inputs.push(g.floats(`${scope}.bias`, [co], weightData(layer.bias)));
  const attributes = { ...windowAttributes(ctx, x, layer.kernelSize, layer.strides, layer.padding, layer.dilations), dilations: ints(layer.dilations) };
  const y = g.node(scope, "Conv", inputs, attributes);
  return activate(ctx, layerActivation(ctx), { name: y, layout: "first" }, 4);
});

function pool(op: "MaxPool" | "AveragePool") {
  return (ctx: RuleContext<MaxPool2D | AvgPool2D>): Produced => {
    const { g, scope, layer } = ctx;
    const x = input(ctx);
    const s = layer.options.strides ?? layer.poolSize;
    const strides: [number, number] = typeof s === "number" ? [s, s] : [s[0], s[1]];
    const attributes = windowAttributes(ctx, x, layer.poolSize, strides, layer.options.padding ?? "valid");
    // Average pooling does not count padding (count_include_pad = 0, ONNX's default).
    return { name: g.node(scope, op, [g.form(x, "first", scope)], attributes), layout: "first" };
  };
}
rule(MaxPool2D, pool("MaxPool"));
rule(AvgPool2D, pool("AveragePool"));

// The mean over the axes between batch and channels; with a mask, over the real positions only:
// Σ where(mask ≠ 0, x, 0) / max(#real, 1).
rule(GlobalAveragePooling, (ctx) => {
  const { g, scope } = ctx;
  const x = input(ctx), mask = ctx.inputs[1], r = x.shape.length;
  if (!mask) {
    const { name, layout } = g.anyForm(x, scope);
    const axes = Array.from({ length: r - 2 }, (_, i) => (layout === "first" ? i + 2 : i + 1));
    return { name: g.reduce(scope, "ReduceMean", name, axes, false), layout: "last" };
  }
  const axes = Array.from({ length: r - 2 }, (_, i) => i + 1);
  const m = mask.type === "float" ? g.form(mask, "last", scope) : g.node(scope, "Cast", [g.form(mask, "last", scope)], { to: int(1) });
  const real = g.node(scope, "Not", [g.node(scope, "Equal", [m, g.scalar(`${scope}.zero`, 0)])]);
  const realCol = g.node(scope, "Unsqueeze", [real, g.int64s(`${scope}.last_axis`, [-1])]);
  const total = g.reduce(scope, "ReduceSum", g.node(scope, "Where", [realCol, g.form(x, "last", scope), g.scalar(`${scope}.zero`, 0)]), axes, false);
  const count = g.reduce(scope, "ReduceSum", g.node(scope, "Cast", [realCol], { to: int(1) }), axes, false);
  return { name: g.node(scope, "Div", [total, g.node(scope, "Max", [count, g.scalar(`${scope}.one`, 1)])]), layout: "last" };
});

// zerograd flattens in its own (channels-last) element order: Reshape to [d0, …, d(start−1), −1].
rule(Flatten, (ctx) => {
  const { g, scope, layer } = ctx;
  const x = input(ctx), r = x.shape.length;
  const start = layer.startAxis < 0 ? layer.startAxis + r : layer.startAxis;
  const reshape = (name: string) => g.node(scope, "Reshape", [name, g.int64s(`${scope}.shape`, [...Array.from({ length: start }, () => 0), -1])]);
  if (start === 1 && r >= 3 && x.forms.last === undefined) {
    // A channels-first image (after Conv or pooling) is flattened as it is; zerograd's order is made only if a consumer other than Dense asks.
    const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
    return { shape: [x.shape[0]!, features], type: "float", forms: {}, flatFirst: { read: once(() => reshape(x.forms.first!)), image: x.shape.slice(1), toLast: once(() => reshape(g.form(x, "last", scope))) } };
  }
  return { name: reshape(g.form(x, "last", scope)), layout: "last" };
});

// At inference Dropout is the identity: its output is its input's value.
rule(Dropout, (ctx) => input(ctx));

rule(BatchNormalization, (ctx) => {
  const { g, scope, layer } = ctx;
  const x = input(ctx), c = layer.numFeatures;
  const vec = (name: string, t: Tensor | null, fill: number) => g.floats(`${scope}.${name}`, [c], t ? weightData(t) : new Float32Array(c).fill(fill));
  const inputs = [g.form(x, "first", scope), vec("weight", layer.weight, 1), vec("bias", layer.bias, 0), vec("running_mean", layer.running_mean, 0), vec("running_var", layer.running_var, 1)];
  return { name: g.node(scope, "BatchNormalization", inputs, { epsilon: float(layer.eps) }), layout: "first" };
});

rule(LayerNormalization, (ctx) => {
  const { g, scope, layer } = ctx;
  const x = g.form(input(ctx), "last", scope), shape = layer.normalizedShape, k = shape.length;
  const size = shape.reduce((a, b) => a * b, 1);
  const scale = g.floats(`${scope}.weight`, shape, layer.weight ? weightData(layer.weight) : new Float32Array(size).fill(1));
  const bias = layer.bias ? g.floats(`${scope}.bias`, shape, weightData(layer.bias)) : null;
  if (g.opset >= 17) return { name: g.node(scope, "LayerNormalization", bias ? [x, scale, bias] : [x, scale], { axis: int(-k), epsilon: float(layer.eps) }), layout: "last" };
  // Before opset 17: (x − μ) / √(σ² + ε) · γ + β, with μ and σ² over the last k axes.
  const axes = Array.from({ length: k }, (_, i) => -k + i);
  const centred = g.node(scope, "Sub", [x, g.reduce(scope, "ReduceMean", x, axes, true)]);
  const variance = g.reduce(scope, "ReduceMean", g.node(scope, "Mul", [centred, centred]), axes, true);
  const normalised = g.node(scope, "Div", [centred, g.node(scope, "Sqrt", [g.node(scope, "Add", [variance, g.scalar(`${scope}.eps`, layer.eps)])])]);
  const scaled = g.node(scope, "Mul", [normalised, scale]);
  return { name: bias ? g.node(scope, "Add", [scaled, bias]) : scaled, layout: "last" };
});

// Rows of the table by index: Gather along axis 0 (indices must be integers: float inputs are cast).
rule(Embedding, (ctx) => {
  const { g, scope, layer } = ctx;
  const idx = input(ctx), name = g.form(idx, "last", scope);
  const indices = idx.type === "int64" ? name : g.node(scope, "Cast", [name], { to: int(7) });
  const table = g.floats(`${scope}.weight`, [layer.numEmbeddings, layer.embeddingDim], weightData(layer.weight));
  const rows = g.node(scope, "Gather", [table, indices], { axis: int(0) });
  if (!layer.maskZero) return { name: rows, layout: "last" };
  // maskZero: the step exists where the id is not 0 (the padding index), the mask made in the graph from the ids.
  const zero = idx.type === "int64" ? g.int64s(`${scope}.pad_id`, [0]) : g.scalar(`${scope}.pad_id`, 0);
  return { name: rows, layout: "last", mask: g.node(scope, "Not", [g.node(scope, "Equal", [name, zero])]) };
});

function activationRule(spec: (layer: never) => ActivationSpec): OnnxRule {
  return (ctx) => {
    const x = input(ctx);
    return activate(ctx, spec(ctx.layer as never), ctx.g.anyForm(x, ctx.scope), x.shape.length);
  };
}
rule(ReLU, activationRule(() => ({ op: "relu" })));
rule(LeakyReLU, activationRule((l: LeakyReLU) => ({ op: "leakyRelu", slope: l.slope })));
rule(ELU, activationRule((l: ELU) => ({ op: "elu", alpha: l.alpha })));
rule(GELU, activationRule(() => ({ op: "gelu" })));
rule(Sigmoid, activationRule(() => ({ op: "sigmoid" })));
rule(Tanh, activationRule(() => ({ op: "tanh" })));
rule(Softmax, activationRule((l: Softmax) => ({ op: "softmax", axis: l.axis })));
