import * as T from "@zerograd/tensor";
import { type OpRule, Tensor, apply, named } from "../tensor.js";
import { add, div, mul, sub } from "./binary.js";
import { broadcastTo, pad, reshape, slice, transpose } from "./movement.js";
import { exp, log, square } from "./unary.js";
import { mask } from "./util.js";

export interface ReduceOptions {
  axis?: number | readonly number[];
  keepDims?: boolean;
}

type ReduceAttrs = { axes: number[]; keepDims: boolean };

/** The reduction kernels that have a gradient (argmax and argmin give indices). */
export type ReduceName = Exclude<T.ReduceOp, "argmax" | "argmin">;

/** Reshapes an output-shaped gradient so that it broadcasts against the input again. */
function keptShape(g: Tensor, ctx: { inputs: readonly Tensor[]; attrs: ReduceAttrs }): Tensor {
  const x = ctx.inputs[0]!;
  return reshape(g, T.reducedShape(x.shape, ctx.attrs.axes, true));
}

export const reduceOps = named<ReduceName, OpRule<ReduceAttrs, any>>({
  // Each input element contributed once: the gradient is g broadcast back over the reduced axes.
  sum: {
    forward: ([x], { axes, keepDims }) => T.sum(x!, { axis: axes, keepDims }),
    vjp: (g, c) => [broadcastTo(keptShape(g, c), c.inputs[0]!.shape)],
  },
  // Only the maxima receive the gradient; ties share it equally (as PyTorch's amax does).
  max: {
    forward: ([x], { axes, keepDims }) => T.max(x!, { axis: axes, keepDims }),
    vjp: (g, c) => [shareAmongExtremes(g, c)],
  },
  min: {
    forward: ([x], { axes, keepDims }) => T.min(x!, { axis: axes, keepDims }),
    vjp: (g, c) => [shareAmongExtremes(g, c)],
  },
  // d(Π x)/dxᵢ = Π_{j<i} xⱼ · Π_{j>i} xⱼ: exclusive prefix times exclusive suffix products. No
  // division, so it holds with zeros, and it is built from differentiable ops (grad-of-grad works).
  prod: {
    forward: ([x], { axes, keepDims }) => T.prod(x!, { axis: axes, keepDims }),
    vjp: (g, c) => [mul(keptShape(g, c), productOfOthers(c.inputs[0]!, c.attrs.axes))],
  },
});

/** Π_{j≠i} xⱼ over the reduced axes, for every element i: the reduced axes are moved last and flattened. */
function productOfOthers(x: Tensor, axes: readonly number[]): Tensor {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const moved = transpose(x, perm);
  const k = T.sizeOf(axes.map((a) => x.shape[a]!));
  const rows = reshape(moved, [...kept.map((i) => x.shape[i]!), k]);
  const reverse = (t: Tensor) => slice(t, [...kept.map(() => undefined), { step: -1 }]);
  const others = mul(exclusiveProducts(rows), reverse(exclusiveProducts(reverse(rows))));
  return transpose(reshape(others, moved.shape), perm.map((_, i) => perm.indexOf(i)));
}

/**
 * pᵢ = Π_{j<i} xⱼ along the last axis (p₀ = 1): shift right by one (a 1 enters), then the
 * doubling scan of Hillis and Steele, pᵢ ← pᵢ · p_{i−d} for d = 1, 2, 4, …: log₂ k multiplies.
 */
function exclusiveProducts(x: Tensor): Tensor {
  const k = x.shape[x.rank - 1]!;
  const shift = (t: Tensor, d: number) => pad(slice(t, [...t.shape.slice(0, -1).map(() => undefined), { stop: k - d }]), [...t.shape.slice(0, -1).map(() => [0, 0] as const), [d, 0] as const], 1);
  let p = shift(x, Math.min(1, k));
  for (let d = 1; d < k; d *= 2) p = mul(p, shift(p, d));
  return p;
}

function outKept(c: { out: Tensor; inputs: readonly Tensor[]; attrs: ReduceAttrs }): Tensor {
  return reshape(c.out, T.reducedShape(c.inputs[0]!.shape, c.attrs.axes, true));
}

function shareAmongExtremes(g: Tensor, c: { inputs: readonly Tensor[]; out: Tensor; attrs: ReduceAttrs }): Tensor {
  const x = c.inputs[0]!.value, extreme = outKept(c).value;
  // A NaN extreme came from the NaN elements: they share the gradient (as max pooling sends it to the NaN).
  const isExtreme = mask(T.where(T.isNaN(extreme), T.isNaN(x), T.eq(x, extreme)));
  const count = new Tensor(T.sum(isExtreme.value, { axis: c.attrs.axes, keepDims: true }));
  return mul(div(keptShape(g, c), count), isExtreme);
}

/** The sorted axes an options bag asks `op` to reduce (the bag checked to be an object first). */
function axesOf(op: string, x: Tensor, options: ReduceOptions): number[] {
  T.checkKind(op, "options", options, "an object");
  return T.normAxes(op, options.axis, x.rank);
}

function reduce(name: keyof typeof reduceOps, x: Tensor, options: ReduceOptions): Tensor {
  return apply(reduceOps[name], [x], { axes: axesOf(name, x, options), keepDims: options.keepDims ?? false });
}

export const sum = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("sum", x, options);
export const max = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("max", x, options);
export const min = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("min", x, options);
export const prod = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("prod", x, options);

/** Σx / n over the reduced axes. */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  const count = T.reductionCount(x.shape, axesOf("mean", x, options));
  if (count === 0) throw new T.ShapeError("mean", "cannot average over an empty axis", [x.shape]);
  return div(sum(x, options), count);
}

/** Population variance mean((x − mean x)²), composed from differentiable ops. */
export function variance(x: Tensor, options: ReduceOptions = {}): Tensor {
  const axes = axesOf("variance", x, options);
  return mean(square(sub(x, mean(x, { axis: axes, keepDims: true }))), { axis: axes, keepDims: options.keepDims });
}

/**
 * log Σ exp(x) = m + log Σ exp(x − m), with m = max(x) held constant: the result does not
 * depend on m, so neither does the gradient (softmax(x)), and exp never overflows.
 */
export function logSumExp(x: Tensor, options: ReduceOptions = {}): Tensor {
  const axes = axesOf("logSumExp", x, options);
  const m = T.max(x.value, { axis: axes, keepDims: true });
  const shift = new Tensor(T.where(T.isFinite(m), m, 0));
  const lse = add(log(sum(exp(sub(x, shift)), { axis: axes, keepDims: true })), shift);
  return options.keepDims ? lse : reshape(lse, T.reducedShape(x.shape, axes, false));
}

// Index-valued reductions: no gradient.
export const argmax = (x: Tensor, options: { axis?: number; keepDims?: boolean } = {}): Tensor => new Tensor(T.argmax(x.value, options));
export const argmin = (x: Tensor, options: { axis?: number; keepDims?: boolean } = {}): Tensor => new Tensor(T.argmin(x.value, options));
