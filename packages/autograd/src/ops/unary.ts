import * as T from "@zerograd/tensor";
import { type OpDef, Tensor, apply, opTable } from "../tensor.js";
import { add, div, mul, sub, where } from "./binary.js";
import { constant, mask } from "./util.js";

/** The unary kernels that have a gradient (the others are tests: isNaN, isFinite, logicalNot). */
export type UnaryName = Exclude<T.UnaryOp, "isNaN" | "isFinite" | "logicalNot">;

/**
 * A unary op's vjp: the forward is the tensor kernel of the same name, y = f(x) (with parameters
 * p for leakyRelu, elu and clip); the rule returns g · f′(x) from g, x, y and p.
 */
type UnaryRule = (g: Tensor, x: Tensor, y: Tensor, p: readonly number[]) => Tensor;
const above0 = (x: Tensor) => mask(T.gt(x.value, 0));

const unaryRules: { [K in UnaryName]: UnaryRule } = {
  neg: (g) => neg(g),
  abs: (g, x) => mul(g, sign(x)), // d|x| = sign(x)
  sign: (g) => new Tensor(T.zeros(g.shape, { dtype: g.dtype })), // flat wherever it is defined
  exp: (g, _, y) => mul(g, y), // d eˣ = eˣ = y
  expm1: (g, _, y) => mul(g, add(y, 1)), // d(eˣ − 1) = eˣ = y + 1
  log: (g, x) => div(g, x), // d ln x = 1/x
  log1p: (g, x) => div(g, add(x, 1)), // d ln(1 + x) = 1/(1 + x)
  sqrt: (g, _, y) => div(mul(g, 0.5), y), // d√x = 1/(2√x)
  rsqrt: (g, _, y) => mul(g, mul(-0.5, mul(y, square(y)))), // d x^(−½) = −½ x^(−3/2) = −½ y³
  square: (g, x) => mul(g, mul(2, x)), // d x² = 2x
  reciprocal: (g, _, y) => neg(mul(g, square(y))), // d(1/x) = −1/x² = −y²
  sin: (g, x) => mul(g, cos(x)),
  cos: (g, x) => neg(mul(g, sin(x))),
  tanh: (g, _, y) => mul(g, sub(1, square(y))), // d tanh = 1 − tanh²
  erf: (g, x) => mul(g, mul(2 / Math.sqrt(Math.PI), exp(neg(square(x))))), // d erf(x) = 2/√π · e^(−x²)
  sigmoid: (g, _, y) => mul(g, mul(y, sub(1, y))), // dσ = σ(1 − σ)
  relu: (g, x) => mul(g, above0(x)), // 1 for x > 0, else 0 (also at the kink)
  // GELU(x) = x·Φ(x); d = Φ(x) + x·φ(x), φ the standard normal density.
  gelu: (g, x) => {
    const cdf = mul(0.5, add(1, erf(mul(x, Math.SQRT1_2))));
    const pdf = mul(1 / Math.sqrt(2 * Math.PI), exp(mul(-0.5, square(x))));
    return mul(g, add(cdf, mul(x, pdf)));
  },
  softplus: (g, x) => mul(g, sigmoid(x)), // d log(1 + eˣ) = σ(x)
  // The slope multiplies g directly, so it keeps g's dtype (a float32 0/1/slope mask would round it).
  leakyRelu: (g, x, _, [slope]) => where(above0(x), g, mul(g, slope!)),
  elu: (g, x, y, [alpha]) => where(above0(x), g, mul(g, add(y, alpha!))), // 1 for x > 0, α·eˣ = y + α otherwise
  // 1 inside [min, max], bounds included, and 0 outside.
  clip: (g, x, _, [min, max]) => mul(g, mask(T.logicalAnd(T.ge(x.value, min!), T.le(x.value, max!)))),
};

type UnaryDef = OpDef<readonly number[]>;

export const unaryOps = opTable<UnaryName, UnaryRule, Omit<UnaryDef, "name">>(unaryRules, (name, rule) => ({
  forward: ([x], p) => T.unary(name, x!, p[0], p[1]),
  vjp: (g, c) => [rule(g, c.inputs[0]!, c.out, c.attrs)],
}));

const unaryFunctions = Object.fromEntries(
  Object.values(unaryOps).map((op) => [op.name, (x: Tensor) => apply(op as UnaryDef, [x], [])]),
) as { [K in UnaryName]: (x: Tensor) => Tensor };

export const { neg, abs, sign, exp, expm1, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tanh, erf, sigmoid, relu, gelu, softplus } = unaryFunctions;

// The ops with parameters (checked by the tensor kernel's rules before anything runs).
export const leakyRelu = (x: Tensor, slope = 0.2): Tensor => apply(unaryOps.leakyRelu, [x], [slope]);
export const elu = (x: Tensor, alpha = 1): Tensor => apply(unaryOps.elu, [x], [alpha]);
/** Limits x to [min, max]; the gradient is 1 inside the interval (bounds included) and 0 outside. */
export const clip = (x: Tensor, min: number, max: number): Tensor => apply(unaryOps.clip, [x], [min, max]);

// Tests that need no gradient.
export const isNaN = (x: Tensor): Tensor => new Tensor(T.isNaN(x.value));
export const isFinite = (x: Tensor): Tensor => new Tensor(T.isFinite(x.value));

export { constant };
