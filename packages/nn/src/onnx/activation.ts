/**
 * Activations in ONNX: which activation a layer applies, and the nodes computing it.
 *
 * Dense and Conv2D keep only the resolved function of their `activation` option (a name becomes
 * the autograd op, or a closure for leakyRelu/elu/softmax). It is identified by its values: the
 * function and each candidate run on the same probe inputs (float64) and must agree to 1e-12.
 * LeakyReLU's slope and ELU's α are read off the probes, then checked on all of them. A function
 * matching no candidate is an error, never a guess.
 */
import { Tensor, elu, gelu, leakyRelu, noGrad, relu, sigmoid, softmax, tanh } from "@zerograd/autograd";
import { NDArray } from "@zerograd/tensor";
import { type GraphBuilder, type Layout, type Produced, axisIn, float, int } from "./graph.js";

export type ActivationSpec =
  | { op: "linear" }
  | { op: "relu" }
  | { op: "leakyRelu"; slope: number }
  | { op: "elu"; alpha: number }
  | { op: "gelu" }
  | { op: "sigmoid" }
  | { op: "tanh" }
  | { op: "softmax"; axis: number };

// Two rows, both signs, small and large magnitudes, no two equal: [2, 6].
const PROBE = [-2.7, -1.3, -0.61, -0.17, 0.29, 0.93, 1.71, 2.43, -3.37, 0.07, -0.43, 1.19];
const PROBE_SHAPE = [2, 6];
const NEG = 0; // index of a negative probe, to read a slope or α from

function candidates(y0: number): [ActivationSpec, (x: Tensor) => Tensor][] {
  const x0 = PROBE[NEG]!;
  const slope = y0 / x0, alpha = y0 / Math.expm1(x0);
  return [
    [{ op: "linear" }, (x) => x],
    [{ op: "relu" }, relu],
    [{ op: "sigmoid" }, sigmoid],
    [{ op: "tanh" }, tanh],
    [{ op: "gelu" }, gelu],
    [{ op: "softmax", axis: -1 }, (x) => softmax(x, -1)],
    [{ op: "leakyRelu", slope }, (x) => leakyRelu(x, slope)],
    [{ op: "elu", alpha }, (x) => elu(x, alpha)],
  ];
}

/** Which activation `fn` is, by its values on the probes; `owner` names the layer in the error. */
export function identifyActivation(owner: string, fn: (x: Tensor) => Tensor): ActivationSpec {
  const x = new Tensor(new NDArray(Float64Array.from(PROBE), PROBE_SHAPE));
  const valuesOf = (f: (x: Tensor) => Tensor) => noGrad(() => f(x)).value.flat();
  const y = valuesOf(fn);
  if (y.length === PROBE.length) {
    for (const [spec, f] of candidates(y[NEG]!)) {
      const c = valuesOf(f);
      if (c.every((v, i) => Math.abs(v - y[i]!) <= 1e-12 * Math.max(1, Math.abs(v)))) return spec;
    }
  }
  throw new TypeError(`exportOnnx: the activation of ${owner} is a function that is none of linear, relu, leakyRelu, elu, gelu, sigmoid, tanh, softmax; ONNX export needs one of those (or an activation layer)`);
}

/** The nodes of an activation on a value of rank `rank` held in `input.layout`. */
export function emitActivation(g: GraphBuilder, scope: string, spec: ActivationSpec, input: Produced, rank: number): Produced {
  const x = input.name;
  const same = (name: string): Produced => ({ name, layout: input.layout });
  switch (spec.op) {
    case "linear":
      return input;
    case "relu":
      return same(g.node(scope, "Relu", [x]));
    case "leakyRelu":
      return same(g.node(scope, "LeakyRelu", [x], { alpha: float(spec.slope) }));
    case "elu":
      return same(g.node(scope, "Elu", [x], { alpha: float(spec.alpha) }));
    case "sigmoid":
      return same(g.node(scope, "Sigmoid", [x]));
    case "tanh":
      return same(g.node(scope, "Tanh", [x]));
    case "softmax":
      return same(g.node(scope, "Softmax", [x], { axis: int(axisIn(input.layout as Layout, spec.axis, rank)) }));
    case "gelu":
      return same(emitGelu(g, scope, x));
  }
}

/** GELU, the exact form: x·Φ(x) = x · ½(1 + erf(x/√2)); ONNX's Gelu operator from opset 20. */
function emitGelu(g: GraphBuilder, scope: string, x: string): string {
  if (g.opset >= 20) return g.node(scope, "Gelu", [x]);
  const erf = g.node(scope, "Erf", [g.node(scope, "Div", [x, g.scalar(`${scope}.sqrt2`, Math.SQRT2)])]);
  const phi = g.node(scope, "Mul", [g.node(scope, "Add", [erf, g.scalar(`${scope}.one`, 1)]), g.scalar(`${scope}.half`, 0.5)]);
  return g.node(scope, "Mul", [x, phi]);
}
