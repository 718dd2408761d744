/**
 * exportOnnx: a zerograd model as an ONNX ModelProto, with the weights as initializers.
 *
 * How: the model runs once in inference mode on example inputs (zeros, batch 1) with every layer
 * that has an export rule (see rules.ts) observed. Containers (Sequential, MultiHead, Functional,
 * or any module whose forward only calls its children) are run through, not exported: what is
 * recorded is each layer call, with the tensors it took and returned, in execution order, so
 * the layer graph (shared trunks, several heads, several inputs) comes out as it was run. A tensor
 * made by operations outside layers has no ONNX value, and using it is an error naming where.
 */
import { Tensor, noGrad } from "@zerograd/autograd";
import { NDArray, zeros } from "@zerograd/tensor";
import { type AnyModule, Module } from "../module.js";
import { GraphBuilder, type OnnxValue, type Produced, int } from "./graph.js";
import { type ElemType, type ValueInfo, encodeModel } from "./proto.js";
import { ONNX_RULES as onnxRules } from "./sequence-rules.js";
import { maskOf } from "../sequence/mask.js";

/** The package version, written as the ONNX producer_version. */
export const ZEROGRAD_VERSION = "0.1.0";

/** A dimension: a size, or a name (or null) for a dynamic one. A dynamic axis 0 is named "batch". */
export type OnnxDim = number | string | null;

/** An input's shape, or its shape and element type ("int64" for token ids; default "float"). */
export type OnnxInputSpec = readonly OnnxDim[] | { readonly shape: readonly OnnxDim[]; readonly type?: "float" | "int64" };

export interface OnnxExportOptions {
  /**
   * The model's inputs by name, in the order of the record. With one input the model is called
   * with a tensor; with several, with a record of tensors by these names (as predict() does).
   */
  inputs: Record<string, OnnxInputSpec>;
  /** The graph output's name for a model returning one tensor (default "output"); a model returning a record names its outputs by its keys. */
  output?: string;
  /** The ONNX operator set, 13 to 21 (default 17). */
  opset?: number;
  /** Stored in the model's metadata_props (e.g. a vocabulary, as JSON). */
  metadata?: Record<string, string>;
  /** The model's doc_string. */
  docString?: string;
}

const MIN_OPSET = 13, MAX_OPSET = 21;
/** The example inputs: a dynamic batch is traced with one row, another dynamic axis at this size. */
const TRACED_DYNAMIC_SIZE = 8;

/** The IR version that introduced each operator set (an importer refuses an older IR). */
function irVersionFor(opset: number): number {
  return opset <= 14 ? 7 : opset <= 17 ? 8 : opset <= 20 ? 9 : 10;
}

interface InputInfo {
  name: string;
  type: ElemType;
  shape: (number | string)[];
  example: Tensor;
}

function readInputs(options: OnnxExportOptions): InputInfo[] {
  const entries = Object.entries(options.inputs ?? {});
  if (entries.length === 0) throw new TypeError("exportOnnx: options.inputs must name at least one input with its shape, e.g. { x: [null, 784] }");
  return entries.map(([name, spec]) => {
    const shape = Array.isArray(spec) ? spec : (spec as { shape: OnnxDim[] }).shape;
    const type = Array.isArray(spec) ? "float" : ((spec as { type?: ElemType }).type ?? "float");
    if (!Array.isArray(shape) || shape.length === 0) throw new TypeError(`exportOnnx: input ${JSON.stringify(name)} needs a shape with a batch axis, e.g. [null, 784]`);
    if (type !== "float" && type !== "int64") throw new TypeError(`exportOnnx: input ${JSON.stringify(name)} has type ${JSON.stringify(type)}; expected "float" or "int64"`);
    const dims = shape.map((d, i) => {
      if (d === null) return i === 0 ? "batch" : `${name}_${i}`;
      if (typeof d === "string" && d !== "") return d;
      if (typeof d === "number" && Number.isInteger(d) && d > 0) return d;
      throw new RangeError(`exportOnnx: input ${JSON.stringify(name)} dimension ${i} is ${JSON.stringify(d)}; expected a positive integer, or null or a name for a dynamic size`);
    });
    const example = new Tensor(zeros(dims.map((d, i) => (typeof d === "number" ? d : i === 0 ? 1 : TRACED_DYNAMIC_SIZE))));
    return { name, type, shape: dims, example };
  });
}

const ownerOf = (m: AnyModule, path: string) => (path === "" ? `${m.constructor.name} (the model itself)` : `${m.constructor.name} at ${JSON.stringify(path)}`);

/** The layers with a rule (not looking inside them); a module with neither a rule nor children is an error. */
function exportedLayers(model: AnyModule): Map<AnyModule, string> {
  const layers = new Map<AnyModule, string>();
  const visit = (m: AnyModule, path: string) => {
    if (layers.has(m)) return;
    if (onnxRules.has(m.constructor as never)) layers.set(m, path);
    else if (m.namedChildren().length === 0) {
      const supported = [...onnxRules.keys()].map((c) => c.name).join(", ");
      throw new TypeError(`exportOnnx: ${ownerOf(m, path)} has no ONNX export rule; layers that export: ${supported}, and containers of them (Sequential, MultiHead, Functional)`);
    } else for (const [name, child] of m.namedChildren()) visit(child, path ? `${path}.${name}` : name);
  };
  visit(model, "");
  return layers;
}

type LayerCall = (layer: AnyModule, path: string, args: unknown[], out: unknown) => void;

/** Runs `run` with each layer's `call` observed (outer layer calls only), then puts `call` back. */
function observeLayers<T>(layers: Map<AnyModule, string>, onCall: LayerCall, run: () => T): T {
  const patched: AnyModule[] = [];
  let depth = 0;
  try {
    for (const [layer, path] of layers) {
      if (Object.hasOwn(layer, "call")) throw new TypeError(`exportOnnx: ${ownerOf(layer, path)} has its own "call" property; it cannot be traced`);
      const original = layer.call;
      const observed = (...args: unknown[]) => {
        if (depth > 0) return original.apply(layer, args);
        depth++;
        let out: unknown;
        try {
          out = original.apply(layer, args);
        } finally {
          depth--;
        }
        onCall(layer, path, args, out);
        return out;
      };
      Object.defineProperty(layer, "call", { value: observed, configurable: true, writable: true, enumerable: false });
      patched.push(layer);
    }
    return run();
  } finally {
    for (const layer of patched) delete (layer as { call?: unknown }).call;
  }
}

/** A value held under `p.name` in `p.layout` (both layouts, for ranks ≤ 2 where they agree). */
function valueOf(shape: readonly number[], type: ElemType, p: Produced): OnnxValue {
  return { shape: [...shape], type, forms: shape.length <= 2 ? { first: p.name, last: p.name } : { [p.layout]: p.name } };
}

/** A call's options record (a plain object after the first argument), e.g. `{ mask, causal }`. */
const isOptions = (a: unknown, i: number): a is Record<string, unknown> => i > 0 && typeof a === "object" && a !== null && !(a instanceof Tensor) && !(a instanceof NDArray) && !Array.isArray(a);

/** What the trace knows: each tensor's ONNX value, and each mask tensor's boolean [N, T] graph value. */
interface Traced {
  values: Map<object, OnnxValue>;
  masks: Map<object, string>;
}

/** The boolean graph value of mask tensor `m` (a graph input or layer output of 0/1 is cast once). */
function maskName(g: GraphBuilder, t: Traced, m: Tensor, owner: string): string {
  const known = t.masks.get(m);
  if (known !== undefined) return known;
  const v = t.values.get(m);
  if (!v) throw new TypeError(`exportOnnx: the mask given to ${owner} was not made by a layer the exporter follows or a model input; pass it as a model input or let Embedding(maskZero) make it`);
  const name = g.node("mask", "Cast", [g.form(v, "last", "mask")], { to: int(9) });
  t.masks.set(m, name);
  return name;
}

/** Emits one layer call's nodes and records its output value (and the mask it carries). */
function emitCall(g: GraphBuilder, t: Traced, layer: AnyModule, path: string, args: unknown[], out: unknown): void {
  const owner = ownerOf(layer, path);
  const lookup = (a: unknown, what: string): OnnxValue => {
    const v = a instanceof Tensor || a instanceof NDArray ? t.values.get(a) : undefined;
    if (!v) throw new TypeError(`exportOnnx: ${what} of ${owner} was not made by a layer the exporter follows (it was computed by operations outside layers, or is not a tensor); wrap that computation in a layer`);
    return v;
  };
  const inputs = args.map((a, i) => (a === undefined || isOptions(a, i) ? undefined : lookup(a, `argument ${i}`)));
  const options = (args.find((a, i) => isOptions(a, i)) ?? {}) as Record<string, unknown>;
  const given = options.mask ?? maskOf(args[0]);
  const mask = given instanceof Tensor ? maskName(g, t, given, owner) : undefined;
  if (given !== undefined && given !== null && mask === undefined) throw new TypeError(`exportOnnx: the mask given to ${owner} is not a tensor made in the model; pass it as a model input`);
  if (!(out instanceof Tensor)) throw new TypeError(`exportOnnx: ${owner} did not return one tensor (returnState and other record outputs do not export)`);
  const ctx = { layer, scope: path || layer.constructor.name, owner, inputs, options, mask, value: lookup, g };
  const result = onnxRules.get(layer.constructor as never)!(ctx);
  if (!t.values.has(out)) t.values.set(out, "forms" in result ? result : valueOf(out.shape, "float", result));
  const outMask = maskOf(out);
  if (outMask && !t.masks.has(outMask)) {
    const made = "mask" in result && result.mask !== undefined ? result.mask : mask;
    if (made === undefined) throw new TypeError(`exportOnnx: ${owner} returned a mask its export rule does not make`);
    t.masks.set(outMask, made);
  }
}

/** The model's outputs by graph output name. */
function namedOutputs(result: unknown, singleName: string): [string, Tensor][] {
  if (result instanceof Tensor) return [[singleName, result]];
  if (typeof result === "object" && result !== null && !(result instanceof Module)) {
    const entries = Object.entries(result);
    if (entries.length > 0 && entries.every(([, t]) => t instanceof Tensor)) return entries as [string, Tensor][];
  }
  throw new TypeError("exportOnnx: the model must return a tensor or a record of tensors");
}

/** The graph outputs: an Identity from each output's channels-last value to the output name. */
function emitOutputs(g: GraphBuilder, { values }: Traced, outputs: [string, Tensor][], staticTail: boolean): ValueInfo[] {
  return outputs.map(([name, t]) => {
    const v = values.get(t);
    if (!v) throw new TypeError(`exportOnnx: output ${JSON.stringify(name)} was computed by operations outside layers; only layer calls are exported`);
    g.node(name, "Identity", [g.form(v, "last", name)], {}, g.reserve(name, "output"));
    // Axis 0 is the batch; the other axes are as traced unless an input had a named dimension.
    const shape = t.shape.map((d, i) => (i === 0 ? "batch" : staticTail ? d : `${name}_${i}`));
    return { name, type: "float", shape };
  });
}

function readOptions(options: OnnxExportOptions): { opset: number; metadata: Record<string, string> } {
  if (typeof options !== "object" || options === null) throw new TypeError("exportOnnx: options must be an object with `inputs`");
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new RangeError(`exportOnnx: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  const metadata = options.metadata ?? {};
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== "string") throw new TypeError(`exportOnnx: metadata ${JSON.stringify(k)} must be a string, got ${typeof v}`);
  return { opset, metadata };
}

/**
 * Exports `model` as an ONNX model (the bytes of a .onnx file) that computes what `predict`
 * computes: inference mode, graph inputs and outputs named as the model's, axis 0 dynamic.
 * A layer with no export rule is a TypeError naming it, before anything is written.
 */
export function exportOnnx(model: AnyModule, options: OnnxExportOptions): Uint8Array {
  if (!(model instanceof Module)) throw new TypeError("exportOnnx: model must be a Module");
  const { opset, metadata } = readOptions(options);
  const inputs = readInputs(options);
  const layers = exportedLayers(model);
  const fixedSizes = inputs.every((i) => i.shape.slice(1).every((d) => typeof d === "number"));
  const g = new GraphBuilder(opset, fixedSizes);
  const traced: Traced = { values: new Map(), masks: new Map() };
  const values = traced.values;
  for (const i of inputs) {
    const v = valueOf(i.example.shape, i.type, { name: g.reserve(i.name, "input"), layout: "last" });
    values.set(i.example, v).set(i.example.value, v);
  }
  const arg = inputs.length === 1 ? inputs[0]!.example : Object.fromEntries(inputs.map((i) => [i.name, i.example]));
  const modes = model.modules().map((m) => [m, m.training] as const);
  let result: unknown;
  try {
    model.eval();
    result = observeLayers(layers, (layer, path, args, out) => emitCall(g, traced, layer, path, args, out), () => noGrad(() => model.call(arg)));
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  const outputs = emitOutputs(g, traced, namedOutputs(result, options.output ?? "output"), fixedSizes);
  const graph = { name: model.constructor.name, nodes: g.nodes, initializers: g.initializers, inputs: inputs.map(({ name, type, shape }) => ({ name, type, shape })), outputs };
  return encodeModel({ irVersion: irVersionFor(opset), opsetVersion: opset, producerName: "zerograd", producerVersion: ZEROGRAD_VERSION, docString: options.docString ?? "", graph, metadata });
}
