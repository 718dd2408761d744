import { checkArg, checkKind } from "../errors.js";
import { kernels } from "../kernels/index.js";
import type { BinaryOp, UnaryOp } from "../kernels/elementwise.js";
import { NDArray, type Storage, allocate, resultDType } from "../ndarray.js";
import { type Shape, broadcastShapes, sizeOf } from "../shape.js";
import { scalar } from "./create.js";

// ---------------------------------------------------------------------------------------------
// Unary ops: make the input contiguous, then one flat kernel loop.

/** Parameter names (each must be a number) and rules of the unary kernels that take parameters (p, q). */
const paramChecks: Partial<Record<UnaryOp, [names: string[], rule: (p: number, q: number) => void]>> = {
  leakyRelu: [["slope"], (slope) => checkArg(Number.isFinite(slope), "leakyRelu", `slope must be finite, got ${slope}`)],
  elu: [["alpha"], (alpha) => checkArg(Number.isFinite(alpha), "elu", `alpha must be finite, got ${alpha}`)],
  clip: [["min", "max"], (min, max) => checkArg(!(min > max) && !Number.isNaN(min) && !Number.isNaN(max), "clip", `min must be ≤ max, got min=${min}, max=${max}`)],
};

/** Applies the unary kernel `op` (with its parameters p, q) to every element. */
export function unary(op: UnaryOp, x: NDArray, p = 0, q = 0): NDArray {
  const [names = [], rule] = paramChecks[op] ?? [];
  names.forEach((name, i) => checkKind(op, name, i === 0 ? p : q, "a number"));
  rule?.(p, q);
  const out = allocate(x.dtype, x.size);
  kernels().unary[op](out, x.flat(), p, q);
  return new NDArray(out, x.shape);
}

export const neg = (x: NDArray): NDArray => unary("neg", x);
export const abs = (x: NDArray): NDArray => unary("abs", x);
export const sign = (x: NDArray): NDArray => unary("sign", x);
export const exp = (x: NDArray): NDArray => unary("exp", x);
export const expm1 = (x: NDArray): NDArray => unary("expm1", x);
export const log = (x: NDArray): NDArray => unary("log", x);
export const log1p = (x: NDArray): NDArray => unary("log1p", x);
export const sqrt = (x: NDArray): NDArray => unary("sqrt", x);
export const rsqrt = (x: NDArray): NDArray => unary("rsqrt", x);
export const square = (x: NDArray): NDArray => unary("square", x);
export const reciprocal = (x: NDArray): NDArray => unary("reciprocal", x);
export const sin = (x: NDArray): NDArray => unary("sin", x);
export const cos = (x: NDArray): NDArray => unary("cos", x);
export const tanh = (x: NDArray): NDArray => unary("tanh", x);
export const erf = (x: NDArray): NDArray => unary("erf", x);
export const sigmoid = (x: NDArray): NDArray => unary("sigmoid", x);
export const relu = (x: NDArray): NDArray => unary("relu", x);
export const gelu = (x: NDArray): NDArray => unary("gelu", x);
export const softplus = (x: NDArray): NDArray => unary("softplus", x);
export const isNaN = (x: NDArray): NDArray => unary("isNaN", x);
export const isFinite = (x: NDArray): NDArray => unary("isFinite", x);
export const logicalNot = (x: NDArray): NDArray => unary("logicalNot", x);
/** x for x > 0, slope·x otherwise. */
export const leakyRelu = (x: NDArray, slope = 0.2): NDArray => unary("leakyRelu", x, slope);
/** x for x > 0, α·(eˣ − 1) otherwise. */
export const elu = (x: NDArray, alpha = 1): NDArray => unary("elu", x, alpha);
/** Limits every element to [min, max]. */
export const clip = (x: NDArray, min: number, max: number): NDArray => unary("clip", x, min, max);

// ---------------------------------------------------------------------------------------------
// Broadcasting driver: resolves broadcasting in outer loops and hands contiguous rows to kernels.

/** The strides that read `x` as if it had shape `outShape` (0 along broadcast axes). */
export function broadcastStrides(x: NDArray, outShape: Shape): number[] {
  const lead = outShape.length - x.rank;
  return outShape.map((d, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : x.strides[i - lead]!));
}

/**
 * Visits `outShape` row by row for several operands read with the given strides. Adjacent axes
 * that every operand walks contiguously are merged first, so same-shape contiguous inputs become
 * one long row. `visit(o, offsets, n, innerStrides)` is called once per row.
 */
export function forEachRow(
  outShape: Shape,
  operands: { offset: number; strides: number[] }[],
  visit: (o: number, offsets: number[], n: number, inner: number[]) => void,
): void {
  const total = sizeOf(outShape);
  if (total === 0) return;
  // Merge axis i into i+1 when every operand's stride[i] = stride[i+1] · shape[i+1]; drop size-1 axes.
  const dims: number[] = [];
  const strides: number[][] = operands.map(() => []);
  for (let i = 0; i < outShape.length; i++) {
    const d = outShape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && operands.every((op, k) => op.strides[i]! * d === strides[k]![last]!)) {
      dims[last]! *= d;
      operands.forEach((op, k) => (strides[k]![last] = op.strides[i]!));
    } else {
      dims.push(d);
      operands.forEach((op, k) => strides[k]!.push(op.strides[i]!));
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    strides.forEach((s) => s.push(0));
  }
  const rank = dims.length;
  const n = dims[rank - 1]!;
  const inner = strides.map((s) => s[rank - 1]!);
  const offsets = operands.map((op) => op.offset);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < total; o += n) {
    visit(o, offsets, n, inner);
    for (let ax = rank - 2; ax >= 0; ax--) {
      index[ax]!++;
      for (let k = 0; k < offsets.length; k++) offsets[k]! += strides[k]![ax]!;
      if (index[ax]! < dims[ax]!) break;
      for (let k = 0; k < offsets.length; k++) offsets[k]! -= strides[k]![ax]! * dims[ax]!;
      index[ax] = 0;
    }
  }
}

function asArray(x: NDArray | number, like: NDArray | number): NDArray {
  if (x instanceof NDArray) return x;
  return scalar(x, like instanceof NDArray ? like.dtype : "float32");
}

/** Applies the binary kernel `op` elementwise, with NumPy broadcasting. */
export function binary(op: BinaryOp, a0: NDArray | number, b0: NDArray | number): NDArray {
  const a = asArray(a0, b0), b = asArray(b0, a0);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = allocate(resultDType(a, b), sizeOf(shape));
  const kernel = kernels().binary[op];
  const ad = a.data, bd = b.data;
  forEachRow(
    shape,
    [
      { offset: a.offset, strides: broadcastStrides(a, shape) },
      { offset: b.offset, strides: broadcastStrides(b, shape) },
    ],
    (o, [ia, ib], n, [sa, sb]) => kernel(out, o, ad, ia!, sa!, bd, ib!, sb!, n),
  );
  return new NDArray(out, shape);
}

type Operand = NDArray | number;
export const add = (a: Operand, b: Operand): NDArray => binary("add", a, b);
export const sub = (a: Operand, b: Operand): NDArray => binary("sub", a, b);
export const mul = (a: Operand, b: Operand): NDArray => binary("mul", a, b);
export const div = (a: Operand, b: Operand): NDArray => binary("div", a, b);
export const pow = (a: Operand, b: Operand): NDArray => binary("pow", a, b);
export const maximum = (a: Operand, b: Operand): NDArray => binary("maximum", a, b);
export const minimum = (a: Operand, b: Operand): NDArray => binary("minimum", a, b);
export const eq = (a: Operand, b: Operand): NDArray => binary("eq", a, b);
export const ne = (a: Operand, b: Operand): NDArray => binary("ne", a, b);
export const lt = (a: Operand, b: Operand): NDArray => binary("lt", a, b);
export const le = (a: Operand, b: Operand): NDArray => binary("le", a, b);
export const gt = (a: Operand, b: Operand): NDArray => binary("gt", a, b);
export const ge = (a: Operand, b: Operand): NDArray => binary("ge", a, b);
export const logicalAnd = (a: Operand, b: Operand): NDArray => binary("logicalAnd", a, b);
export const logicalOr = (a: Operand, b: Operand): NDArray => binary("logicalOr", a, b);
export const logicalXor = (a: Operand, b: Operand): NDArray => binary("logicalXor", a, b);

/** Picks a where cond ≠ 0 and b elsewhere; the three broadcast together. */
export function where(cond: Operand, a: Operand, b: Operand): NDArray {
  const c = asArray(cond, a), x = asArray(a, b), y = asArray(b, a);
  const shape = broadcastShapes("where", c.shape, x.shape, y.shape);
  const out: Storage = allocate(resultDType(x, y), sizeOf(shape));
  const kernel = kernels().where;
  forEachRow(
    shape,
    [c, x, y].map((t) => ({ offset: t.offset, strides: broadcastStrides(t, shape) })),
    (o, [ic, ix, iy], n, [sc, sx, sy]) => kernel(out, o, c.data, ic!, sc!, x.data, ix!, sx!, y.data, iy!, sy!, n),
  );
  return new NDArray(out, shape);
}
