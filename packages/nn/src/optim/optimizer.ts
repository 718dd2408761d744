/**
 * The optimizer base class. An optimizer holds the parameters it updates, the learning rate and,
 * per parameter, its state ("slots": momentum buffers, Adam's moments…). `step()` reads each
 * parameter's `.grad` and writes the new values into the parameter's storage in place, so the
 * parameter objects (and a model's references to them) never change.
 *
 * The update rules are plain loops over the flat typed arrays (Adam's is a kernel: WebAssembly
 * SIMD where available): no graph is recorded, and once the slots exist a step allocates no
 * array. A gradient is read where it lies, as a strided view (Dense's weight gradient is a
 * transposed view); an optimizer whose `update` wants it row-major gets strided ones gathered
 * into a buffer that the optimizer keeps from one step to the next.
 */
import type { Tensor } from "@zerograd/autograd";
import { type AdamArgs, NDArray, ShapeError, type Storage, allocate, checkArg, firstNonFiniteOf, fmtShape, kernels, number, oneOf, shapesEqual } from "@zerograd/tensor";

/** A serialisable snapshot of an optimizer: plain numbers and arrays (see `encodeCheckpoint`). */
export interface OptimizerState {
  /** The optimizer's class name, checked on load. */
  type: string;
  lr: number;
  /** The other hyperparameters (betas, momentum, weight decay…). */
  options: Record<string, number | boolean>;
  /** Per parameter: how many updates it has received (Adam's bias correction uses it). */
  steps: number[];
  /** Per slot name, per parameter: the slot's values, or null if the parameter never had a gradient. */
  slots: Record<string, (NDArray | null)[]>;
}

/** What `step()` does when a gradient holds NaN or ±Infinity: throw (default), or skip the whole step. */
export type NonFinitePolicy = "error" | "skip";

// The option fields the optimizers share; each optimizer declares its options bag with them.
/** The learning rate: a finite number ≥ 0. */
export const lrOption = <D extends number>(defaultLr: D) => number({ min: 0, default: defaultLr, aliases: ["learning_rate", "learningRate", "eta"] });
/** A decay or momentum factor in [0, 1). */
export const fractionOption = <D extends number>(defaultValue: D) => number({ min: 0, max: 1, maxExclusive: true, default: defaultValue });
export const weightDecayOption = <D extends number>(defaultValue: D) => number({ min: 0, default: defaultValue, aliases: ["weight_decay", "decay", "l2"] });
/** The ε added to a denominator: > 0, so that a zero gradient never divides 0 by 0. */
export const epsOption = <D extends number>(defaultValue: D) => number({ min: 0, minExclusive: true, default: defaultValue, aliases: ["epsilon"] });
export const nonFiniteOption = oneOf(["error", "skip"], { default: "error" as NonFinitePolicy, aliases: ["non_finite", "onNonFinite"] });

/**
 * The parameters an optimizer updates: tensors (`model.parameters()`), or named tensors
 * (`model.namedParameters()`), whose names then appear in its error messages.
 */
export type ParameterList = Iterable<Tensor | readonly [string, Tensor]>;

/**
 * A gradient as the kernels read it, without a copy: element (r, c) of a rows×cols matrix is at
 * g.off + r·g.rs + c·g.cs of g.data (row-major order is the parameter's order); `array` is the gradient.
 */
export interface GradientView {
  array: NDArray;
  g: AdamArgs["g"];
  rows: number;
  cols: number;
}

/** `a` as a GradientView: contiguous arrays as one row, strided ones of rank ≤ 2 by their strides; null for the others. */
export function gradientView(a: NDArray): GradientView | null {
  const { data, offset: off, shape, strides } = a;
  if (a.isContiguous) return { array: a, g: { data, off, rs: 0, cs: 1 }, rows: 1, cols: a.size };
  if (a.rank === 1) return { array: a, g: { data, off, rs: 0, cs: strides[0]! }, rows: 1, cols: shape[0]! };
  if (a.rank === 2) return { array: a, g: { data, off, rs: strides[0]!, cs: strides[1]! }, rows: shape[0]!, cols: shape[1]! };
  return null;
}

/** The index of the first NaN or ±Infinity of a gradient in row-major order, or −1 (the active kernels scan it). */
export function firstNonFinite(grad: GradientView): number {
  return kernels().firstNonFinite(grad.g, grad.rows, grad.cols);
}

/**
 * Set by `stepCheckedGradients` for the one `step()` it makes: the caller has already refused
 * non-finite gradients (trainStep, with its own message), so the optimizer does not scan them again.
 */
let gradientsChecked = false;

/**
 * `optimizer.step()` for a caller that has just checked every gradient of the optimizer's
 * parameters for NaN and ±Infinity (and changed them since only by clipping, which keeps them
 * finite): the optimizer skips its own scan. Shapes and hyperparameters are still checked.
 */
export function stepCheckedGradients(optimizer: Optimizer): void {
  gradientsChecked = true;
  try {
    optimizer.step();
  } finally {
    gradientsChecked = false;
  }
}

/** Reads a slot of the parameter being updated; `has` tells whether it exists yet. */
interface SlotAccess {
  slot: (name: string) => Storage;
  has: (name: string) => boolean;
}

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Per parameter: its name, when the optimizer was given named parameters. */
  readonly paramNames: readonly (string | undefined)[];
  /** The learning rate; schedules set it between steps. */
  lr: number;
  /**
   * A gradient with NaN or ±Infinity makes `step()` throw a RangeError before writing anything
   * ("error", the default), or skip the step — no parameter and no state changes — ("skip";
   * counted in `skippedSteps`). Not part of the saved state: it is how this run reacts.
   */
  nonFinite: NonFinitePolicy;
  /** Steps skipped because a gradient was not finite (with `nonFinite: "skip"`). */
  skippedSteps = 0;
  /** Per parameter: the number of updates applied. */
  protected steps: number[];
  /** Per slot name, per parameter: the state arrays, allocated at a parameter's first update. */
  protected slots: Record<string, (Storage | null)[]>;
  /** Per parameter: its slot accessors, made once so that a step creates no closures. */
  private readonly access: SlotAccess[];
  /** Per parameter: a strided gradient's row-major copy, allocated at first need and reused. */
  private readonly gathered: (Storage | null)[];
  /** Per parameter: this step's gradient (null: no gradient). */
  private readonly current: (GradientView | null)[];

  constructor(
    /** The class's name, as stored in the state (minifiers may rename classes, so it is explicit). */
    readonly type: string,
    params: ParameterList,
    lr: number,
    slotNames: readonly string[],
    nonFinite: NonFinitePolicy = "error",
  ) {
    const op = type;
    const entries = [...params].map((p) => (Array.isArray(p) ? (p as readonly [string, Tensor]) : ([undefined, p as Tensor] as const)));
    this.params = entries.map(([, p]) => p);
    this.paramNames = entries.map(([name]) => name);
    checkArg(this.params.length > 0, op, "was given no parameters");
    const seen = new Set<Tensor>();
    this.params.forEach((p, i) => {
      if (seen.has(p)) throw new RangeError(`${op}: ${this.describeParam(i, false)} appears twice`);
      seen.add(p);
      // A frozen parameter (requiresGrad false) is accepted, as PyTorch does: it never gets a gradient, so step() skips it.
      if (!p.isLeaf) throw new RangeError(`${op}: ${this.describeParam(i)} must be a leaf tensor (a Parameter), not the result of an op`);
      const v = p.value;
      if (!v.isContiguous || v.offset !== 0 || v.data.length !== v.size) throw new RangeError(`${op}: ${this.describeParam(i)} must own contiguous storage (use Parameter)`);
    });
    checkCommon(op, lr, nonFinite);
    this.lr = lr;
    this.nonFinite = nonFinite;
    this.steps = this.params.map(() => 0);
    this.slots = Object.fromEntries(slotNames.map((s) => [s, this.params.map(() => null)]));
    this.access = this.params.map((p, i) => ({
      slot: (name) => (this.slots[name]![i] ??= allocate(p.dtype, p.size)),
      has: (name) => this.slots[name]![i] !== null,
    }));
    this.gathered = this.params.map(() => null);
    this.current = this.params.map(() => null);
  }

  /** The hyperparameters other than lr, as stored in the state. */
  protected abstract get options(): Record<string, number | boolean>;
  protected abstract set options(values: Record<string, number | boolean>);

  /**
   * Throws unless every hyperparameter — `lr`, `nonFinite` and those the `options` getter names —
   * is of the right type and in range, by the optimizer's declared options. The same check
   * guards the constructor, each `step()` (the fields are public and may have been changed)
   * and `loadStateDict`.
   */
  protected abstract checkOptions(op: string, options: Record<string, unknown>): void;

  /**
   * Updates one parameter in place. `param` is its storage, `grad` its gradient (row-major, same
   * length; never write into it), `t` the 1-based count of its updates so far, `slot(name)` its
   * state arrays (zero-filled at first use), `hasSlot(name)` whether that state array exists yet.
   */
  protected abstract update(param: Storage, grad: Storage, t: number, slot: (name: string) => Storage, hasSlot: (name: string) => boolean): void;

  /**
   * Optional: updates one parameter from its gradient as a strided view (see GradientView), which
   * spares the row-major copy of a strided gradient; when defined, `step()` calls it instead of `update`.
   */
  protected updateView?(param: Storage, grad: GradientView, t: number, slot: (name: string) => Storage, hasSlot: (name: string) => boolean): void;

  /**
   * One update of every parameter that has a gradient (parameters without one, frozen ones
   * included, are skipped). Every gradient is checked (shape, and finite values) before any
   * parameter is written: a bad one throws (or skips the step, see `nonFinite`) with the model
   * and the optimizer's state as they were.
   */
  step(): void {
    const checked = gradientsChecked;
    gradientsChecked = false;
    checkCommon(this.type, this.lr, this.nonFinite);
    this.checkOptions(this.type, { lr: this.lr, nonFinite: this.nonFinite, ...this.options });
    if (!this.readGradients(`${this.type}.step`, !checked)) {
      this.skippedSteps++;
      return;
    }
    for (let i = 0; i < this.params.length; i++) {
      const grad = this.current[i] ?? null;
      if (grad === null) continue;
      const t = ++this.steps[i]!, data = this.params[i]!.value.data, { slot, has } = this.access[i]!;
      if (this.updateView) this.updateView(data, grad, t, slot, has);
      else this.update(data, grad.array.isContiguous ? grad.array.flat() : this.gather(i, grad.array), t, slot, has);
    }
    this.current.fill(null); // hold no gradient between steps
  }

  /** A strided gradient of parameter i, row-major, in the buffer the optimizer keeps for it. */
  private gather(i: number, grad: NDArray): Storage {
    return grad.copyInto((this.gathered[i] ??= allocate(this.params[i]!.dtype, grad.size)));
  }

  /**
   * Puts each parameter's gradient in `current` as a view of its storage (gathered into the
   * parameter's reused buffer when no strided view describes it). Checks shapes and, with `scan`,
   * values; returns false when a value is NaN or ±Infinity and the policy is "skip".
   */
  private readGradients(op: string, scan: boolean): boolean {
    this.params.forEach((p, i) => {
      const grad = p.grad?.value ?? null;
      if (grad !== null && !shapesEqual(grad.shape, p.shape)) throw new ShapeError(op, `gradient of ${this.describeParam(i, false)} has the wrong shape`, [grad.shape, p.shape]);
      this.current[i] = grad === null ? null : (gradientView(grad) ?? gradientView(new NDArray(this.gather(i, grad), grad.shape)));
    });
    for (let i = 0; i < this.params.length && scan; i++) {
      const g = this.current[i] ?? null;
      if (g === null) continue;
      const at = firstNonFinite(g);
      if (at < 0) continue;
      this.current.fill(null);
      if (this.nonFinite === "skip") return false;
      const index = unravel(at, this.params[i]!.shape);
      throw new RangeError(
        `${op}: the gradient of ${this.describeParam(i)} holds ${g.array.get(...index)} at ${fmtShape(index)} (element ${at}); ` +
          `no parameter was updated (nonFinite: "skip" skips such steps instead)`,
      );
    }
    return true;
  }

  /** `parameter 3 "1.weight" [128,256]`: its index, its name if known, and (with `shape`) its shape. */
  protected describeParam(i: number, shape = true): string {
    const name = this.paramNames[i];
    return `parameter ${i}${name === undefined ? "" : ` ${JSON.stringify(name)}`}${shape ? ` ${fmtShape(this.params[i]!.shape)}` : ""}`;
  }

  /** Forgets the gradients of every parameter this optimizer updates. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** A snapshot (copies) of the learning rate, hyperparameters, step counts and slots. */
  stateDict(): OptimizerState {
    const slots: Record<string, (NDArray | null)[]> = {};
    for (const [name, list] of Object.entries(this.slots)) {
      slots[name] = list.map((s, i) => (s === null ? null : new NDArray(s.slice(), this.params[i]!.shape)));
    }
    return { type: this.type, lr: this.lr, options: { ...this.options }, steps: [...this.steps], slots };
  }

  /**
   * Restores a snapshot taken from an optimizer of the same class over parameters of the same
   * shapes. Everything is checked before anything changes.
   */
  loadStateDict(state: OptimizerState): void {
    const op = `${this.type}.loadStateDict`;
    if (typeof state !== "object" || state === null) throw new TypeError(`${op}: expected an optimizer state object`);
    if (state.type !== this.type) throw new RangeError(`${op}: the state is from a ${JSON.stringify(state.type)} optimizer, not ${this.type}`);
    const n = this.params.length;
    if (!Array.isArray(state.steps) || state.steps.length !== n || !state.steps.every((s) => Number.isInteger(s) && s >= 0)) {
      throw new RangeError(`${op}: steps must be ${n} non-negative integers (one per parameter)`);
    }
    const options = this.checkStateOptions(op, state);
    const names = Object.keys(this.slots);
    const given = Object.keys(state.slots ?? {});
    if (given.length !== names.length || !names.every((s) => given.includes(s))) {
      throw new RangeError(`${op}: expected the slots [${names.join(", ")}], got [${given.join(", ")}]`);
    }
    for (const name of names) this.checkSlot(op, name, state.slots[name]);
    this.lr = state.lr;
    this.options = options;
    this.steps = [...state.steps];
    for (const name of names) {
      this.slots[name] = state.slots[name]!.map((s, i) => (s === null ? null : s.copyInto(allocate(this.params[i]!.dtype, s.size))));
    }
  }

  /** The state's lr and hyperparameters, checked: each one present, of its type and in range. */
  private checkStateOptions(op: string, state: OptimizerState): Record<string, number | boolean> {
    if (typeof state.options !== "object" || state.options === null) throw new TypeError(`${op}: options must be an object of hyperparameters`);
    const options: Record<string, number | boolean> = {};
    for (const [key, current] of Object.entries(this.options)) {
      const value = state.options[key];
      if (typeof value !== typeof current) throw new RangeError(`${op}: option ${JSON.stringify(key)} is missing or has the wrong type`);
      options[key] = value!;
    }
    checkCommon(op, state.lr, this.nonFinite);
    this.checkOptions(op, { lr: state.lr, nonFinite: this.nonFinite, ...options });
    return options;
  }

  /** One slot of a state: an NDArray of the parameter's shape with finite values, or null, per parameter. */
  private checkSlot(op: string, name: string, list: unknown): void {
    const slot = JSON.stringify(name);
    if (!Array.isArray(list) || list.length !== this.params.length) throw new RangeError(`${op}: slot ${slot} must list ${this.params.length} parameters`);
    list.forEach((s: unknown, i) => {
      if (s === null) return;
      if (!(s instanceof NDArray)) throw new TypeError(`${op}: slot ${slot} of parameter ${i} must be an NDArray or null`);
      if (!shapesEqual(s.shape, this.params[i]!.shape)) throw new ShapeError(op, `slot ${slot} of parameter ${i} has the wrong shape`, [s.shape, this.params[i]!.shape]);
      const values = s.flat();
      const at = firstNonFiniteOf(values);
      if (at >= 0) throw new RangeError(`${op}: slot ${slot} of parameter ${i} holds ${values[at]} at element ${at}; optimizer state must be finite`);
    });
  }
}

/**
 * The options every optimizer has, checked by the base class too (so that a subclass whose
 * checkOptions forgets them still gets them checked), by the same field declarations.
 */
function checkCommon(op: string, lr: unknown, nonFinite: unknown): void {
  LR.read(op, "lr", lr);
  nonFiniteOption.read(op, "nonFinite", nonFinite);
}
const LR = lrOption(0);

/** The row-major index of flat element `k` of an array of `shape`. */
function unravel(k: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = k % shape[axis]!;
    k = Math.floor(k / shape[axis]!);
  }
  return index;
}
