import * as T from "@zerograd/tensor";
import { Tensor } from "./tensor.js";

export interface TensorOptions {
  dtype?: T.DType;
  requiresGrad?: boolean;
}

const wrap = (x: T.NDArray, options: TensorOptions): Tensor => new Tensor(x, options.requiresGrad ?? false);

/** A tensor from numbers, nested arrays, booleans, a typed array or an NDArray. */
export function tensor(values: T.ArrayInput, options: TensorOptions & { shape?: T.Shape } = {}): Tensor {
  return wrap(T.array(values, options), options);
}

export const zeros = (shape: T.Shape, options: TensorOptions = {}): Tensor => wrap(T.zeros(shape, options), options);
export const ones = (shape: T.Shape, options: TensorOptions = {}): Tensor => wrap(T.ones(shape, options), options);
export const full = (shape: T.Shape, value: number, options: TensorOptions = {}): Tensor => wrap(T.full(shape, value, options), options);
export const zerosLike = (x: Tensor, options: TensorOptions = {}): Tensor => zeros(x.shape, { dtype: x.dtype, ...options });
export const onesLike = (x: Tensor, options: TensorOptions = {}): Tensor => ones(x.shape, { dtype: x.dtype, ...options });
export const arange = (start: number, stop?: number, step = 1, options: TensorOptions = {}): Tensor => wrap(T.arange(start, stop, step, options), options);
export const linspace = (start: number, stop: number, num: number, options: TensorOptions = {}): Tensor => wrap(T.linspace(start, stop, num, options), options);
export const eye = (n: number, m = n, options: TensorOptions = {}): Tensor => wrap(T.eye(n, m, options), options);

export interface RandomTensorOptions extends TensorOptions {
  seed?: number | T.Random;
}

/** Standard normal samples (seeded: the same seed gives the same tensor). */
export const randn = (shape: T.Shape, options: RandomTensorOptions = {}): Tensor => wrap(T.randomNormal(shape, 0, 1, options), options);
/** Uniform samples in [0, 1). */
export const rand = (shape: T.Shape, options: RandomTensorOptions = {}): Tensor => wrap(T.randomUniform(shape, 0, 1, options), options);
export const randomUniform = (shape: T.Shape, low: number, high: number, options: RandomTensorOptions = {}): Tensor => wrap(T.randomUniform(shape, low, high, options), options);
export const randomNormal = (shape: T.Shape, mean: number, std: number, options: RandomTensorOptions = {}): Tensor => wrap(T.randomNormal(shape, mean, std, options), options);
