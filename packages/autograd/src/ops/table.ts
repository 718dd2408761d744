import type { OpDef } from "../tensor.js";
import { type BinaryName, binaryOps, whereOp } from "./binary.js";
import { matmulOp } from "./linalg.js";
import { type MovementName, concatOp, movementOps } from "./movement.js";
import { poolOps, softmaxOps, windowOps } from "./nn.js";
import { type ReduceName, reduceOps } from "./reduce.js";
import { type UnaryName, unaryOps } from "./unary.js";

/**
 * Every differentiable op, by name. The unary, binary and reduction names come from the tensor
 * kernels, so a kernel without a gradient rule (or a rule without its kernel) fails to compile;
 * the other names are listed here. Each op's record (forward and vjp side by side) lives in the
 * ops file of its kind; the functions and Tensor methods that call it are checked against this
 * table by test/ops.test.ts, which also requires a worked example, a float64 gradcheck and a
 * broadcast-shape case for every name.
 */
export type OpName =
  | UnaryName | BinaryName | "where" | ReduceName | MovementName | "concat" | "matmul"
  | "softmax" | "logSoftmax" | "im2col" | "col2im" | "maxPool2d" | "maxPool2dAdjoint" | "avgPool2d" | "avgPool2dAdjoint";

export const OPS: { readonly [P in OpName]: OpDef<any, any> & { readonly name: P } } = {
  ...unaryOps, ...binaryOps, where: whereOp, ...reduceOps, ...movementOps, concat: concatOp, matmul: matmulOp,
  ...softmaxOps, ...windowOps, ...poolOps,
};

/** Differentiable functions composed from the ops above (no record of their own). */
export const COMPOSITES = ["mean", "variance", "logSumExp", "conv2d", "stack", "split", "pad", "expandDims", "squeeze", "flatten", "mT", "permute"] as const;
