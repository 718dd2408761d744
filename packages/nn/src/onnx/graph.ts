/**
 * Builds an ONNX graph node by node. Each traced tensor becomes an OnnxValue that may exist in
 * two layouts: zerograd's channels-last (NHWC, [n, t, c], …) and ONNX's channels-first (NCHW),
 * which Conv, pooling and BatchNormalization need. A layout is made with a Transpose only when a
 * node asks for it, and kept: a chain Conv → MaxPool → Conv stays channels-first throughout, and
 * the transpose back happens once, where a channels-last consumer (Flatten, Dense, an output)
 * first reads the value.
 */
import type { Attribute, ElemType, OnnxNode, OnnxTensor } from "./proto.js";

/** "last": zerograd's element order (channels on the last axis); "first": channels on axis 1. */
export type Layout = "last" | "first";

export interface OnnxValue {
  /** The shape in zerograd's (channels-last) order, as traced (the batch size is the example's). */
  readonly shape: readonly number[];
  readonly type: ElemType;
  /** The graph value names holding it, by layout. */
  readonly forms: Partial<Record<Layout, string>>;
  /**
   * Set by Flatten on a channels-first value: how to make the same [n, features] values flattened
   * in the channels-first order (c, then the other axes), `image` the flattened axes in zerograd's
   * order, and how to make zerograd's order if a consumer needs it (each made once, when asked). A Dense reads this form with its
   * weight columns permuted instead, so Conv → Flatten → Dense needs no Transpose.
   */
  readonly flatFirst?: { read: () => string; image: readonly number[]; toLast: () => string };
}

/** A value made by a node: its name and the layout that name holds. */
export interface Produced {
  name: string;
  layout: Layout;
}

/** Axis permutation from channels-last to channels-first: [0, r−1, 1, …, r−2]. */
export function toFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Axis permutation from channels-first back to channels-last: [0, 2, …, r−1, 1]. */
export function toLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** Where zerograd's axis `axis` (of a rank-r value) sits in the channels-first layout. */
export function axisIn(layout: Layout, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (layout === "last" || rank <= 2 || a === 0) return a;
  return a === rank - 1 ? 1 : a + 1;
}

/** f, called once, when first needed. */
export function once(f: () => string): () => string {
  let made: string | undefined;
  return () => (made ??= f());
}

export const int = (i: number): Attribute => ({ i });
export const float = (f: number): Attribute => ({ f });
export const ints = (v: readonly number[]): Attribute => ({ ints: [...v] });

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();

  constructor(
    readonly opset: number,
    /** Whether every input's axes but the batch have fixed sizes (so traced sizes hold for any input). */
    readonly fixedSizes: boolean,
  ) {}

  /** A name not used yet, from `base` (then base_1, base_2, …). */
  unique(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name exactly (graph inputs and outputs); a clash is an error. */
  reserve(name: string, what: string): string {
    if (this.used.has(name)) throw new RangeError(`exportOnnx: ${what} name ${JSON.stringify(name)} is used twice`);
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output, named after `scope`; returns the output's name. */
  node(scope: string, opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const out = output ?? this.unique(`${scope}/${opType}`);
    this.nodes.push({ opType, inputs, outputs: [out], name: this.unique(`${scope}/${opType}_node`), attributes });
    return out;
  }

  /** Adds a node with several outputs (RNNs' Y and Y_h, TopK's values and indices); returns their names. */
  nodeOutputs(scope: string, opType: string, inputs: string[], count: number, attributes: Record<string, Attribute> = {}): string[] {
    const outs = Array.from({ length: count }, (_, i) => this.unique(`${scope}/${opType}:${i}`));
    this.nodes.push({ opType, inputs, outputs: outs, name: this.unique(`${scope}/${opType}_node`), attributes });
    return outs;
  }

  /** A float32 initializer (a weight or a constant). */
  floats(name: string, dims: readonly number[], data: ArrayLike<number>): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [...dims], type: "float", data: Float32Array.from(data) });
    return unique;
  }

  /** A scalar float32 constant. */
  scalar(name: string, value: number): string {
    return this.floats(name, [], [value]);
  }

  /** A 1-D int64 initializer (shapes and axes given as inputs). */
  int64s(name: string, values: readonly number[]): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [values.length], type: "int64", data: [...values] });
    return unique;
  }

  /** The value's name in `layout`, adding a Transpose the first time that layout is asked for. */
  form(v: OnnxValue, layout: Layout, scope: string): string {
    const have = v.forms[layout];
    if (have !== undefined) return have;
    if (v.flatFirst && v.forms.last === undefined) return this.setBoth(v, v.flatFirst.toLast());
    const other = v.forms[layout === "first" ? "last" : "first"]!;
    if (v.shape.length <= 2) return other; // [n, c]: both layouts are the same array
    const perm = layout === "first" ? toFirstPerm(v.shape.length) : toLastPerm(v.shape.length);
    const name = this.node(scope, "Transpose", [other], { perm: ints(perm) });
    (v.forms as Record<Layout, string>)[layout] = name;
    return name;
  }

  /** For elementwise ops: whichever layout the value already has (channels-first if both). */
  anyForm(v: OnnxValue, scope: string): Produced {
    if (v.forms.first !== undefined) return { name: v.forms.first, layout: "first" };
    return { name: this.form(v, "last", scope), layout: "last" };
  }

  /** Records `name` as both layouts of a rank-2 value (where they are the same array). */
  private setBoth(v: OnnxValue, name: string): string {
    Object.assign(v.forms, { first: name, last: name });
    return name;
  }

  /** A reduction over `axes` (ReduceMean's and ReduceMax's axes moved from an attribute to an input in opset 18; ReduceSum's in 13). */
  reduce(scope: string, op: "ReduceMean" | "ReduceSum" | "ReduceMax", x: string, axes: readonly number[], keepDims: boolean): string {
    const axesAsInput = op === "ReduceSum" || this.opset >= 18;
    const keep = { keepdims: int(keepDims ? 1 : 0) };
    if (axesAsInput) return this.node(scope, op, [x, this.int64s(`${scope}.axes`, axes)], keep);
    return this.node(scope, op, [x], { ...keep, axes: ints(axes) });
  }
}
