import * as T from "@zerograd/tensor";
import { type OpDef, Tensor, apply } from "../tensor.js";
import { add, div, mul, sub, where } from "./binary.js";
import { constant, mask } from "./util.js";

/** Unary ops: forward = the tensor kernel, vjp = g · f'(x), using the saved output where it is cheaper. */
type Unary = OpDef<undefined, undefined>;
const x0 = (ctx: { inputs: readonly Tensor[] }) => ctx.inputs[0]!;

export const unaryOps = {
  neg: { name: "neg", forward: ([x]) => T.neg(x!), vjp: (g) => [neg(g)] },
  // d|x| = sign(x); sign has zero gradient everywhere it is defined.
  abs: { name: "abs", forward: ([x]) => T.abs(x!), vjp: (g, c) => [mul(g, sign(x0(c)))] },
  sign: { name: "sign", forward: ([x]) => T.sign(x!), vjp: (_, c) => [new Tensor(T.zeros(x0(c).shape, { dtype: x0(c).dtype }))] },
  exp: { name: "exp", forward: ([x]) => T.exp(x!), vjp: (g, c) => [mul(g, c.out)] },
  // d(eˣ − 1) = eˣ = out + 1
  expm1: { name: "expm1", forward: ([x]) => T.expm1(x!), vjp: (g, c) => [mul(g, add(c.out, 1))] },
  log: { name: "log", forward: ([x]) => T.log(x!), vjp: (g, c) => [div(g, x0(c))] },
  log1p: { name: "log1p", forward: ([x]) => T.log1p(x!), vjp: (g, c) => [div(g, add(x0(c), 1))] },
  // d√x = 1 / (2√x)
  sqrt: { name: "sqrt", forward: ([x]) => T.sqrt(x!), vjp: (g, c) => [div(mul(g, 0.5), c.out)] },
  // d x^(−½) = −½ x^(−3/2) = −½ out³
  rsqrt: { name: "rsqrt", forward: ([x]) => T.rsqrt(x!), vjp: (g, c) => [mul(g, mul(-0.5, mul(c.out, square(c.out))))] },
  square: { name: "square", forward: ([x]) => T.square(x!), vjp: (g, c) => [mul(g, mul(2, x0(c)))] },
  // d(1/x) = −1/x² = −out²
  reciprocal: { name: "reciprocal", forward: ([x]) => T.reciprocal(x!), vjp: (g, c) => [neg(mul(g, square(c.out)))] },
  sin: { name: "sin", forward: ([x]) => T.sin(x!), vjp: (g, c) => [mul(g, cos(x0(c)))] },
  cos: { name: "cos", forward: ([x]) => T.cos(x!), vjp: (g, c) => [neg(mul(g, sin(x0(c))))] },
  // d tanh = 1 − tanh²
  tanh: { name: "tanh", forward: ([x]) => T.tanh(x!), vjp: (g, c) => [mul(g, sub(1, square(c.out)))] },
  // d erf(x) = 2/√π · e^(−x²)
  erf: { name: "erf", forward: ([x]) => T.erf(x!), vjp: (g, c) => [mul(g, mul(2 / Math.sqrt(Math.PI), exp(neg(square(x0(c))))))] },
  // dσ = σ(1 − σ)
  sigmoid: { name: "sigmoid", forward: ([x]) => T.sigmoid(x!), vjp: (g, c) => [mul(g, mul(c.out, sub(1, c.out)))] },
  relu: { name: "relu", forward: ([x]) => T.relu(x!), vjp: (g, c) => [mul(g, mask(T.gt(x0(c).value, 0)))] },
  // GELU(x) = x·Φ(x); d = Φ(x) + x·φ(x), φ the standard normal density.
  gelu: {
    name: "gelu",
    forward: ([x]) => T.gelu(x!),
    vjp: (g, c) => {
      const x = x0(c);
      const cdf = mul(0.5, add(1, erf(mul(x, Math.SQRT1_2))));
      const pdf = mul(1 / Math.sqrt(2 * Math.PI), exp(mul(-0.5, square(x))));
      return [mul(g, add(cdf, mul(x, pdf)))];
    },
  },
  // d softplus = σ(x)
  softplus: { name: "softplus", forward: ([x]) => T.softplus(x!), vjp: (g, c) => [mul(g, sigmoid(x0(c)))] },
} satisfies Record<string, Unary>;

function unary(name: keyof typeof unaryOps, x: Tensor): Tensor {
  return apply(unaryOps[name] as Unary, [x], undefined);
}

export const neg = (x: Tensor): Tensor => unary("neg", x);
export const abs = (x: Tensor): Tensor => unary("abs", x);
export const sign = (x: Tensor): Tensor => unary("sign", x);
export const exp = (x: Tensor): Tensor => unary("exp", x);
export const expm1 = (x: Tensor): Tensor => unary("expm1", x);
export const log = (x: Tensor): Tensor => unary("log", x);
export const log1p = (x: Tensor): Tensor => unary("log1p", x);
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unary("rsqrt", x);
export const square = (x: Tensor): Tensor => unary("square", x);
export const reciprocal = (x: Tensor): Tensor => unary("reciprocal", x);
export const sin = (x: Tensor): Tensor => unary("sin", x);
export const cos = (x: Tensor): Tensor => unary("cos", x);
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
export const erf = (x: Tensor): Tensor => unary("erf", x);
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
export const relu = (x: Tensor): Tensor => unary("relu", x);
export const gelu = (x: Tensor): Tensor => unary("gelu", x);
export const softplus = (x: Tensor): Tensor => unary("softplus", x);

/** Ops with a parameter: the parameter is an attribute, not an input. */
export const paramOps = {
  leakyRelu: {
    name: "leakyRelu",
    forward: ([x], slope) => T.leakyRelu(x!, slope),
    // The slope multiplies g directly, so it keeps g's dtype (a float32 0/1/slope mask would round it).
    vjp: (g, c) => [where(mask(T.gt(x0(c).value, 0)), g, mul(g, c.attrs))],
  },
  // d elu = 1 for x > 0, α·eˣ = out + α otherwise
  elu: {
    name: "elu",
    forward: ([x], alpha) => T.elu(x!, alpha),
    vjp: (g, c) => [where(mask(T.gt(x0(c).value, 0)), g, mul(g, add(c.out, c.attrs)))],
  },
} satisfies Record<string, OpDef<number, undefined>>;

export const leakyRelu = (x: Tensor, slope = 0.2): Tensor => apply(paramOps.leakyRelu, [x], slope);
export const elu = (x: Tensor, alpha = 1): Tensor => apply(paramOps.elu, [x], alpha);

/** Limits x to [min, max]; the gradient is 1 inside the interval (bounds included) and 0 outside. */
export const clipOp: OpDef<{ min: number; max: number }> = {
  name: "clip",
  forward: ([x], { min, max }) => T.clip(x!, min, max),
  vjp: (g, c) => {
    const x = x0(c).value;
    return [mul(g, mask(T.logicalAnd(T.ge(x, c.attrs.min), T.le(x, c.attrs.max))))];
  },
};

export const clip = (x: Tensor, min: number, max: number): Tensor => apply(clipOp, [x], { min, max });

// Tests that need no gradient.
export const isNaN = (x: Tensor): Tensor => new Tensor(T.isNaN(x.value));
export const isFinite = (x: Tensor): Tensor => new Tensor(T.isFinite(x.value));

export { constant };
