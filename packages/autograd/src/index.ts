/**
 * @zerograd/autograd — reverse-mode automatic differentiation over @zerograd/tensor.
 * Every op is one record with its forward and its vjp; backward() walks the tape in reverse.
 */
export { Tensor, apply, asTensor, opTable, named, type OpDef, type OpRule, type VjpContext, type Node } from "./tensor.js";
export { OPS, COMPOSITES, type OpName } from "./ops/table.js";
export { noGrad, isGradEnabled, withGradMode } from "./mode.js";
export { detectAnomaly, setDetectAnomaly, isAnomalyEnabled, AnomalyError } from "./anomaly.js";
export { backward, gradients, grad, valueAndGrad, type BackwardOptions } from "./engine.js";
export { gradcheck, type GradcheckOptions, type GradcheckResult } from "./gradcheck.js";
export { toDot } from "./dot.js";
export * from "./create.js";
export * from "./ops/unary.js";
export * from "./ops/binary.js";
export * from "./ops/reduce.js";
export * from "./ops/movement.js";
export * from "./ops/linalg.js";
export * from "./ops/nn.js";
export type { TensorLike } from "./ops/util.js";
export { ShapeError, type Shape, type DType, NDArray, Random } from "@zerograd/tensor";
