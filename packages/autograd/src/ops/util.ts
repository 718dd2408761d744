import * as T from "@zerograd/tensor";
import { Tensor } from "../tensor.js";

/** A number, or a tensor: binary ops accept both. */
export type TensorLike = Tensor | number;

/** A constant (no gradient) with the dtype of `like`. */
export function constant(value: number, like?: Tensor): Tensor {
  return new Tensor(T.scalar(value, like?.dtype ?? "float32"));
}

export function lift(x: TensorLike, like?: TensorLike): Tensor {
  return x instanceof Tensor ? x : constant(x, like instanceof Tensor ? like : undefined);
}

/** A 0/1 tensor with no gradient (masks computed from values, such as x > 0). */
export function mask(value: T.NDArray): Tensor {
  return new Tensor(value);
}
