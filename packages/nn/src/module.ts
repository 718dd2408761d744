/**
 * The module system, PyTorch-style: a model is a tree of modules; each module owns named
 * parameters (learned weights), buffers (state that is saved but not learned, such as batch-norm
 * running statistics) and child modules.
 *
 * Modules are found by looking at a module's own properties, in the order they were assigned:
 *
 *   class Mlp extends Module {
 *     hidden = new Dense(64, 32, { activation: "relu" });   // child "hidden"
 *     out = new Dense(32, 10);                              // child "out"
 *     forward(x: Tensor) { return this.out.call(this.hidden.call(x)); }
 *   }
 *
 * gives the parameter names `hidden.weight`, `hidden.bias`, `out.weight`, `out.bias`, always in
 * that order. A property holding a `Parameter`, a `StateBuffer` or a `Module` — directly, or in
 * an array (`key.0`, `key.1`, …) or a plain object (`key.name`) — is part of the tree; anything
 * else (numbers, options, plain tensors) is not.
 */
import { type Tensor as TensorType, Tensor } from "@zerograd/autograd";
import { NDArray, type OptionsOf, type Random, ShapeError, type Shape, boolean, defineOptions, fmtShape, shapesEqual } from "@zerograd/tensor";
import { propagateMask } from "./sequence/mask.js";

/**
 * A learned weight: a leaf tensor that requires a gradient and owns its storage (contiguous,
 * offset 0). Optimizers and `loadStateDict` write into `value.data` in place, so the object —
 * which optimizers and user code hold on to — never changes.
 */
export class Parameter extends Tensor {
  constructor(value: NDArray, requiresGrad = true) {
    super(new NDArray(value.copyData(), value.shape), requiresGrad);
  }
}

/**
 * State that is saved with the model but not learned (PyTorch's "buffer"): batch-norm running
 * mean and variance. It never requires a gradient; layers update it in place under `noGrad`.
 */
export class StateBuffer extends Tensor {
  constructor(value: NDArray) {
    super(new NDArray(value.copyData(), value.shape), false);
  }
}

/** A tensor as found in a state dict: an NDArray, or the `{ shape, data }` of a safetensors file. */
export type StateValue = NDArray | { shape: readonly number[]; data: Float32Array | Float64Array };

/** The saved state of a module: every parameter and buffer by its dotted name. */
export type StateDict = Record<string, NDArray>;

export const LOAD_STATE_DICT_OPTIONS = defineOptions({
  /** Refuse missing and unexpected keys (default true); false loads the keys both sides have. */
  strict: boolean({ default: true }),
});
export type LoadStateDictOptions = OptionsOf<typeof LOAD_STATE_DICT_OPTIONS>;

/** A state dict did not fit the module: keys missing or unexpected (shape mismatches are ShapeErrors). */
export class StateDictError extends Error {
  override readonly name = "StateDictError";
  constructor(
    readonly op: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys ${list(missing)}`);
    if (unexpected.length) parts.push(`unexpected keys ${list(unexpected)}`);
    super(`${op}: the state does not match the model: ${parts.join("; ")}`);
  }
}

function list(keys: readonly string[]): string {
  const shown = keys.slice(0, 8).map((k) => JSON.stringify(k));
  return `[${shown.join(", ")}${keys.length > 8 ? `, … ${keys.length - 8} more` : ""}]`;
}

/** Where a tensor of the tree lives: `owner[key]`. @internal */
export interface Slot {
  name: string;
  owner: object;
  key: string | number;
  tensor: Parameter | StateBuffer;
}

/**
 * What a property contributes to the tree: the value itself, or the items of an array
 * (`key.0`, `key.1`, …) or of a plain object (`key.name`), one level deep.
 */
function members(key: string, value: unknown): { name: string; value: unknown; owner: object | null; key: string | number }[] {
  if (Array.isArray(value)) return value.map((v, i) => ({ name: `${key}.${i}`, value: v, owner: value, key: i }));
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.entries(value).map(([k, v]) => ({ name: `${key}.${k}`, value: v, owner: value, key: k }));
  }
  return [{ name: key, value, owner: null, key }];
}

/**
 * The base class of every layer and model. Subclasses implement `forward`; callers use `call`
 * (today the same thing; it is the one place where hooks would go).
 */
export abstract class Module<I extends unknown[] = [TensorType], O = TensorType> {
  /** Training mode (dropout active, batch norm uses and updates batch statistics) or inference. */
  training = true;

  abstract forward(...inputs: I): O;

  call(...inputs: I): O {
    const output = this.forward(...inputs);
    propagateMask(this, inputs, output); // sequence masks travel through per-step layers (sequence/mask.ts)
    return output;
  }

  /**
   * The direct children, named. By default every own property holding a module (directly, or in
   * an array or plain object), in declaration order; containers may override it.
   */
  namedChildren(): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    for (const [key, value] of Object.entries(this)) {
      for (const item of members(key, value)) if (item.value instanceof Module) out.push([item.name, item.value]);
    }
    return out;
  }

  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted paths ("" for this one). */
  namedModules(prefix = ""): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const visit = (m: AnyModule, path: string) => {
      if (seen.has(m)) return; // a module shared twice (or a cycle) is listed once
      seen.add(m);
      out.push([path, m]);
      for (const [name, child] of m.namedChildren()) visit(child, path ? `${path}.${name}` : name);
    };
    visit(this, prefix);
    return out;
  }

  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Own parameters and buffers with where they live (not the children's). */
  private ownSlots(): Slot[] {
    const out: Slot[] = [];
    for (const [key, value] of Object.entries(this)) {
      for (const item of members(key, value)) {
        if (item.value instanceof Parameter || item.value instanceof StateBuffer) out.push({ name: item.name, owner: item.owner ?? this, key: item.key, tensor: item.value });
      }
    }
    return out;
  }

  /** Every parameter and buffer of the tree with its dotted name; a tensor shared twice is listed once. */
  private slots(): Slot[] {
    const out: Slot[] = [];
    const seen = new Set<TensorType>();
    for (const [path, m] of this.namedModules()) {
      for (const slot of m.ownSlots()) {
        if (seen.has(slot.tensor)) continue;
        seen.add(slot.tensor);
        out.push({ ...slot, name: path ? `${path}.${slot.name}` : slot.name });
      }
    }
    return out;
  }

  /** Every parameter with its dotted name (`trunk.0.weight`), in a stable order. */
  namedParameters(): [string, Parameter][] {
    return this.slots().flatMap((s) => (s.tensor instanceof Parameter ? [[s.name, s.tensor] as [string, Parameter]] : []));
  }

  /** The parameters, in the order of `namedParameters()`: what an optimizer is given. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer (saved, not learned) with its dotted name. */
  namedBuffers(): [string, StateBuffer][] {
    return this.slots().flatMap((s) => (s.tensor instanceof StateBuffer ? [[s.name, s.tensor] as [string, StateBuffer]] : []));
  }

  /** Every seeded generator of the tree (dropout layers own one), by dotted name: checkpoints save their state. */
  namedGenerators(): [string, Random][] {
    const out: [string, Random][] = [];
    for (const [path, m] of this.namedModules()) {
      const rng = (m as { generator?: unknown }).generator;
      if (rng && typeof (rng as Random).getState === "function") out.push([path ? `${path}.generator` : "generator", rng as Random]);
    }
    return out;
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Inference mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Forgets every parameter's gradient (call it before each backward, or gradients add up). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** A snapshot (copies) of every parameter and buffer, by dotted name: parameters and buffers per module, parents first. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const s of this.slots()) out[s.name] = new NDArray(s.tensor.value.copyData(), s.tensor.shape);
    return out;
  }

  /**
   * Copies values into the parameters and buffers, in place. Everything is checked first —
   * missing keys, unexpected keys (with `strict`, the default), shapes and finite values (NaN
   * and ±Infinity are refused) — so on an error the module is left untouched. Values are
   * converted to each parameter's dtype.
   */
  loadStateDict(state: Record<string, StateValue>, options: LoadStateDictOptions = {}): void {
    const op = "loadStateDict";
    const { strict } = LOAD_STATE_DICT_OPTIONS.parse(op, options);
    if (typeof state !== "object" || state === null) throw new TypeError(`${op}: expected an object of tensors by name, got ${String(state)}`);
    const slots = this.slots();
    const names = new Set(slots.map((s) => s.name));
    const missing = slots.filter((s) => !Object.hasOwn(state, s.name)).map((s) => s.name);
    const unexpected = Object.keys(state).filter((k) => !names.has(k));
    if (strict && (missing.length || unexpected.length)) throw new StateDictError(op, missing, unexpected);
    const writes: [Slot, Float32Array | Float64Array][] = [];
    for (const slot of slots) {
      if (!Object.hasOwn(state, slot.name)) continue;
      const value = state[slot.name]!;
      const { shape, data } = stateValueParts(op, slot.name, value);
      if (!shapesEqual(shape, slot.tensor.shape)) throw new ShapeError(op, `${JSON.stringify(slot.name)}: the saved shape differs from the model's`, [shape, slot.tensor.shape]);
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) throw new RangeError(`${op}: ${JSON.stringify(slot.name)} holds ${data[i]} at element ${i}; saved values must be finite`);
      }
      writes.push([slot, data]);
    }
    for (const [slot, data] of writes) slot.tensor.value.data.set(data);
  }

  /** One line per module, indented: the architecture at a glance (as PyTorch's repr). */
  toString(): string {
    const lines: string[] = [];
    const visit = (m: AnyModule, name: string, depth: number) => {
      const own = m.ownSlots().map((s) => `${s.name}${fmtShape(s.tensor.shape)}`);
      lines.push(`${"  ".repeat(depth)}${name ? `(${name}): ` : ""}${m.describe()}${own.length ? ` {${own.join(", ")}}` : ""}`);
      for (const [childName, child] of m.namedChildren()) visit(child, childName, depth + 1);
    };
    visit(this, "", 0);
    return lines.join("\n");
  }

  /** A short description of this module alone, e.g. `Dense(64 → 10)`; the class name by default. */
  describe(): string {
    return this.constructor.name;
  }

  /** @internal Used by functionalCall. */
  static slotsOf(m: AnyModule): Slot[] {
    return m.slots();
  }
}

/** A module with any signature: what containers and optimizers accept. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModule = Module<any[], any>;

function stateValueParts(op: string, name: string, value: StateValue): { shape: Shape; data: Float32Array | Float64Array } {
  if (value instanceof NDArray) return { shape: value.shape, data: value.flat() };
  if (typeof value === "object" && value !== null && Array.isArray(value.shape) && (value.data instanceof Float32Array || value.data instanceof Float64Array)) {
    const count = value.shape.reduce((n, d) => n * d, 1);
    if (count !== value.data.length) throw new ShapeError(op, `${JSON.stringify(name)}: ${value.data.length} values do not fill the shape`, [value.shape]);
    return { shape: value.shape, data: value.data };
  }
  throw new TypeError(`${op}: ${JSON.stringify(name)} must be an NDArray or { shape, data }, got ${String(value)}`);
}

/**
 * Calls `module` with some of its parameters or buffers replaced by the given tensors (by dotted
 * name), then puts the originals back — torch.func.functional_call. The model becomes a pure
 * function of its weights: `gradcheck((x, w) => functionalCall(layer, { weight: w }, x), [x, w])`.
 */
export function functionalCall<I extends unknown[], O>(module: Module<I, O>, replacements: Record<string, TensorType>, ...inputs: I): O {
  const op = "functionalCall";
  const slots = new Map(Module.slotsOf(module as AnyModule).map((s) => [s.name, s]));
  const swaps: [Slot, TensorType][] = [];
  for (const [name, t] of Object.entries(replacements)) {
    const slot = slots.get(name);
    if (!slot) throw new StateDictError(op, [], [name]);
    if (!(t instanceof Tensor)) throw new TypeError(`${op}: ${JSON.stringify(name)} must be a Tensor`);
    if (!shapesEqual(t.shape, slot.tensor.shape)) throw new ShapeError(op, `${JSON.stringify(name)}: the replacement's shape differs from the model's`, [t.shape, slot.tensor.shape]);
    swaps.push([slot, t]);
  }
  const put = (slot: Slot, t: TensorType) => {
    (slot.owner as Record<string | number, unknown>)[slot.key] = t;
  };
  try {
    for (const [slot, t] of swaps) put(slot, t);
    return module.call(...inputs);
  } finally {
    for (const [slot] of swaps) put(slot, slot.tensor);
  }
}
