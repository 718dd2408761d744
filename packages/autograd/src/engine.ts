import { NDArray, ShapeError, fmtShape, ones, shapesEqual, zeros } from "@zerograd/tensor";
import { withGradMode } from "./mode.js";
import { anomalyEnabled, checkedVjp } from "./anomaly.js";
import { add } from "./ops/binary.js";
import { sumToShape } from "./ops/movement.js";
import { Tensor } from "./tensor.js";

export interface BackwardOptions {
  /** The gradient of some scalar with respect to the root; required when the root is not a scalar. */
  seed?: Tensor | NDArray;
  /** Keep the saved values so that backward can run through this graph again. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so that gradients can be differentiated (implies retainGraph). */
  createGraph?: boolean;
}

/** Every tensor the root depends on through recorded ops, inputs before the tensors made from them. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // An explicit stack instead of recursion: deep graphs (long loops, RNNs) must not overflow.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) { order.push(t); continue; }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) if (input.requiresGrad && !visited.has(input)) stack.push([input, false]);
  }
  return order;
}

function seedFor(root: Tensor, seed: Tensor | NDArray | undefined): Tensor {
  if (seed === undefined) {
    if (root.size !== 1) throw new ShapeError("backward", "a seed gradient is required for a non-scalar root", [root.shape]);
    return new Tensor(ones(root.shape, { dtype: root.dtype }));
  }
  const s = seed instanceof Tensor ? seed : new Tensor(seed);
  if (!shapesEqual(s.shape, root.shape)) throw new ShapeError("backward", "seed must have the root's shape", [s.shape, root.shape]);
  return s;
}

/**
 * The reverse sweep: walks the graph from the root back to the leaves, calling each node's vjp
 * with the gradient of its output and handing each input its share. Here, and only here, the
 * gradient of an input is summed back to the input's shape (undoing broadcasting) and checked.
 * `sink(t, g)` receives the finished gradient of every tensor that requires one.
 */
function sweep(root: Tensor, options: BackwardOptions, sink: (t: Tensor, g: Tensor) => void): void {
  if (!root.requiresGrad) throw new Error("backward: the tensor does not require grad and has no graph behind it");
  const createGraph = options.createGraph ?? false;
  const retain = options.retainGraph ?? createGraph;
  const grads = new Map<Tensor, Tensor>([[root, seedFor(root, options.seed)]]);
  const order = topologicalOrder(root);
  // Gradient buffers this sweep made itself (sums, slice accumulators): nobody else holds them, so
  // outside createGraph a later share may be added into them in place.
  const owned = new Set<Tensor>();
  const ownedBuffer = (x: Tensor, previous: Tensor | undefined): Tensor => {
    if (previous && owned.has(previous)) return previous;
    const buffer = new Tensor(previous ? new NDArray(previous.value.copyData(), x.shape) : zeros(x.shape, { dtype: x.dtype }));
    owned.add(buffer);
    return buffer;
  };
  // Check before doing anything, so that a failed backward changes nothing.
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    if (t.node?.freed) throw new Error(`backward: the graph behind ${t.node.op.name} was freed by an earlier backward(); pass { retainGraph: true } to go through it twice`);
  }
  withGradMode(createGraph, () => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      sink(t, g);
      const node = t.node;
      if (!node) continue;
      const needs = node.inputs.map((x) => x.requiresGrad);
      const context = { inputs: node.inputs, out: t, attrs: node.attrs, saved: node.saved, needs, retained: retain };
      if (node.op.accumulate && needs[0] && !createGraph && !anomalyEnabled) {
        const x = node.inputs[0]!, buffer = ownedBuffer(x, grads.get(x));
        node.op.accumulate(buffer.value, g.value, context);
        grads.set(x, buffer);
        continue;
      }
      const vjp = () => node.op.vjp(g, context);
      const inputGrads = anomalyEnabled ? checkedVjp(node.op.name, node.site, g.value, node.inputs.map((x) => x.value), t.value, vjp) : vjp();
      if (inputGrads.length !== node.inputs.length) throw new Error(`internal: ${node.op.name} vjp returned ${inputGrads.length} gradients for ${node.inputs.length} inputs`);
      node.inputs.forEach((x, k) => {
        const gk = inputGrads[k];
        if (!needs[k] || !gk) return;
        let reduced: Tensor;
        try {
          reduced = sumToShape(gk, x.shape);
        } catch {
          throw new ShapeError(`${node.op.name} (backward)`, `gradient for input ${k} cannot be summed to the input's shape`, [gk.shape, x.shape]);
        }
        if (!shapesEqual(reduced.shape, x.shape)) throw new Error(`internal: ${node.op.name} gradient for input ${k} has shape ${fmtShape(reduced.shape)}, expected ${fmtShape(x.shape)}`);
        const previous = grads.get(x), sum = previous ? add(previous, reduced) : reduced;
        if (previous) owned.add(sum); // a fresh array
        grads.set(x, sum);
      });
    }
  });
  // Only a sweep that finished frees the graph (a vjp that threw leaves it usable).
  if (!retain) {
    for (const t of order) {
      if (!t.node) continue;
      t.node.saved = undefined;
      t.node.freed = true;
    }
  }
}

/**
 * Accumulates d(root)/d(leaf) into `.grad` of every leaf that requires grad (adding to what is
 * there, as PyTorch does; call zeroGrad between steps). All or nothing: the gradients are
 * written only after the whole sweep succeeded.
 */
export function backward(root: Tensor, options: BackwardOptions = {}): void {
  const leaves: [Tensor, Tensor][] = [];
  sweep(root, options, (t, g) => {
    if (t.isLeaf) leaves.push([t, options.createGraph ? g : g.detach()]);
  });
  withGradMode(options.createGraph ?? false, () => {
    for (const [t, g] of leaves) t.grad = t.grad ? (options.createGraph ? add(t.grad, g) : add(t.grad.detach(), g).detach()) : g;
  });
}

/**
 * The gradients of `root` with respect to `inputs` (any tensors in its graph), returned rather
 * than accumulated into `.grad`; zeros for inputs the root does not depend on.
 */
export function gradients(root: Tensor, inputs: readonly Tensor[], options: BackwardOptions = {}): Tensor[] {
  const wanted = new Map<Tensor, Tensor>();
  const targets = new Set(inputs);
  sweep(root, options, (t, g) => {
    if (targets.has(t)) wanted.set(t, g);
  });
  return inputs.map((x) => wanted.get(x) ?? new Tensor(zeros(x.shape, { dtype: x.dtype })));
}

type GradArgs = (Tensor | NDArray)[];

function prepare(args: GradArgs, argnums: readonly number[]): { inputs: Tensor[]; outer: boolean } {
  let outer = false;
  const inputs = args.map((a, i) => {
    const t = a instanceof Tensor ? a : new Tensor(a);
    if (!argnums.includes(i)) return t;
    if (t.requiresGrad) { outer = true; return t; } // already tracked by an enclosing grad(): keep the graph
    return new Tensor(t.value, true);
  });
  return { inputs, outer };
}

function checkArgnums(op: string, argnums: number | readonly number[], count: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const a of list) if (!Number.isInteger(a) || a < 0 || a >= count) throw new RangeError(`${op}: argnum ${a} is out of range for ${count} arguments`);
  return list;
}

/**
 * value and gradient of a scalar function, as JAX's value_and_grad: with `argnums` a number
 * (default 0) the gradient is one tensor; with a list, an array. Nested calls work:
 * grad(x => grad(f)(x)) differentiates the gradient. The rule: an argument that already
 * requires grad is a variable of some enclosing differentiation (an outer grad(), gradcheck, or
 * a loss that will call backward()), so the gradient is recorded (createGraph) and stays
 * connected to it; other arguments become fresh leaves and the result is detached.
 */
export function valueAndGrad<A extends GradArgs>(f: (...args: A) => Tensor, argnums: number): (...args: A) => [Tensor, Tensor];
export function valueAndGrad<A extends GradArgs>(f: (...args: A) => Tensor, argnums?: readonly number[]): (...args: A) => [Tensor, Tensor[]];
export function valueAndGrad<A extends GradArgs>(f: (...args: A) => Tensor): (...args: A) => [Tensor, Tensor];
export function valueAndGrad<A extends GradArgs>(f: (...args: A) => Tensor, argnums: number | readonly number[] = 0) {
  return (...args: A) => {
    const nums = checkArgnums("grad", argnums, args.length);
    const { inputs, outer } = withGradMode(true, () => prepare(args, nums));
    const value = withGradMode(true, () => f(...(inputs as A)));
    if (value.size !== 1) throw new ShapeError("grad", "the function must return a scalar (one element)", [value.shape]);
    const targets = nums.map((i) => inputs[i]!);
    const gs = value.requiresGrad ? gradients(value, targets, { createGraph: outer }) : targets.map((t) => new Tensor(zeros(t.shape, { dtype: t.dtype })));
    return [outer ? value : value.detach(), typeof argnums === "number" ? gs[0]! : gs];
  };
}

/** The gradient of a scalar function (see valueAndGrad). */
export function grad<A extends GradArgs>(f: (...args: A) => Tensor, argnums: number): (...args: A) => Tensor;
export function grad<A extends GradArgs>(f: (...args: A) => Tensor, argnums: readonly number[]): (...args: A) => Tensor[];
export function grad<A extends GradArgs>(f: (...args: A) => Tensor): (...args: A) => Tensor;
export function grad<A extends GradArgs>(f: (...args: A) => Tensor, argnums: number | readonly number[] = 0): (...args: A) => Tensor | Tensor[] {
  const vg = valueAndGrad(f, argnums as number) as (...args: A) => [Tensor, Tensor | Tensor[]];
  return (...args: A) => vg(...args)[1];
}
