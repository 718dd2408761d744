/**
 * Bias + activation as one op for Dense and Conv2D: out = act(y + b), b broadcast over the last
 * axis, act the identity or ReLU. One pass forward and one backward instead of add, relu and
 * their gradients (a broadcast add, a comparison, a product and a reduction), each into a fresh
 * array. The composed definition stays the reference: it runs for every other activation and
 * dtype, and the vjp differentiates it when a gradient is recorded (gradients of gradients).
 *
 *   forward:  out = act(y + b)
 *   backward: gy = g·act′(y + b) (ReLU: g·[out > 0]),   gb = Σ over all rows of gy
 */
import { type OpDef, Tensor, add, apply, gradients, isGradEnabled, relu } from "@zerograd/autograd";
import { NDArray, allocate, kernels } from "@zerograd/tensor";

/** The activations fused here; any other runs composed. */
export type FusedActivation = "linear" | "relu";

interface Attrs {
  activation: FusedActivation;
}

function composed(y: Tensor, b: Tensor, activation: FusedActivation): Tensor {
  const z = add(y, b);
  return activation === "relu" ? relu(z) : z;
}

const biasActivationOp: OpDef<Attrs> = {
  name: "biasActivation",
  forward([y, b], { activation }) {
    const out = allocate(y!.dtype, y!.size);
    kernels().biasActivation(out, y!.flat(), b!.flat(), activation === "relu");
    return new NDArray(out, y!.shape);
  },
  vjp(g, ctx) {
    const [y, b] = ctx.inputs as [Tensor, Tensor], { activation } = ctx.attrs;
    if (isGradEnabled()) return gradients(composed(y, b, activation), [y, b], { seed: g, createGraph: true });
    const gy = allocate(y.dtype, y.size), gb = new Float64Array(b.size), gbOut = allocate(b.dtype, b.size);
    kernels().biasActivationGrad(gy, gb, g.value.flat(), ctx.out.value.flat(), activation === "relu");
    gbOut.set(gb);
    return [new Tensor(new NDArray(gy, y.shape)), new Tensor(new NDArray(gbOut, b.shape))];
  },
};

/** The activation a layer's option names, if this op fuses it (undefined: the identity). */
export function fusableActivation(name: unknown): FusedActivation | null {
  if (name === undefined || name === "linear") return "linear";
  return name === "relu" ? "relu" : null;
}

/**
 * act(y + b) over y's last axis: the fused op where it applies (a bias, a fusable activation, y and
 * b of one dtype, b's length y's last axis), the composed `fallback` otherwise.
 */
export function biasActivation(y: Tensor, bias: Tensor | null, activation: FusedActivation | null, fallback: (x: Tensor) => Tensor): Tensor {
  if (bias === null || activation === null || bias.dtype !== y.dtype || bias.rank !== 1 || y.rank < 1 || y.shape[y.rank - 1] !== bias.size || y.size === 0) {
    return fallback(bias ? add(y, bias) : y);
  }
  return apply(biasActivationOp, [y, bias], { activation });
}
