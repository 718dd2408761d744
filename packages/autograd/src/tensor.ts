import { type DType, NDArray, type NestedArray, type Shape, type Storage } from "@zerograd/tensor";
import { isGradEnabled } from "./mode.js";
import { anomalyEnabled, checkForward } from "./anomaly.js";
import { type BackwardOptions, backward } from "./engine.js";
import * as B from "./ops/binary.js";
import * as U from "./ops/unary.js";
import * as R from "./ops/reduce.js";
import * as M from "./ops/movement.js";
import { matmul } from "./ops/linalg.js";
import { logSoftmax, softmax } from "./ops/nn.js";

/** What a tensor remembers about the op that made it, for backward(). */
export interface Node {
  readonly op: OpDef<any, any>;
  readonly inputs: readonly Tensor[];
  readonly attrs: unknown;
  /** Whatever the forward pass kept for the vjp; dropped once the vjp has run (unless retainGraph). */
  saved: unknown;
  freed: boolean;
  /** Where the op was created (recorded only in anomaly mode, for its error messages). */
  readonly site?: string;
}

/** Everything a vjp may read. `needs[i]` tells whether input i wants a gradient. */
export interface VjpContext<A, S> {
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly attrs: A;
  readonly saved: S;
  readonly needs: readonly boolean[];
  /** Whether the graph outlives this backward pass (retainGraph): if not, `saved` is the vjp's to hand out. */
  readonly retained: boolean;
}

/**
 * One op: its forward on plain arrays and its vector-Jacobian product, side by side.
 * The vjp returns one output-shaped (or input-shaped) gradient per input, or null where no
 * gradient flows; the engine sums broadcast axes away and checks the shape. vjps are written
 * with differentiable ops, so gradients of gradients work.
 */
export interface OpDef<A = undefined, S = undefined> {
  readonly name: string;
  forward(inputs: NDArray[], attrs: A): NDArray | { out: NDArray; saved: S };
  vjp(g: Tensor, ctx: VjpContext<A, S>): (Tensor | null)[];
  /**
   * Optional, for a one-input op whose gradient is mostly zeros (a slice): adds the vjp's result
   * into `acc`, a gradient buffer of the input's shape that only the engine holds, in place. The
   * engine uses it outside createGraph, so that T slices of one tensor cost O(its size), not T
   * zero-filled copies of it.
   */
  accumulate?(acc: NDArray, g: NDArray, ctx: VjpContext<A, S>): void;
}

/** An op record before it is named: the key it has in its table becomes its name. */
export type OpRule<A = undefined, S = undefined> = Omit<OpDef<A, S>, "name">;

/**
 * Builds an op table from rules keyed by name: `make(name, rule)` gives each op's record and the
 * key becomes its name. Given the key union K explicitly, a name of K without a rule (or a rule
 * for a name outside K) is a compile error.
 */
export function opTable<K extends string, R, D extends OpRule<any, any>>(rules: { [P in K]: R }, make: (name: K, rule: R) => D): { [P in K]: D & { readonly name: P } } {
  const entries = Object.entries(rules).map(([name, rule]) => [name, { name, ...make(name as K, rule as R) }]);
  return Object.fromEntries(entries) as { [P in K]: D & { readonly name: P } };
}

/** An op table whose records are written out in full (forward and vjp side by side). */
export function named<K extends string, D extends OpRule<any, any>>(rules: { [P in K]: D }): { [P in K]: D & { readonly name: P } } {
  return opTable(rules, (_, rule: D) => rule);
}

let nextId = 0;

/** A differentiable n-dimensional array: an NDArray value plus what autograd needs. */
export class Tensor {
  readonly id = nextId++;
  /** The gradient accumulated by backward() (leaves only, as in PyTorch). */
  grad: Tensor | null = null;
  /** A label for toDot() and error messages. */
  name: string | undefined;

  constructor(
    readonly value: NDArray,
    public requiresGrad = false,
    /** The op that produced this tensor; null for leaves. */
    readonly node: Node | null = null,
  ) {}

  get shape(): Shape { return this.value.shape; }
  get dtype(): DType { return this.value.dtype; }
  get size(): number { return this.value.size; }
  get rank(): number { return this.value.rank; }
  /** A leaf was made by the user (parameters, inputs), not by an op. */
  get isLeaf(): boolean { return this.node === null; }

  /** The elements as one row-major typed array (a view when possible: do not write into it). */
  get data(): Storage { return this.value.flat(); }

  item(): number { return this.value.item(); }
  toArray(): NestedArray { return this.value.toArray(); }

  /** The same values with no graph behind them. */
  detach(): Tensor {
    return new Tensor(this.value, false);
  }

  /** Sets requiresGrad (leaves only) and returns this, for chaining. */
  requireGrad(flag = true): this {
    if (!this.isLeaf) throw new Error(`requireGrad: only leaf tensors can change requiresGrad (this one was made by ${this.node!.op.name})`);
    this.requiresGrad = flag;
    return this;
  }

  /** Computes d(this)/d(leaf) for every leaf that requires grad, accumulating into `.grad`. */
  backward(options: BackwardOptions = {}): void {
    backward(this, options);
  }

  // Method sugar: x.add(y).relu().sum() reads left to right; each calls the function of the same name.
  add(other: Tensor | number): Tensor { return B.add(this, other); }
  sub(other: Tensor | number): Tensor { return B.sub(this, other); }
  mul(other: Tensor | number): Tensor { return B.mul(this, other); }
  div(other: Tensor | number): Tensor { return B.div(this, other); }
  pow(other: Tensor | number): Tensor { return B.pow(this, other); }
  maximum(other: Tensor | number): Tensor { return B.maximum(this, other); }
  minimum(other: Tensor | number): Tensor { return B.minimum(this, other); }
  neg(): Tensor { return U.neg(this); }
  abs(): Tensor { return U.abs(this); }
  exp(): Tensor { return U.exp(this); }
  log(): Tensor { return U.log(this); }
  sqrt(): Tensor { return U.sqrt(this); }
  square(): Tensor { return U.square(this); }
  tanh(): Tensor { return U.tanh(this); }
  sigmoid(): Tensor { return U.sigmoid(this); }
  relu(): Tensor { return U.relu(this); }
  matmul(other: Tensor): Tensor { return matmul(this, other); }
  sum(options?: R.ReduceOptions): Tensor { return R.sum(this, options); }
  mean(options?: R.ReduceOptions): Tensor { return R.mean(this, options); }
  max(options?: R.ReduceOptions): Tensor { return R.max(this, options); }
  min(options?: R.ReduceOptions): Tensor { return R.min(this, options); }
  argmax(options?: { axis?: number; keepDims?: boolean }): Tensor { return R.argmax(this, options); }
  softmax(axis = -1): Tensor { return softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return logSoftmax(this, axis); }
  reshape(shape: Shape): Tensor { return M.reshape(this, shape); }
  transpose(perm?: readonly number[]): Tensor { return M.transpose(this, perm); }
  /** The matrix transpose (last two axes swapped). */
  get mT(): Tensor { return M.mT(this); }
  flatten(startAxis = 1): Tensor { return M.flatten(this, startAxis); }
  expandDims(axis: number): Tensor { return M.expandDims(this, axis); }
  squeeze(axis?: number | readonly number[]): Tensor { return M.squeeze(this, axis); }

  toString(): string {
    return `Tensor(${this.value.toString().replace(/^NDArray\(/, "").replace(/\) /, ") ")}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }
}

/** Wraps NDArrays as needed. */
export function asTensor(x: Tensor | NDArray): Tensor {
  return x instanceof Tensor ? x : new Tensor(x);
}

/**
 * Runs an op: the forward on the input values and, when anything needs a gradient and recording
 * is on, a node for backward(). Nothing is recorded otherwise.
 */
export function apply<A, S>(op: OpDef<A, S>, inputs: Tensor[], attrs: A): Tensor {
  const result = op.forward(inputs.map((t) => t.value), attrs);
  const [out, saved] = result instanceof NDArray ? [result, undefined] : [result.out, result.saved];
  const site = anomalyEnabled ? checkForward(op.name, inputs.map((t) => t.value), out) : undefined;
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return new Tensor(out);
  return new Tensor(out, true, { op, inputs, attrs, saved, freed: false, site });
}
