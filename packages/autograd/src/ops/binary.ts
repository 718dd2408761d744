import * as T from "@zerograd/tensor";
import { type OpDef, Tensor, apply } from "../tensor.js";
import { log, neg } from "./unary.js";
import { type TensorLike, lift, mask } from "./util.js";

/**
 * Binary ops with NumPy broadcasting. Each vjp returns output-shaped gradients; the engine sums
 * them back to each input's shape (one place undoes broadcasting for every op).
 */
type Binary = OpDef<undefined, undefined>;

export const binaryOps = {
  add: { name: "add", forward: ([a, b]) => T.add(a!, b!), vjp: (g) => [g, g] },
  sub: { name: "sub", forward: ([a, b]) => T.sub(a!, b!), vjp: (g) => [g, neg(g)] },
  mul: { name: "mul", forward: ([a, b]) => T.mul(a!, b!), vjp: (g, { inputs: [a, b] }) => [mul(g, b!), mul(g, a!)] },
  // d(a/b) = 1/b da − a/b² db = (da − out·db) / b
  div: {
    name: "div",
    forward: ([a, b]) => T.div(a!, b!),
    vjp: (g, { inputs: [, b], out, needs }) => [needs[0] ? div(g, b!) : null, needs[1] ? neg(div(mul(g, out), b!)) : null],
  },
  // d(aᵇ) = b·aᵇ⁻¹ da + aᵇ·ln a db. As in PyTorch, the first term is 0 where b = 0 and the
  // second is 0 where a = 0 and b ≥ 0 (instead of 0·∞ = NaN).
  pow: {
    name: "pow",
    forward: ([a, b]) => T.pow(a!, b!),
    vjp: (g, { inputs: [a, b], out, needs }) => [
      needs[0] ? where(mask(T.eq(b!.value, 0)), 0, mul(g, mul(b!, pow(a!, sub(b!, 1))))) : null,
      needs[1] ? where(mask(T.logicalAnd(T.eq(a!.value, 0), T.ge(b!.value, 0))), 0, mul(g, mul(out, log(a!)))) : null,
    ],
  },
  // Ties share the gradient equally, as in PyTorch.
  maximum: {
    name: "maximum",
    forward: ([a, b]) => T.maximum(a!, b!),
    vjp: (g, { inputs: [a, b] }) => {
      const share = shareOfFirst(a!.value, b!.value, T.gt(a!.value, b!.value));
      return [mul(g, share), mul(g, sub(1, share))];
    },
  },
  minimum: {
    name: "minimum",
    forward: ([a, b]) => T.minimum(a!, b!),
    vjp: (g, { inputs: [a, b] }) => {
      const share = shareOfFirst(a!.value, b!.value, T.lt(a!.value, b!.value));
      return [mul(g, share), mul(g, sub(1, share))];
    },
  },
} satisfies Record<string, Binary>;

/**
 * The share of maximum/minimum's gradient that goes to a: 1 where a wins, ½ on a tie, 0 where b
 * wins. A NaN operand propagates to the output, so it takes the whole gradient (a if both are NaN).
 */
function shareOfFirst(a: T.NDArray, b: T.NDArray, aWins: T.NDArray): Tensor {
  const share = T.add(aWins, T.mul(T.eq(a, b), 0.5));
  return mask(T.where(T.isNaN(a), 1, T.where(T.isNaN(b), 0, share)));
}

function binary(name: keyof typeof binaryOps, a: TensorLike, b: TensorLike): Tensor {
  return apply(binaryOps[name] as Binary, [lift(a, b), lift(b, a)], undefined);
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary("add", a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary("sub", a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary("mul", a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary("div", a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary("pow", a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary("maximum", a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary("minimum", a, b);

/**
 * where(cond, a, b): a where cond ≠ 0, b elsewhere. The condition gets no gradient; a and b get
 * g exactly where they were picked and exactly 0 elsewhere — whatever g or the other branch holds.
 */
export const whereOp: Binary = {
  name: "where",
  forward: ([c, a, b]) => T.where(c!, a!, b!),
  vjp: (g, { inputs: [c], needs }) => [null, needs[1] ? where(c!, g, 0) : null, needs[2] ? where(c!, 0, g) : null],
};

export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const x = lift(a, b), y = lift(b, a);
  return apply(whereOp, [lift(cond).detach(), x, y], undefined);
}

// Comparisons and logic: 0/1 results with no gradient.
const compare = (f: (a: T.NDArray, b: T.NDArray) => T.NDArray) => (a: TensorLike, b: TensorLike): Tensor =>
  new Tensor(f(lift(a, b).value, lift(b, a).value));
export const eq = compare(T.eq);
export const ne = compare(T.ne);
export const lt = compare(T.lt);
export const le = compare(T.le);
export const gt = compare(T.gt);
export const ge = compare(T.ge);
export const logicalAnd = compare(T.logicalAnd);
export const logicalOr = compare(T.logicalOr);
export const logicalXor = compare(T.logicalXor);
export const logicalNot = (x: Tensor): Tensor => new Tensor(T.logicalNot(x.value));

