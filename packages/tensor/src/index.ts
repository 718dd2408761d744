/**
 * @zerograd/tensor — n-dimensional Float32Array arrays and their kernels. No gradients here:
 * the autograd package wraps these ops.
 */
export { ShapeError, checkArg, checkKind, fmtShape } from "./errors.js";
export { type Shape, sizeOf, stridesOf, shapesEqual, normAxis, normAxes, broadcastShapes, broadcastAxes, checkShape } from "./shape.js";
export { NDArray, type DType, type Storage, type NestedArray, allocate, dtypeOf, resultDType } from "./ndarray.js";
export { Random } from "./random.js";
export { type Kernels, type KernelSetName, firstNonFiniteOf, jsKernels, kernels, useKernels } from "./kernels/index.js";
export { wasmKernels, wasmSimdSupported, wasmKernelInfo } from "./kernels/wasm/index.js";
export type { Window2D } from "./kernels/conv.js";
export type { UnaryOp, BinaryOp } from "./kernels/elementwise.js";
export type { ReduceOp } from "./kernels/reduce.js";
export type { BceLogitsArgs } from "./kernels/losses.js";
export type { AdamArgs } from "./kernels/optim.js";
export * from "./ops/create.js";
export * from "./ops/elementwise.js";
export * from "./ops/reduce.js";
export * from "./ops/movement.js";
export * from "./ops/linalg.js";
export * from "./ops/nn.js";
export { type Field, type OptionSchema, type OptionsOf, type ParsedOf, type NumberSpec, defineOptions, number, integer, boolean, oneOf, custom, func, suggest, describeValue } from "./options.js";
