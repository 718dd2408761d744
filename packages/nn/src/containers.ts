/**
 * Ways to put modules together: Sequential (a chain), MultiHead (a shared trunk with named
 * heads) and Functional (any forward function over named modules). Models with several outputs
 * return a `Record<string, Tensor>`; fit() pairs each output with the loss and labels of the same name.
 */
import type { Tensor } from "@zerograd/autograd";
import { type AnyModule, Module } from "./module.js";
import { type MaskArg, carriedMask, isMaskingLayer, maskOf, toMask, withMask } from "./sequence/mask.js";

/** A module from one tensor to one tensor: what Sequential chains (mask-aware layers also take `{ mask }`). */
export type Layer = Module<[Tensor], Tensor> | Module<[Tensor, MaskArg?], Tensor>;

function checkName(op: string, name: string): void {
  if (name === "" || name.includes(".")) throw new RangeError(`${op}: module names must be non-empty and contain no ".", got ${JSON.stringify(name)}`);
}

/**
 * Applies layers one after another. Children are named "0", "1", … (or by the keys of a record),
 * as torch.nn.Sequential names them, so `0.weight` is the first layer's weight.
 *
 * Sequence masks are carried along: the mask given as `{ mask }` (or attached to the input, or
 * made by an `Embedding` with `maskZero`) is passed to each mask-aware layer, which declares the
 * mask of its output; other layers keep it when their output keeps the [N, T] axes. The output
 * carries the final mask (read it with `maskOf`; fit() ANDs it into the loss).
 */
export class Sequential extends Module<[Tensor, MaskArg?], Tensor> {
  private readonly entries: [string, Layer][];

  constructor(layers: readonly Layer[] | Record<string, Layer> = []) {
    super();
    this.entries = Array.isArray(layers) ? layers.map((l, i) => [String(i), l] as [string, Layer]) : Object.entries(layers);
    for (const [name, layer] of this.entries) {
      checkName("Sequential", name);
      if (!(layer instanceof Module)) throw new TypeError(`Sequential: layer ${JSON.stringify(name)} is not a Module`);
    }
  }

  /** Appends a layer (named by its position); returns this, for chaining. */
  add(layer: Layer): this {
    if (!(layer instanceof Module)) throw new TypeError("Sequential.add: expected a Module");
    this.entries.push([String(this.entries.length), layer]);
    return this;
  }

  /** The layers, in order. */
  get layers(): Layer[] {
    return this.entries.map(([, l]) => l);
  }

  get length(): number {
    return this.entries.length;
  }

  /** The i-th layer (negative counts from the end). */
  at(i: number): Layer {
    const layer = this.entries.at(i)?.[1];
    if (!layer) throw new RangeError(`Sequential.at: index ${i} is out of range for ${this.entries.length} layers`);
    return layer;
  }

  override namedChildren(): [string, AnyModule][] {
    return this.entries.map(([n, l]) => [n, l]);
  }

  forward(x: Tensor, options: MaskArg = {}): Tensor {
    const input = x;
    let mask = options.mask === undefined || options.mask === null ? maskOf(x) : toMask("Sequential", options.mask, x.dtype);
    for (const [, layer] of this.entries) {
      const y: Tensor = isMaskingLayer(layer) ? (layer as Module<[Tensor, MaskArg?], Tensor>).call(x, { mask }) : (layer as Module<[Tensor], Tensor>).call(x);
      mask = maskOf(y) ?? (isMaskingLayer(layer) ? null : carriedMask(mask, y));
      x = y;
    }
    return x === input ? x : withMask(x, mask);
  }
}

/**
 * A shared trunk feeding several heads: `forward(x)` returns `{ [head]: head(trunk(x)) }`.
 * Parameters are named `trunk.…` and `heads.<name>.…`.
 */
export class MultiHead<K extends string = string, H extends Record<K, Layer> = Record<K, Layer>> extends Module<[Tensor], Record<K, Tensor>> {
  constructor(
    readonly trunk: Layer,
    /** The heads by output name (their own types are kept: `model.heads.digit.weight`). */
    readonly heads: H,
  ) {
    super();
    const names = Object.keys(heads);
    if (names.length === 0) throw new RangeError("MultiHead: needs at least one head");
    for (const name of names) {
      checkName("MultiHead", name);
      if (!((heads as Record<string, unknown>)[name] instanceof Module)) throw new TypeError(`MultiHead: head ${JSON.stringify(name)} is not a Module`);
    }
  }

  forward(x: Tensor): Record<K, Tensor> {
    const h = this.trunk.call(x);
    const out = {} as Record<K, Tensor>;
    for (const name of Object.keys(this.heads) as K[]) out[name] = (this.heads as Record<K, Layer>)[name].call(h);
    return out;
  }
}

/**
 * A model written as a function over named modules, without a class:
 *
 *   const model = new Functional({ trunk, digit, parity }, (m, x) => {
 *     const h = m.trunk.call(x);
 *     return { digit: m.digit.call(h), parity: m.parity.call(h) };
 *   });
 *
 * Children are named by the record's keys (`trunk.0.weight`, `digit.weight`, …).
 */
export class Functional<M extends Record<string, AnyModule>, I extends unknown[], O> extends Module<I, O> {
  constructor(
    readonly components: M,
    private readonly fn: (components: M, ...inputs: I) => O,
  ) {
    super();
    for (const [name, m] of Object.entries(components)) {
      checkName("Functional", name);
      if (!(m instanceof Module)) throw new TypeError(`Functional: ${JSON.stringify(name)} is not a Module`);
    }
    if (typeof fn !== "function") throw new TypeError("Functional: the forward must be a function");
  }

  override namedChildren(): [string, AnyModule][] {
    return Object.entries(this.components);
  }

  forward(...inputs: I): O {
    return this.fn(this.components, ...inputs);
  }
}
