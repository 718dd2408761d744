/** Convolution and pooling over NHWC images: Conv2D, MaxPool2D, AvgPool2D, GlobalAveragePooling. */
import { Tensor, add, avgPool2d, conv2d, div, maximum, maxPool2d, mean, ne, reshape, sum, where } from "@zerograd/autograd";
import { NDArray, type Padding, ShapeError, checkArg } from "@zerograd/tensor";
import { type Initializer, type InitializerName, generatorFrom, resolveInitializer } from "../init.js";
import { Module, Parameter } from "../module.js";
import { type Activation, resolveActivation } from "./activations.js";
import type { WeightOptions } from "./core.js";

type Pair = number | readonly [number, number];

function pair(op: string, name: string, v: Pair): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  checkArg(p.every((d) => Number.isInteger(d) && d > 0), op, `${name} must be positive integers, got [${p.join(",")}]`);
  return p;
}

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
  if (!sides) throw new RangeError(`${op}: padding must be 'same', 'valid', a number or [[top,bottom],[left,right]], got ${JSON.stringify(padding)}`);
  checkArg(sides.every((p) => Number.isInteger(p) && p >= 0), op, `padding must be non-negative integers, got [${sides.join(",")}]`);
  if (window) {
    const [halfH, halfW] = window.map((k) => Math.floor(k / 2)) as [number, number];
    const [pt, pb, pl, pr] = sides as [number, number, number, number];
    checkArg(pt <= halfH && pb <= halfH && pl <= halfW && pr <= halfW, op, `padding [[${pt},${pb}],[${pl},${pr}]] must be at most half the ${window.join("x")} window (${halfH} rows, ${halfW} columns)`);
  }
  return padding as Padding;
}

export interface Conv2DOptions extends WeightOptions {
  /** Step of the window (default 1). */
  strides?: Pair;
  /** "valid" (default), "same" (TensorFlow's rule), a number, or [[top, bottom], [left, right]]. */
  padding?: Padding;
  /** Spacing between taps (default 1). */
  dilations?: Pair;
  bias?: boolean;
  activation?: Activation;
  /** Default "glorotUniform", as Keras. */
  weightInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
}

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

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2DOptions = {},
  ) {
    super();
    checkArg(Number.isInteger(inChannels) && inChannels > 0, "Conv2D", `inChannels must be a positive integer, got ${inChannels}`);
    checkArg(Number.isInteger(outChannels) && outChannels > 0, "Conv2D", `outChannels must be a positive integer, got ${outChannels}`);
    this.kernelSize = pair("Conv2D", "kernelSize", kernelSize);
    this.strides = pair("Conv2D", "strides", options.strides ?? 1);
    this.dilations = pair("Conv2D", "dilations", options.dilations ?? 1);
    this.padding = checkPadding("Conv2D", options.padding ?? "valid");
    const [kh, kw] = this.kernelSize;
    const rng = generatorFrom(options.seed);
    const ctx = { fanIn: kh * kw * inChannels, fanOut: kh * kw * outChannels, rng, dtype: options.dtype };
    this.weight = new Parameter(resolveInitializer("Conv2D", options.weightInitializer ?? "glorotUniform")([kh, kw, inChannels, outChannels], ctx));
    this.bias = options.bias === false ? null : new Parameter(resolveInitializer("Conv2D", options.biasInitializer ?? "zeros")([outChannels], ctx));
    this.activation = resolveActivation("Conv2D", options.activation);
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new ShapeError("Conv2D", `input must be NHWC with ${this.inChannels} channels`, [x.shape, this.weight.shape]);
    }
    const y = conv2d(x, this.weight, { strides: this.strides, padding: this.padding, dilations: this.dilations });
    return this.activation(this.bias ? add(y, this.bias) : y);
  }

  override describe(): string {
    return `Conv2D(${this.inChannels} → ${this.outChannels}, ${this.kernelSize.join("x")}, strides ${this.strides.join("x")}, padding ${JSON.stringify(this.padding)})`;
  }
}

export interface PoolOptions {
  /** Default: the pool size (non-overlapping windows). */
  strides?: Pair;
  /** "valid" (default) or "same". Max pooling never picks padding; average pooling does not count it. */
  padding?: Padding;
}

/** The maximum of each window, per channel. */
export class MaxPool2D extends Module {
  readonly poolSize: [number, number];
  constructor(poolSize: Pair = 2, readonly options: PoolOptions = {}) {
    super();
    this.poolSize = pair("MaxPool2D", "poolSize", poolSize);
    if (options.strides !== undefined) pair("MaxPool2D", "strides", options.strides);
    if (options.padding !== undefined) checkPadding("MaxPool2D", options.padding, this.poolSize);
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
  constructor(poolSize: Pair = 2, readonly options: PoolOptions = {}) {
    super();
    this.poolSize = pair("AvgPool2D", "poolSize", poolSize);
    if (options.strides !== undefined) pair("AvgPool2D", "strides", options.strides);
    if (options.padding !== undefined) checkPadding("AvgPool2D", options.padding, this.poolSize);
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
