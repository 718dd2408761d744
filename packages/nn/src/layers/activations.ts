/**
 * Activation functions as layers (for Sequential) and by name (for a layer's `activation` option).
 * Each is the autograd op of the same name; see @zerograd/autograd for the formulas and gradients.
 */
import { type Tensor, elu, gelu, leakyRelu, relu, sigmoid, softmax, tanh } from "@zerograd/autograd";
import { Module } from "../module.js";

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x for x > 0, slope·x otherwise (default slope 0.2, the autograd op's default). */
export class LeakyReLU extends Module {
  constructor(readonly slope = 0.2) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.slope);
  }
  override describe(): string {
    return `LeakyReLU(${this.slope})`;
  }
}

/** x for x > 0, α·(eˣ − 1) otherwise. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  override describe(): string {
    return `ELU(${this.alpha})`;
  }
}

/** x·Φ(x), the exact form (Φ the standard normal CDF). */
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return gelu(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Softmax along `axis` (default the last). */
export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
}

/** The activations a layer's `activation` option accepts by name ("linear" is the identity). */
export type ActivationName = "linear" | "relu" | "leakyRelu" | "elu" | "gelu" | "sigmoid" | "tanh" | "softmax";

/** An activation given by name or as a function of a tensor. */
export type Activation = ActivationName | ((x: Tensor) => Tensor);

const byName: Record<ActivationName, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu,
  leakyRelu: (x) => leakyRelu(x),
  elu: (x) => elu(x),
  gelu,
  sigmoid,
  tanh,
  softmax: (x) => softmax(x, -1),
};

export function resolveActivation(op: string, activation: Activation | undefined): (x: Tensor) => Tensor {
  if (activation === undefined) return byName.linear;
  if (typeof activation === "function") return activation;
  if (typeof activation === "string" && Object.hasOwn(byName, activation)) return byName[activation];
  throw new RangeError(`${op}: unknown activation ${JSON.stringify(activation)}; expected one of ${Object.keys(byName).join(", ")} or a function`);
}
