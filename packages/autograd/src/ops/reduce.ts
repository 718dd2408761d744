import * as T from "@zerograd/tensor";
import { type OpDef, Tensor, apply } from "../tensor.js";
import { add, div, eq, mul, sub, where } from "./binary.js";
import { broadcastTo, reshape } from "./movement.js";
import { exp, log, square } from "./unary.js";
import { mask } from "./util.js";

export interface ReduceOptions {
  axis?: number | readonly number[];
  keepDims?: boolean;
}

type ReduceAttrs = { axes: number[]; keepDims: boolean };

/** Reshapes an output-shaped gradient so that it broadcasts against the input again. */
function keptShape(g: Tensor, ctx: { inputs: readonly Tensor[]; attrs: ReduceAttrs }): Tensor {
  const x = ctx.inputs[0]!;
  return reshape(g, T.reducedShape(x.shape, ctx.attrs.axes, true));
}

export const reduceOps = {
  // Each input element contributed once: the gradient is g broadcast back over the reduced axes.
  sum: {
    name: "sum",
    forward: ([x], { axes, keepDims }) => T.sum(x!, { axis: axes, keepDims }),
    vjp: (g, c) => [broadcastTo(keptShape(g, c), c.inputs[0]!.shape)],
  },
  // Only the maxima receive the gradient; ties share it equally (as PyTorch's amax does).
  max: {
    name: "max",
    forward: ([x], { axes, keepDims }) => T.max(x!, { axis: axes, keepDims }),
    vjp: (g, c) => [shareAmongExtremes(g, c)],
  },
  min: {
    name: "min",
    forward: ([x], { axes, keepDims }) => T.min(x!, { axis: axes, keepDims }),
    vjp: (g, c) => [shareAmongExtremes(g, c)],
  },
  // d(Π x)/dxᵢ = Π_{j≠i} xⱼ. Without zeros that is out/xᵢ; with exactly one zero only that
  // element gets the product of the others; with two or more zeros every gradient is 0.
  prod: {
    name: "prod",
    forward: ([x], { axes, keepDims }) => T.prod(x!, { axis: axes, keepDims }),
    vjp: (g, c) => {
      const x = c.inputs[0]!;
      const opts = { axis: c.attrs.axes, keepDims: true };
      const isZero = eq(x, 0);
      const zeros = new Tensor(T.sum(isZero.value, opts));
      const safeX = where(isZero, 1, x);
      const prodOthers = prod(safeX, opts); // product of the non-zero elements
      const noZero = div(outKept(c), safeX);
      const oneZero = where(mask(T.logicalAnd(T.eq(zeros.value, 1), isZero.value)), prodOthers, 0);
      const local = where(mask(T.eq(zeros.value, 0)), noZero, oneZero);
      return [mul(keptShape(g, c), local)];
    },
  },
} satisfies Record<string, OpDef<ReduceAttrs>>;

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

function reduce(name: keyof typeof reduceOps, x: Tensor, options: ReduceOptions): Tensor {
  const axes = T.normAxes(name, options.axis, x.rank);
  return apply(reduceOps[name], [x], { axes, keepDims: options.keepDims ?? false });
}

export const sum = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("sum", x, options);
export const max = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("max", x, options);
export const min = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("min", x, options);
export const prod = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce("prod", x, options);

/** Σx / n over the reduced axes. */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  const count = T.reductionCount(x.shape, options.axis);
  if (count === 0) throw new T.ShapeError("mean", "cannot average over an empty axis", [x.shape]);
  return div(sum(x, options), count);
}

/** Population variance mean((x − mean x)²), composed from differentiable ops. */
export function variance(x: Tensor, options: ReduceOptions = {}): Tensor {
  const axes = T.normAxes("variance", options.axis, x.rank);
  return mean(square(sub(x, mean(x, { axis: axes, keepDims: true }))), { axis: axes, keepDims: options.keepDims });
}

/**
 * log Σ exp(x) = m + log Σ exp(x − m), with m = max(x) held constant: the result does not
 * depend on m, so neither does the gradient (softmax(x)), and exp never overflows.
 */
export function logSumExp(x: Tensor, options: ReduceOptions = {}): Tensor {
  const axes = T.normAxes("logSumExp", options.axis, x.rank);
  const m = T.max(x.value, { axis: axes, keepDims: true });
  const shift = new Tensor(T.where(T.isFinite(m), m, 0));
  const lse = add(log(sum(exp(sub(x, shift)), { axis: axes, keepDims: true })), shift);
  return options.keepDims ? lse : reshape(lse, T.reducedShape(x.shape, axes, false));
}

// Index-valued reductions: no gradient.
export const argmax = (x: Tensor, options: { axis?: number; keepDims?: boolean } = {}): Tensor => new Tensor(T.argmax(x.value, options));
export const argmin = (x: Tensor, options: { axis?: number; keepDims?: boolean } = {}): Tensor => new Tensor(T.argmin(x.value, options));
