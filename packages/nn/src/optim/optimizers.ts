/**
 * SGD, Adam, AdamW and RMSprop, with PyTorch's update rules (so their numbers can be compared
 * one for one). In every formula g is the parameter's gradient, p its value, t its update count.
 */
import type { Tensor } from "@zerograd/autograd";
import type { Storage } from "@zerograd/tensor";
import { Optimizer, booleanOption, numberOption } from "./optimizer.js";

export interface SGDOptions {
  lr?: number;
  /** μ (default 0: plain gradient descent). */
  momentum?: number;
  /** Scales the new gradient in the momentum buffer by (1 − dampening). Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty λ added to the gradient: g ← g + λ·p. Default 0. */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent:
 *
 *   g ← g + λ·p
 *   b ← g while no buffer exists yet, else μ·b + (1 − dampening)·g      (when μ > 0)
 *   g ← g + μ·b (Nesterov)  or  g ← b                          (when μ > 0)
 *   p ← p − lr·g
 */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;

  constructor(params: Iterable<Tensor>, options: SGDOptions = {}) {
    super("SGD", params, options.lr ?? 0.01, ["momentumBuffer"]);
    const o = { momentum: options.momentum ?? 0, dampening: options.dampening ?? 0, nesterov: options.nesterov ?? false, weightDecay: options.weightDecay ?? 0 };
    this.checkOptions("SGD", o);
    ({ momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay } = o);
  }

  protected checkOptions(op: string, o: Record<string, unknown>): void {
    const momentum = numberOption(op, "momentum", o.momentum, 0);
    const dampening = numberOption(op, "dampening", o.dampening, 0, 1);
    const nesterov = booleanOption(op, "nesterov", o.nesterov);
    numberOption(op, "weightDecay", o.weightDecay, 0);
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError(`${op}: Nesterov momentum needs momentum > 0 and dampening 0`);
  }

  protected get options() {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
  protected set options(o: Record<string, number | boolean>) {
    ({ momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay } = o as Record<string, number>);
    this.nesterov = o.nesterov as boolean;
  }

  protected update(p: Storage, grad: Storage, _t: number, slot: (name: string) => Storage, hasSlot: (name: string) => boolean): void {
    const { lr, momentum: mu, dampening, nesterov, weightDecay: wd } = this;
    if (mu === 0) {
      for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * (grad[i]! + wd * p[i]!);
      return;
    }
    // As PyTorch: the buffer starts as the gradient itself (no dampening) the first time it is
    // needed — which is not always the first step (momentum may be switched on later).
    const fresh = !hasSlot("momentumBuffer");
    const b = slot("momentumBuffer");
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! + wd * p[i]!;
      b[i] = fresh ? g : mu * b[i]! + (1 - dampening) * g;
      p[i] = p[i]! - lr * (nesterov ? g + mu * b[i]! : b[i]!);
    }
  }
}

export interface AdamOptions {
  lr?: number;
  /** Decay rates of the first and second moment estimates. Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to √v̂. Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay (default 0.01). */
  weightDecay?: number;
}

/** The update shared by Adam and AdamW; they differ in how weight decay enters. */
abstract class AdamBase extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;

  constructor(type: string, params: Iterable<Tensor>, options: AdamOptions, defaultDecay: number, private readonly decoupled: boolean) {
    super(type, params, options.lr ?? 0.001, ["m", "v"]);
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError(`${type}: betas must be [beta1, beta2]`);
    const o = { beta1: betas[0], beta2: betas[1], eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? defaultDecay };
    this.checkOptions(type, o);
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } = o);
  }

  protected checkOptions(op: string, o: Record<string, unknown>): void {
    numberOption(op, "betas[0]", o.beta1, 0, 1, true);
    numberOption(op, "betas[1]", o.beta2, 0, 1, true);
    numberOption(op, "eps", o.eps, 0);
    numberOption(op, "weightDecay", o.weightDecay, 0);
  }

  protected get options() {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }
  protected set options(o: Record<string, number | boolean>) {
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } = o as Record<string, number>);
  }

  protected update(p: Storage, grad: Storage, t: number, slot: (name: string) => Storage): void {
    const { lr, beta1, beta2, eps, weightDecay: wd, decoupled } = this;
    const m = slot("m"), v = slot("v");
    const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
    const l2 = decoupled ? 0 : wd;
    const shrink = decoupled ? 1 - lr * wd : 1;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! + l2 * p[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      const mHat = m[i]! / c1, vHat = v[i]! / c2;
      p[i] = p[i]! * shrink - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
}

/**
 * Adam (Kingma & Ba, 2015), with bias correction:
 *
 *   g ← g + λ·p                      (L2 penalty; default λ = 0)
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
 *   p ← p − lr·m̂ / (√v̂ + ε)
 */
export class Adam extends AdamBase {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super("Adam", params, options, 0, false);
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay — the parameter shrinks
 * before the Adam step, p ← p·(1 − lr·λ) − lr·m̂/(√v̂ + ε), instead of λ·p being added to the
 * gradient. Default λ = 0.01, as PyTorch.
 */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super("AdamW", params, options, 0.01, true);
  }
}

export interface RMSpropOptions {
  lr?: number;
  /** Decay of the squared-gradient average. Default 0.99. */
  alpha?: number;
  /** Default 1e-8. */
  eps?: number;
  momentum?: number;
  /** Divide by the variance estimate v − ḡ² instead of v. */
  centered?: boolean;
  weightDecay?: number;
}

/**
 * RMSprop (Hinton), as PyTorch:
 *
 *   g ← g + λ·p
 *   v ← α·v + (1 − α)·g²
 *   ḡ ← α·ḡ + (1 − α)·g,  s = v − ḡ²   (centered)   or   s = v
 *   b ← μ·b + g/(√s + ε);  p ← p − lr·b   (momentum)   or   p ← p − lr·g/(√s + ε)
 */
export class RMSprop extends Optimizer {
  alpha: number;
  eps: number;
  momentum: number;
  centered: boolean;
  weightDecay: number;

  constructor(params: Iterable<Tensor>, options: RMSpropOptions = {}) {
    super("RMSprop", params, options.lr ?? 0.01, ["squareAvg", "gradAvg", "momentumBuffer"]);
    const o = { alpha: options.alpha ?? 0.99, eps: options.eps ?? 1e-8, momentum: options.momentum ?? 0, centered: options.centered ?? false, weightDecay: options.weightDecay ?? 0 };
    this.checkOptions("RMSprop", o);
    ({ alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered, weightDecay: this.weightDecay } = o);
  }

  protected checkOptions(op: string, o: Record<string, unknown>): void {
    numberOption(op, "alpha", o.alpha, 0, 1);
    numberOption(op, "eps", o.eps, 0);
    numberOption(op, "momentum", o.momentum, 0);
    booleanOption(op, "centered", o.centered);
    numberOption(op, "weightDecay", o.weightDecay, 0);
  }

  protected get options() {
    return { alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered, weightDecay: this.weightDecay };
  }
  protected set options(o: Record<string, number | boolean>) {
    ({ alpha: this.alpha, eps: this.eps, momentum: this.momentum, weightDecay: this.weightDecay } = o as Record<string, number>);
    this.centered = o.centered as boolean;
  }

  protected update(p: Storage, grad: Storage, _t: number, slot: (name: string) => Storage): void {
    const { lr, alpha, eps, momentum: mu, centered, weightDecay: wd } = this;
    const v = slot("squareAvg");
    const gAvg = centered ? slot("gradAvg") : null;
    const b = mu > 0 ? slot("momentumBuffer") : null;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! + wd * p[i]!;
      v[i] = alpha * v[i]! + (1 - alpha) * g * g;
      let s = v[i]!;
      if (gAvg) {
        gAvg[i] = alpha * gAvg[i]! + (1 - alpha) * g;
        s -= gAvg[i]! * gAvg[i]!;
      }
      const step = g / (Math.sqrt(s) + eps);
      if (b) {
        b[i] = mu * b[i]! + step;
        p[i] = p[i]! - lr * b[i]!;
      } else {
        p[i] = p[i]! - lr * step;
      }
    }
  }
}
