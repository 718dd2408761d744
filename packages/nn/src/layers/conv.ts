/** Convolution and pooling over NHWC images: Conv2D, MaxPool2D, AvgPool2D, GlobalAveragePooling. */
import { Tensor, add, avgPool2d, conv2d, div, maximum, maxPool2d, mean, ne, reshape, sum, where } from "@zerograd/autograd";
import { NDArray, type OptionsOf, type Padding, ShapeError, boolean, checkArg, custom, defineOptions, describeValue } from "@zerograd/tensor";
import { generatorFrom, resolveInitializer } from "../init.js";
import { Module, Parameter } from "../module.js";
import { type Activation, resolveActivation } from "./activations.js";
import { type FusedActivation, biasActivation, fusableActivation } from "./fused.js";
import { WEIGHT_OPTIONS, activation, initializer, size } from "./core.js";

type Pair = number | readonly [number, number];

/** A window size, stride or dilation: one positive integer for both axes, or [height, width]. */
const pair = custom<[number, number]>((v, op, name) => {
  const p = typeof v === "number" ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : null;
  if (!p) throw new TypeError(`${op}: ${name} must be a positive integer or [height, width], got ${describeValue(v)}`);
  checkArg(p.every((d) => Number.isInteger(d) && d > 0), op, `${name} must be positive integers, got [${p.join(",")}]`);
  return p as [number, number];
});

/**
 * Checks a padding option when the layer is built (the conv and pool ops check it again on
 * every call, but a typo should fail at construction, not at the first batch): "valid",
 * "same", a non-negative integer or [[top, bottom], [left, right]]. For pooling, `window` is
 * the window size: explicit padding may be at most half of it (a window wholly in the padding
 * would pool nothing), as PyTorch.
 */
function checkPadding(op: string, padding: unknown, window?: [number, number]): Padding {
  if (padding === "valid" || padding === "same") return padding;
  const isPair = (p: unknown) => Array.isArray(p) && p.length === 2;
  const sides = typeof padding === "number" ? [padding, padding, padding, padding] : isPair(padding) && (padding as unknown[]).every(isPair) ? (padding as number[][]).flat() : null;
  if (!sides) throw new RangeError(`${op}: padding must be 'same', 'valid', a number or [[top,bottom],[left,right]], got ${describeValue(padding)}`);
  checkArg(sides.every((p) => Number.isInteger(p) && p >= 0), op, `padding must be non-negative integers, got [${sides.join(",")}]`);
  if (window) {
    const [halfH, halfW] = window.map((k) => Math.floor(k / 2)) as [number, number];
    const [pt, pb, pl, pr] = sides as [number, number, number, number];
    checkArg(pt <= halfH && pb <= halfH && pl <= halfW && pr <= halfW, op, `padding [[${pt},${pb}],[${pl},${pr}]] must be at most half the ${window.join("x")} window (${halfH} rows, ${halfW} columns)`);
  }
  return padding as Padding;
}

/** "valid", "same" (TensorFlow's rule), a non-negative integer, or [[top, bottom], [left, right]]. */
const padding = custom<Padding>((v, op) => checkPadding(op, v));

export const CONV2D_OPTIONS = WEIGHT_OPTIONS.extend({
  /** Step of the window (default 1). */
  strides: pair,
  /** "valid" (default), "same" (TensorFlow's rule), a number, or [[top, bottom], [left, right]]. */
  padding,
  /** Spacing between taps (default 1). */
  dilations: pair,
  /** Add a bias (default true). */
  bias: boolean({ default: true }),
  activation,
  /** Default "glorotUniform", as Keras. */
  weightInitializer: initializer,
  /** Default "zeros". */
  biasInitializer: initializer,
});
export type Conv2DOptions = Omit<OptionsOf<typeof CONV2D_OPTIONS>, "strides" | "dilations"> & { strides?: Pair; dilations?: Pair };

/**
 * 2-D convolution (cross-correlation) over NHWC images: [n, h, w, inChannels] → [n, oh, ow, outChannels].
 *
 * The filter `weight` is [kh, kw, inChannels, outChannels] (TensorFlow's layout and the
 * conv2d op's). PyTorch's Conv2d weight is [outChannels, inChannels, kh, kw]: convert with
 * `transpose(weight, [3, 2, 0, 1])` to PyTorch and `transpose(w, [2, 3, 1, 0])` back
 * (see `toPyTorchStateDict`). Biases are [outChannels] in both.
 */
export class Conv2D extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly padding: Padding;
  private readonly activation: (x: Tensor) => Tensor;
  /** The activation when the bias + activation op fuses it (null: composed). */
  private readonly fusedActivation: FusedActivation | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2DOptions = {},
  ) {
    super();
    const op = "Conv2D";
    size.read(op, "inChannels", inChannels);
    size.read(op, "outChannels", outChannels);
    this.kernelSize = pair.read(op, "kernelSize", kernelSize);
    const o = CONV2D_OPTIONS.parse(op, options);
    this.strides = o.strides ?? [1, 1];
    this.dilations = o.dilations ?? [1, 1];
    this.padding = o.padding ?? "valid";
    const [kh, kw] = this.kernelSize;
    const ctx = { fanIn: kh * kw * inChannels, fanOut: kh * kw * outChannels, rng: generatorFrom(o.seed), dtype: o.dtype };
    this.weight = new Parameter(resolveInitializer(op, o.weightInitializer ?? "glorotUniform")([kh, kw, inChannels, outChannels], ctx));
    this.bias = o.bias ? new Parameter(resolveInitializer(op, o.biasInitializer ?? "zeros")([outChannels], ctx)) : null;
    this.activation = resolveActivation(op, o.activation);
    this.fusedActivation = fusableActivation(o.activation);
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new ShapeError("Conv2D", `input must be NHWC with ${this.inChannels} channels`, [x.shape, this.weight.shape]);
    }
    const y = conv2d(x, this.weight, { strides: this.strides, padding: this.padding, dilations: this.dilations });
    return biasActivation(y, this.bias, this.fusedActivation, this.activation);
  }

  override describe(): string {
    return `Conv2D(${this.inChannels} → ${this.outChannels}, ${this.kernelSize.join("x")}, strides ${this.strides.join("x")}, padding ${JSON.stringify(this.padding)})`;
  }
}

export const POOL_OPTIONS = defineOptions({
  /** Default: the pool size (non-overlapping windows). */
  strides: pair,
  /** "valid" (default) or "same". Max pooling never picks padding; average pooling does not count it. */
  padding,
});
export type PoolOptions = Omit<OptionsOf<typeof POOL_OPTIONS>, "strides"> & { strides?: Pair };

/** A pooling layer's window and options, checked: explicit padding at most half the window. */
function poolParts(op: string, poolSize: Pair, options: PoolOptions): { poolSize: [number, number]; options: PoolOptions } {
  const window = pair.read(op, "poolSize", poolSize);
  const o = POOL_OPTIONS.parse(op, options);
  if (o.padding !== undefined) checkPadding(op, o.padding, window);
  return { poolSize: window, options: Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
}

/** The maximum of each window, per channel. */
export class MaxPool2D extends Module {
  readonly poolSize: [number, number];
  readonly options: PoolOptions;
  constructor(poolSize: Pair = 2, options: PoolOptions = {}) {
    super();
    ({ poolSize: this.poolSize, options: this.options } = poolParts("MaxPool2D", poolSize, options));
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, { poolSize: this.poolSize, ...this.options });
  }
  override describe(): string {
    return `MaxPool2D(${this.poolSize.join("x")})`;
  }
}

/** The mean of each window, per channel (padding is not counted). */
export class AvgPool2D extends Module {
  readonly poolSize: [number, number];
  readonly options: PoolOptions;
  constructor(poolSize: Pair = 2, options: PoolOptions = {}) {
    super();
    ({ poolSize: this.poolSize, options: this.options } = poolParts("AvgPool2D", poolSize, options));
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, { poolSize: this.poolSize, ...this.options });
  }
  override describe(): string {
    return `AvgPool2D(${this.poolSize.join("x")})`;
  }
}

/**
 * The mean over every axis between the batch axis and the channel (last) axis:
 * [n, h, w, c] → [n, c] for images, [n, t, c] → [n, c] for sequences.
 *
 * With a mask (non-zero = real, 0 = padding) of x's shape without the channel axis ([n, t] or
 * [n, h, w]), only the real positions are averaged: y = Σ_real x / #real. A row with no real
 * position gives 0 (and a zero gradient), never NaN.
 */
export class GlobalAveragePooling extends Module<[Tensor, (Tensor | NDArray)?]> {
  forward(x: Tensor, mask?: Tensor | NDArray): Tensor {
    if (x.rank < 3) throw new ShapeError("GlobalAveragePooling", "input must have a batch axis, at least one pooled axis and a channel axis", [x.shape]);
    const axes = x.shape.slice(1, -1).map((_, i) => i + 1);
    if (mask === undefined) return mean(x, { axis: axes });
    const m = mask instanceof Tensor ? mask.detach() : new Tensor(mask);
    const expected = x.shape.slice(0, -1);
    if (m.rank !== expected.length || m.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeError("GlobalAveragePooling", "mask must have the input's shape without the channel axis", [m.shape, x.shape]);
    }
    const real = reshape(ne(m, 0), [...expected, 1]);
    // where, not a product: whatever the padded positions hold (even NaN) never reaches the sum.
    const total = sum(where(real, x, 0), { axis: axes });
    const count = sum(real, { axis: axes }); // [n, 1]
    return div(total, maximum(count, 1));
  }
}
