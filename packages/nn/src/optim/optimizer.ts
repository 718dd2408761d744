/**
 * The optimizer base class. An optimizer holds the parameters it updates, the learning rate and,
 * per parameter, its state ("slots": momentum buffers, Adam's moments…). `step()` reads each
 * parameter's `.grad` and writes the new values into the parameter's storage in place, so the
 * parameter objects (and a model's references to them) never change.
 *
 * The update rules are plain loops over the flat Float32Arrays: no graph is recorded, nothing is
 * allocated per step once the slots exist.
 */
import type { Tensor } from "@zerograd/autograd";
import { NDArray, ShapeError, type Storage, allocate, checkArg, fmtShape, shapesEqual } from "@zerograd/tensor";

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

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** The learning rate; schedules set it between steps. */
  lr: number;
  /** Per parameter: the number of updates applied. */
  protected steps: number[];
  /** Per slot name, per parameter: the state arrays, allocated at a parameter's first update. */
  protected slots: Record<string, (Storage | null)[]>;

  constructor(
    /** The class's name, as stored in the state (minifiers may rename classes, so it is explicit). */
    readonly type: string,
    params: Iterable<Tensor>,
    lr: number,
    slotNames: readonly string[],
  ) {
    const op = type;
    this.params = [...params];
    checkArg(this.params.length > 0, op, "was given no parameters");
    const seen = new Set<Tensor>();
    this.params.forEach((p, i) => {
      if (seen.has(p)) throw new RangeError(`${op}: parameter ${i} appears twice`);
      seen.add(p);
      // A frozen parameter (requiresGrad false) is accepted, as PyTorch does: it never gets a gradient, so step() skips it.
      if (!p.isLeaf) throw new RangeError(`${op}: parameter ${i} ${fmtShape(p.shape)} must be a leaf tensor (a Parameter), not the result of an op`);
      const v = p.value;
      if (!v.isContiguous || v.offset !== 0 || v.data.length !== v.size) throw new RangeError(`${op}: parameter ${i} ${fmtShape(p.shape)} must own contiguous storage (use Parameter)`);
    });
    checkLr(op, lr);
    this.lr = lr;
    this.steps = this.params.map(() => 0);
    this.slots = Object.fromEntries(slotNames.map((s) => [s, this.params.map(() => null)]));
  }

  /** The hyperparameters other than lr, as stored in the state. */
  protected abstract get options(): Record<string, number | boolean>;
  protected abstract set options(values: Record<string, number | boolean>);

  /**
   * Throws a RangeError unless every hyperparameter in `options` (as the `options` getter names
   * them) is of the right type and in range. The same check guards the constructor, each
   * `step()` (the fields are public and may have been changed) and `loadStateDict`.
   */
  protected abstract checkOptions(op: string, options: Record<string, unknown>): void;

  /**
   * Updates one parameter in place. `param` is its storage, `grad` its gradient (same length),
   * `t` the 1-based count of its updates so far, `slot(name)` its state arrays (zero-filled at
   * first use), `hasSlot(name)` whether that state array exists yet.
   */
  protected abstract update(param: Storage, grad: Storage, t: number, slot: (name: string) => Storage, hasSlot: (name: string) => boolean): void;

  /** One update of every parameter that has a gradient (parameters without one, frozen ones included, are skipped). */
  step(): void {
    checkLr(this.type, this.lr);
    this.checkOptions(this.type, this.options);
    this.params.forEach((p, i) => {
      if (p.grad === null) return;
      if (!shapesEqual(p.grad.shape, p.shape)) throw new ShapeError(`${this.type}.step`, `gradient of parameter ${i} has the wrong shape`, [p.grad.shape, p.shape]);
      const t = ++this.steps[i]!;
      const param = p.value.data;
      const slot = (name: string): Storage => {
        const list = this.slots[name]!;
        return (list[i] ??= allocate(p.dtype, p.size));
      };
      const hasSlot = (name: string): boolean => this.slots[name]![i] !== null;
      this.update(param, p.grad.value.flat(), t, slot, hasSlot);
    });
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
    checkLr(op, state.lr);
    const n = this.params.length;
    if (!Array.isArray(state.steps) || state.steps.length !== n || !state.steps.every((s) => Number.isInteger(s) && s >= 0)) {
      throw new RangeError(`${op}: steps must be ${n} non-negative integers (one per parameter)`);
    }
    const names = Object.keys(this.slots);
    const given = Object.keys(state.slots ?? {});
    if (given.length !== names.length || !names.every((s) => given.includes(s))) {
      throw new RangeError(`${op}: expected the slots [${names.join(", ")}], got [${given.join(", ")}]`);
    }
    const options = this.options;
    if (typeof state.options !== "object" || state.options === null) throw new TypeError(`${op}: options must be an object of hyperparameters`);
    for (const key of Object.keys(options)) {
      if (typeof state.options[key] !== typeof options[key]) throw new RangeError(`${op}: option ${JSON.stringify(key)} is missing or has the wrong type`);
    }
    this.checkOptions(op, state.options);
    for (const name of names) {
      const list = state.slots[name]!;
      if (!Array.isArray(list) || list.length !== n) throw new RangeError(`${op}: slot ${JSON.stringify(name)} must list ${n} parameters`);
      list.forEach((s, i) => {
        if (s === null) return;
        if (!(s instanceof NDArray)) throw new TypeError(`${op}: slot ${JSON.stringify(name)} of parameter ${i} must be an NDArray or null`);
        if (!shapesEqual(s.shape, this.params[i]!.shape)) throw new ShapeError(op, `slot ${JSON.stringify(name)} of parameter ${i} has the wrong shape`, [s.shape, this.params[i]!.shape]);
        const values = s.flat();
        for (let k = 0; k < values.length; k++) {
          if (!Number.isFinite(values[k])) throw new RangeError(`${op}: slot ${JSON.stringify(name)} of parameter ${i} holds ${values[k]} at element ${k}; optimizer state must be finite`);
        }
      });
    }
    this.lr = state.lr;
    this.options = { ...state.options };
    this.steps = [...state.steps];
    for (const name of names) {
      this.slots[name] = state.slots[name]!.map((s, i) => {
        if (s === null) return null;
        const out = allocate(this.params[i]!.dtype, s.size);
        out.set(s.flat());
        return out;
      });
    }
  }
}

function checkLr(op: string, lr: number): void {
  checkArg(typeof lr === "number" && Number.isFinite(lr) && lr >= 0, op, `learning rate must be a finite number ≥ 0, got ${lr}`);
}

/**
 * Checks an option that must be a finite number in [low, high] (or [low, high) with `openHigh`;
 * high = Infinity means "no upper bound", never "Infinity allowed").
 */
export function numberOption(op: string, name: string, value: unknown, low: number, high = Infinity, openHigh = false): number {
  const ok = typeof value === "number" && Number.isFinite(value) && value >= low && (openHigh ? value < high : value <= high);
  const range = high === Infinity ? `a finite number ≥ ${low}` : `in [${low}, ${high}${openHigh ? ")" : "]"}`;
  checkArg(ok, op, `${name} must be ${range}, got ${describeValue(value)}`);
  return value as number;
}

/** Checks an option that must be true or false. */
export function booleanOption(op: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${op}: ${name} must be true or false, got ${describeValue(value)}`);
  return value;
}

function describeValue(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}
