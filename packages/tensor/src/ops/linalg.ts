import { ShapeError } from "../errors.js";
import { kernels } from "../kernels/index.js";
import { NDArray, allocate, resultDType } from "../ndarray.js";
import { broadcastShapes, sizeOf } from "../shape.js";
import { broadcastStrides, forEachRow } from "./elementwise.js";

/**
 * Matrix product with NumPy's rules: [..., M, K] @ [..., K, N] → [..., M, N], batch axes
 * broadcast; a 1-D left operand is a row vector and a 1-D right operand a column vector (their
 * axis is dropped from the result). Operands may be strided views (e.g. transposes): the kernel
 * reads them in place.
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  if (a.rank === 0 || b.rank === 0) throw new ShapeError("matmul", "operands must have at least one axis", [a.shape, b.shape]);
  const A = a.rank === 1 ? new NDArray(a.data, [1, a.shape[0]!], [0, a.strides[0]!], a.offset) : a;
  const B = b.rank === 1 ? new NDArray(b.data, [b.shape[0]!, 1], [b.strides[0]!, 0], b.offset) : b;
  const M = A.shape[A.rank - 2]!, K = A.shape[A.rank - 1]!, K2 = B.shape[B.rank - 2]!, N = B.shape[B.rank - 1]!;
  if (K !== K2) throw new ShapeError("matmul", "inner dimensions differ", [a.shape, b.shape]);
  let batch: number[];
  try {
    batch = broadcastShapes("matmul", A.shape.slice(0, -2), B.shape.slice(0, -2));
  } catch {
    throw new ShapeError("matmul", "batch dimensions cannot be broadcast", [a.shape, b.shape]);
  }
  const out = allocate(resultDType(a, b), sizeOf(batch) * M * N);
  const batchView = (x: NDArray) => ({
    offset: x.offset,
    strides: batch.length ? broadcastStrides(new NDArray(x.data, x.shape.slice(0, -2), x.strides.slice(0, -2), x.offset), batch) : [0],
  });
  const ars = A.strides[A.rank - 2]!, acs = A.strides[A.rank - 1]!, brs = B.strides[B.rank - 2]!, bcs = B.strides[B.rank - 1]!;
  const matmulKernel = kernels().matmul;
  // forEachRow walks the broadcast batch axes; each batch element is one kernel call.
  forEachRow(batch.length ? batch : [1], [batchView(A), batchView(B)], (o, [ia, ib], n, [sa, sb]) => {
    for (let t = 0; t < n; t++) {
      const aView = { data: A.data, off: ia! + t * sa!, rs: ars, cs: acs };
      const bView = { data: B.data, off: ib! + t * sb!, rs: brs, cs: bcs };
      matmulKernel(out, (o + t) * M * N, aView, bView, M, K, N);
    }
  });
  const shape = [...batch, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
  return new NDArray(out, shape);
}

/** Inner product of two vectors, or matmul for higher ranks. */
export const dot = (a: NDArray, b: NDArray): NDArray => matmul(a, b);
