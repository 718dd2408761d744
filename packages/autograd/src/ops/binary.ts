import * as T from "@zerograd/tensor";
import { type OpDef, Tensor, apply, opTable } from "../tensor.js";
import { log, neg } from "./unary.js";
import { type TensorLike, lift, mask } from "./util.js";

/**
 * Binary ops with NumPy broadcasting. Each vjp returns output-shaped gradients; the engine sums
 * them back to each input's shape (one place undoes broadcasting for every op).
 */
type Binary = OpDef<undefined, undefined>;

/** The binary kernels that have a gradient (comparisons and logic give 0/1 and none). */
export type BinaryName = Exclude<T.BinaryOp, "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "logicalAnd" | "logicalOr" | "logicalXor">;

/**
 * A binary op's vjp: the forward is the tensor kernel of the same name, out = a ⊕ b; the rule
 * returns output-shaped gradients for a and b (null where none is needed).
 */
type BinaryRule = (g: Tensor, a: Tensor, b: Tensor, out: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

const binaryRules: { [K in BinaryName]: BinaryRule } = {
  add: (g) => [g, g],
  sub: (g) => [g, neg(g)],
  mul: (g, a, b) => [mul(g, b), mul(g, a)],
  // d(a/b) = 1/b da − a/b² db = (da − out·db) / b
  div: (g, _, b, out, needs) => [needs[0] ? div(g, b) : null, needs[1] ? neg(div(mul(g, out), b)) : null],
  // d(aᵇ) = b·aᵇ⁻¹ da + aᵇ·ln a db. As in PyTorch, the first term is 0 where b = 0 and the
  // second is 0 where a = 0 and b ≥ 0 (instead of 0·∞ = NaN).
  pow: (g, a, b, out, needs) => [
    needs[0] ? where(mask(T.eq(b.value, 0)), 0, mul(g, mul(b, pow(a, sub(b, 1))))) : null,
    needs[1] ? where(mask(T.logicalAnd(T.eq(a.value, 0), T.ge(b.value, 0))), 0, mul(g, mul(out, log(a)))) : null,
  ],
  // Ties share the gradient equally, as in PyTorch.
  maximum: (g, a, b) => splitBetween(g, shareOfFirst(a.value, b.value, T.gt(a.value, b.value))),
  minimum: (g, a, b) => splitBetween(g, shareOfFirst(a.value, b.value, T.lt(a.value, b.value))),
};

export const binaryOps = opTable<BinaryName, BinaryRule, Omit<Binary, "name">>(binaryRules, (name, rule) => ({
  forward: ([a, b]) => T.binary(name, a!, b!),
  vjp: (g, { inputs: [a, b], out, needs }) => rule(g, a!, b!, out, needs),
}));

const splitBetween = (g: Tensor, share: Tensor) => [mul(g, share), mul(g, sub(1, share))];

/**
 * The share of maximum/minimum's gradient that goes to a: 1 where a wins, ½ on a tie, 0 where b
 * wins. A NaN operand propagates to the output, so it takes the whole gradient (a if both are NaN).
 */
function shareOfFirst(a: T.NDArray, b: T.NDArray, aWins: T.NDArray): Tensor {
  const share = T.add(aWins, T.mul(T.eq(a, b), 0.5));
  return mask(T.where(T.isNaN(a), 1, T.where(T.isNaN(b), 0, share)));
}

const binaryFunctions = Object.fromEntries(
  Object.values(binaryOps).map((op) => [op.name, (a: TensorLike, b: TensorLike) => apply(op as Binary, [lift(a, b), lift(b, a)], undefined)]),
) as { [K in BinaryName]: (a: TensorLike, b: TensorLike) => Tensor };

export const { add, sub, mul, div, pow, maximum, minimum } = binaryFunctions;

/**
 * where(cond, a, b): a where cond ≠ 0, b elsewhere. The condition gets no gradient; a and b get
 * g exactly where they were picked and exactly 0 elsewhere — whatever g or the other branch holds.
 */
export const whereOp: Binary & { readonly name: "where" } = {
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

