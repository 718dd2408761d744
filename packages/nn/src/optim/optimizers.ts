/**
 * SGD, Adam, AdamW and RMSprop, with PyTorch's update rules (so their numbers can be compared
 * one for one). In every formula g is the parameter's gradient, p its value, t its update count.
 * Each optimizer's options are declared once (below each class's doc): the declaration gives the
 * options type and the check, which refuses unknown keys with a hint (`learning_rate` → `lr`).
 */
import { type OptionsOf, type Storage, boolean, custom, defineOptions, kernels } from "@zerograd/tensor";
import { type GradientView, Optimizer, type ParameterList, epsOption, fractionOption, lrOption, nonFiniteOption, weightDecayOption } from "./optimizer.js";

/** What the updates read of a gradient (see GradientView). */
type View = Pick<GradientView, "g" | "rows" | "cols">;
/** A row-major gradient as a view: one row. */
const rowMajor = (grad: Storage): View => ({ g: { data: grad, off: 0, rs: 0, cs: 1 }, rows: 1, cols: grad.length });

const SGD_OPTIONS = defineOptions({
  /** Default 0.01. */
  lr: lrOption(0.01),
  /** μ in [0, 1) (default 0: plain gradient descent). */
  momentum: fractionOption(0),
  /** Scales the new gradient in the momentum buffer by (1 − dampening); in [0, 1). Default 0. */
  dampening: fractionOption(0),
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean({ default: false }),
  /** L2 penalty λ added to the gradient: g ← g + λ·p. Default 0. */
  weightDecay: weightDecayOption(0),
  /** A NaN or ±Infinity gradient: "error" (default) throws, "skip" skips the step. */
  nonFinite: nonFiniteOption,
});
export type SGDOptions = OptionsOf<typeof SGD_OPTIONS>;

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

  constructor(params: ParameterList, options: SGDOptions = {}) {
    const o = SGD_OPTIONS.parse("SGD", options);
    super("SGD", params, o.lr, ["momentumBuffer"], o.nonFinite);
    ({ momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay } = o);
    this.checkOptions("SGD", o);
  }

  protected checkOptions(op: string, options: Record<string, unknown>): void {
    const { momentum, dampening, nesterov } = SGD_OPTIONS.parse(op, options);
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError(`${op}: Nesterov momentum needs momentum > 0 and dampening 0`);
  }

  protected get options() {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
  protected set options(o: Record<string, number | boolean>) {
    ({ momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay } = o as Record<string, number>);
    this.nesterov = o.nesterov as boolean;
  }

  protected update(p: Storage, grad: Storage, t: number, slot: (name: string) => Storage, hasSlot: (name: string) => boolean): void {
    this.updateView(p, rowMajor(grad), t, slot, hasSlot);
  }

  /** k walks the parameter row-major, s the gradient's storage along row r (a transposed gradient is read in place). */
  protected override updateView(p: Storage, { g, rows, cols }: View, _t: number, slot: (name: string) => Storage, hasSlot: (name: string) => boolean): void {
    const { lr, momentum: mu, dampening, nesterov, weightDecay: wd } = this;
    const grad = g.data;
    if (mu === 0) {
      for (let r = 0, k = 0; r < rows; r++) for (let c = 0, s = g.off + r * g.rs; c < cols; c++, k++, s += g.cs) p[k] = p[k]! - lr * (grad[s]! + wd * p[k]!);
      return;
    }
    // As PyTorch: the buffer starts as the gradient itself (no dampening) the first time it is
    // needed — which is not always the first step (momentum may be switched on later).
    const fresh = !hasSlot("momentumBuffer");
    const b = slot("momentumBuffer");
    for (let r = 0, k = 0; r < rows; r++) for (let c = 0, s = g.off + r * g.rs; c < cols; c++, k++, s += g.cs) {
      const gk = grad[s]! + wd * p[k]!;
      b[k] = fresh ? gk : mu * b[k]! + (1 - dampening) * gk;
      p[k] = p[k]! - lr * (nesterov ? gk + mu * b[k]! : b[k]!);
    }
  }
}

/** Reads Adam's `betas`: two decay rates, each a fraction in [0, 1). */
const betasOption = (defaultBetas: readonly [number, number]) => custom((value, op, key): readonly [number, number] => {
  if (!Array.isArray(value) || value.length !== 2) throw new TypeError(`${op}: ${key} must be [beta1, beta2], got ${JSON.stringify(value)}`);
  return [BETA.read(op, `${key}[0]`, value[0]), BETA.read(op, `${key}[1]`, value[1])];
}, { default: defaultBetas });
const BETA = fractionOption(0);

const adamOptions = (defaultDecay: number) => defineOptions({
  /** Default 0.001. */
  lr: lrOption(0.001),
  /** Decay rates of the first and second moment estimates, each in [0, 1). Default [0.9, 0.999]. */
  betas: betasOption([0.9, 0.999]),
  /** Added to √v̂; > 0. Default 1e-8. */
  eps: epsOption(1e-8),
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 0.01). */
  weightDecay: weightDecayOption(defaultDecay),
  /** A NaN or ±Infinity gradient: "error" (default) throws, "skip" skips the step. */
  nonFinite: nonFiniteOption,
});
const ADAM_OPTIONS = adamOptions(0);
const ADAMW_OPTIONS = adamOptions(0.01);
export type AdamOptions = OptionsOf<typeof ADAM_OPTIONS>;

/** The update shared by Adam and AdamW; they differ in how weight decay enters. */
abstract class AdamBase extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;

  constructor(type: string, params: ParameterList, options: AdamOptions, private readonly decoupled: boolean) {
    const o = (decoupled ? ADAMW_OPTIONS : ADAM_OPTIONS).parse(type, options);
    super(type, params, o.lr, ["m", "v"], o.nonFinite);
    [this.beta1, this.beta2] = o.betas;
    ({ eps: this.eps, weightDecay: this.weightDecay } = o);
  }

  /** The stored hyperparameters (beta1, beta2…) are checked as the options bag spells them (betas). */
  protected checkOptions(op: string, { beta1, beta2, ...rest }: Record<string, unknown>): void {
    ADAM_OPTIONS.parse(op, { ...rest, betas: [beta1, beta2] });
  }

  protected get options() {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }
  protected set options(o: Record<string, number | boolean>) {
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } = o as Record<string, number>);
  }

  protected update(p: Storage, grad: Storage, t: number, slot: (name: string) => Storage): void {
    this.updateView(p, rowMajor(grad), t, slot);
  }

  /** The update is the `adam` kernel (kernels/optim.ts in @zerograd/tensor: the loop, beside its WebAssembly SIMD twin). */
  protected override updateView(p: Storage, { g, rows, cols }: View, t: number, slot: (name: string) => Storage): void {
    const { lr, beta1, beta2, eps, weightDecay: wd, decoupled } = this;
    const m = slot("m"), v = slot("v");
    const l2 = decoupled ? 0 : wd, shrink = decoupled ? 1 - lr * wd : 1;
    kernels().adam({ p, m, v, g, rows, cols, lr, beta1, beta2, eps, l2, shrink, c1: 1 - beta1 ** t, c2: 1 - beta2 ** t });
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
  constructor(params: ParameterList, options: AdamOptions = {}) {
    super("Adam", params, options, false);
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay — the parameter shrinks
 * before the Adam step, p ← p·(1 − lr·λ) − lr·m̂/(√v̂ + ε), instead of λ·p being added to the
 * gradient. Default λ = 0.01, as PyTorch.
 */
export class AdamW extends AdamBase {
  constructor(params: ParameterList, options: AdamOptions = {}) {
    super("AdamW", params, options, true);
  }
}

const RMSPROP_OPTIONS = defineOptions({
  /** Default 0.01. */
  lr: lrOption(0.01),
  /** Decay of the squared-gradient average, in [0, 1). Default 0.99. */
  alpha: fractionOption(0.99),
  /** > 0. Default 1e-8. */
  eps: epsOption(1e-8),
  /** μ in [0, 1). Default 0. */
  momentum: fractionOption(0),
  /** Divide by the variance estimate v − ḡ² instead of v. */
  centered: boolean({ default: false }),
  /** L2 penalty λ added to the gradient. Default 0. */
  weightDecay: weightDecayOption(0),
  /** A NaN or ±Infinity gradient: "error" (default) throws, "skip" skips the step. */
  nonFinite: nonFiniteOption,
});
export type RMSpropOptions = OptionsOf<typeof RMSPROP_OPTIONS>;

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

  constructor(params: ParameterList, options: RMSpropOptions = {}) {
    const o = RMSPROP_OPTIONS.parse("RMSprop", options);
    super("RMSprop", params, o.lr, ["squareAvg", "gradAvg", "momentumBuffer"], o.nonFinite);
    ({ alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered, weightDecay: this.weightDecay } = o);
  }

  protected checkOptions(op: string, options: Record<string, unknown>): void {
    RMSPROP_OPTIONS.parse(op, options);
  }

  protected get options() {
    return { alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered, weightDecay: this.weightDecay };
  }
  protected set options(o: Record<string, number | boolean>) {
    ({ alpha: this.alpha, eps: this.eps, momentum: this.momentum, weightDecay: this.weightDecay } = o as Record<string, number>);
    this.centered = o.centered as boolean;
  }

  protected update(p: Storage, grad: Storage, t: number, slot: (name: string) => Storage): void {
    this.updateView(p, rowMajor(grad), t, slot);
  }

  /** k walks the parameter row-major, s the gradient's storage along row r (a transposed gradient is read in place). */
  protected override updateView(p: Storage, { g, rows, cols }: View, _t: number, slot: (name: string) => Storage): void {
    const { lr, alpha, eps, momentum: mu, centered, weightDecay: wd } = this;
    const v = slot("squareAvg");
    const gAvg = centered ? slot("gradAvg") : null;
    const b = mu > 0 ? slot("momentumBuffer") : null;
    for (let r = 0, k = 0; r < rows; r++) for (let c = 0, s = g.off + r * g.rs; c < cols; c++, k++, s += g.cs) {
      const gk = g.data[s]! + wd * p[k]!;
      v[k] = alpha * v[k]! + (1 - alpha) * gk * gk;
      let sq = v[k]!;
      if (gAvg) {
        gAvg[k] = alpha * gAvg[k]! + (1 - alpha) * gk;
        // v − ḡ² ≥ 0 in exact arithmetic; rounded into float32 slots it can fall just below 0 (and √ to NaN).
        sq = Math.max(sq - gAvg[k]! * gAvg[k]!, 0);
      }
      const step = gk / (Math.sqrt(sq) + eps);
      if (b) {
        b[k] = mu * b[k]! + step;
        p[k] = p[k]! - lr * b[k]!;
      } else {
        p[k] = p[k]! - lr * step;
      }
    }
  }
}
