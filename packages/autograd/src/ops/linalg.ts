import * as T from "@zerograd/tensor";
import { type OpDef, Tensor, apply } from "../tensor.js";
import { mT, reshape } from "./movement.js";

/**
 * Matrix product of rank ≥ 2 operands, batch axes broadcast. For C = A·B:
 * dA = G·Bᵀ and dB = Aᵀ·G (the engine sums broadcast batch axes away). The transposes are views:
 * no copy is made.
 */
export const matmulOp: OpDef & { readonly name: "matmul" } = {
  name: "matmul",
  forward: ([a, b]) => T.matmul(a!, b!),
  vjp: (g, { inputs: [a, b], needs }) => [needs[0] ? matmul(g, mT(b!)) : null, needs[1] ? matmul(mT(a!), g) : null],
};

/** NumPy's matmul: 1-D operands are promoted to a row (left) or column (right) and the axis dropped after. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) throw new T.ShapeError("matmul", "operands must have at least one axis", [a.shape, b.shape]);
  if (a.rank >= 2 && b.rank >= 2) return apply(matmulOp, [a, b], undefined);
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  if (a2.shape[a2.rank - 1] !== b2.shape[b2.rank - 2]) throw new T.ShapeError("matmul", "inner dimensions differ", [a.shape, b.shape]);
  const c = apply(matmulOp, [a2, b2], undefined);
  const shape = c.shape.slice(0, -2);
  if (a.rank !== 1) shape.push(c.shape[c.rank - 2]!);
  if (b.rank !== 1) shape.push(c.shape[c.rank - 1]!);
  return reshape(c, shape);
}
