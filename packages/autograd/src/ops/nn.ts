import * as T from "@zerograd/tensor";
import { type OpDef, type OpRule, Tensor, apply, named } from "../tensor.js";
import { mul, sub } from "./binary.js";
import { matmul } from "./linalg.js";
import { concat, reshape, take } from "./movement.js";
import { sum } from "./reduce.js";
import { exp } from "./unary.js";

/**
 * softmax: y = eˣ / Σeˣ. vjp: y ⊙ (g − Σ(g ⊙ y)).
 * logSoftmax: y = x − logΣeˣ. vjp: g − softmax(x) · Σg = g − eʸ · Σg.
 */
export const softmaxOps = named<"softmax" | "logSoftmax", OpRule<number>>({
  softmax: {
    forward: ([x], axis) => T.softmax(x!, axis),
    vjp: (g, { out, attrs: axis }) => [mul(out, sub(g, sum(mul(g, out), { axis, keepDims: true })))],
  },
  logSoftmax: {
    forward: ([x], axis) => T.logSoftmax(x!, axis),
    vjp: (g, { out, attrs: axis }) => [sub(g, mul(exp(out), sum(g, { axis, keepDims: true })))],
  },
});

export const softmax = (x: Tensor, axis = -1): Tensor => apply(softmaxOps.softmax, [x], T.normAxis("softmax", axis, x.rank));
export const logSoftmax = (x: Tensor, axis = -1): Tensor => apply(softmaxOps.logSoftmax, [x], T.normAxis("logSoftmax", axis, x.rank));

/** im2col and col2im are each other's adjoint, so each is the other's vjp. */
export const windowOps = named<"im2col" | "col2im", OpRule<T.Window2D>>({
  im2col: { forward: ([x], g) => T.im2col(x!, g), vjp: (g, c) => [col2im(g, c.attrs)] },
  col2im: { forward: ([x], g) => T.col2im(x!, g), vjp: (g, c) => [im2col(g, c.attrs)] },
});

export const im2col = (x: Tensor, g: T.Window2D): Tensor => apply(windowOps.im2col, [x], g);
export const col2im = (cols: Tensor, g: T.Window2D): Tensor => apply(windowOps.col2im, [cols], g);

/**
 * 2-D convolution in NHWC, composed: patches (im2col) times the filter as a [kh·kw·cin, cout]
 * matrix. Its gradients come from the parts: col2im for the input, a matmul for the filter.
 */
export function conv2d(x: Tensor, filter: Tensor, options: T.WindowOptions = {}): Tensor {
  if (filter.rank !== 4) throw new T.ShapeError("conv2d", "filter must be [kh, kw, inChannels, outChannels]", [filter.shape]);
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  if (x.rank === 4 && x.shape[3] !== cin) throw new T.ShapeError("conv2d", "input channels differ from the filter's", [x.shape, filter.shape]);
  const g = T.window2d("conv2d", x.shape, kh, kw, options);
  const y = matmul(im2col(x, g), reshape(filter, [kh * kw * cin, cout]));
  return reshape(y, [g.n, g.oh, g.ow, cout]);
}

/**
 * Max pooling keeps, for each output, the flat index of the input that won; the vjp scatters g
 * there (maxPool2dAdjoint), and maxPool2dAdjoint's vjp gathers from the same indices.
 */
type PoolName = "maxPool2d" | "maxPool2dAdjoint" | "avgPool2d" | "avgPool2dAdjoint";
export const poolOps: { readonly [P in PoolName]: OpDef<any, any> & { readonly name: P } } = named<PoolName, OpRule<any, any>>({
  maxPool2d: {
    forward: ([x], options: T.PoolOptions) => {
      const { out, argmax } = T.maxPool2dWithArgmax(x!, options);
      return { out, saved: argmax };
    },
    vjp: (g, c): Tensor[] => [apply(poolOps.maxPool2dAdjoint, [g], { argmax: c.saved, shape: c.inputs[0]!.shape })],
  },
  maxPool2dAdjoint: {
    forward: ([g], { argmax, shape }: { argmax: Int32Array; shape: T.Shape }) => T.maxPool2dAdjoint(g!, argmax, shape),
    // A window lying wholly in the padding chose no input (argmax −1): that index picks the zero appended to g.
    vjp: (g, c) => [reshape(take(concat([reshape(g, [-1]), new Tensor(T.zeros([1], { dtype: g.dtype }))]), c.attrs.argmax), c.inputs[0]!.shape)],
  },
  // Average pooling is linear; its vjp is its adjoint, whose vjp is average pooling again.
  avgPool2d: {
    forward: ([x], options: T.PoolOptions) => T.avgPool2d(x!, options),
    vjp: (g, c): Tensor[] => [apply(poolOps.avgPool2dAdjoint, [g], { options: c.attrs, shape: c.inputs[0]!.shape })],
  },
  avgPool2dAdjoint: {
    forward: ([g], { options, shape }: { options: T.PoolOptions; shape: T.Shape }) => T.avgPool2dAdjoint(g!, shape, options),
    vjp: (g, c) => [avgPool2d(g, c.attrs.options)],
  },
});

export const maxPool2d = (x: Tensor, options: T.PoolOptions): Tensor => apply(poolOps.maxPool2d, [x], options);
export const avgPool2d = (x: Tensor, options: T.PoolOptions): Tensor => apply(poolOps.avgPool2d, [x], options);
