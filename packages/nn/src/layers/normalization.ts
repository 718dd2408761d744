/** BatchNormalization and LayerNormalization. */
import { Tensor, add, mean, mul, noGrad, rsqrt, square, sub } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { NDArray, type OptionsOf, ShapeError, boolean, checkArg, defineOptions, describeValue, fmtShape, number } from "@zerograd/tensor";
import { Module, Parameter, StateBuffer } from "../module.js";
import { dtype, size } from "./core.js";

/** What both normalisations take. */
const NORMALIZATION = {
  /** Added to the variance before the square root. Default 1e-5. */
  eps: number({ min: 0, minExclusive: true, default: 1e-5 }),
  /** Learn a scale γ (`weight`) and shift β (`bias`). Default true. */
  affine: boolean({ default: true }),
  /** Storage type of the weights and statistics (default float32). */
  dtype,
};

export const BATCH_NORMALIZATION_OPTIONS = defineOptions({
  ...NORMALIZATION,
  /** Weight of the new batch in the running statistics: r ← (1 − momentum)·r + momentum·batch. Default 0.1 (PyTorch's convention). */
  momentum: number({ min: 0, max: 1, default: 0.1 }),
});
export type BatchNormalizationOptions = OptionsOf<typeof BATCH_NORMALIZATION_OPTIONS>;

/**
 * Batch normalisation over the last (channel) axis: each channel is normalised with statistics
 * over every other axis (batch, and height/width for NHWC images), then scaled and shifted:
 *
 *   y = (x − μ) / √(σ² + ε) · γ + β
 *
 * Training: μ and σ² are the batch mean and (biased) variance, and the running statistics move
 * towards them (the running variance uses the unbiased batch variance, as PyTorch).
 * Inference (`eval()`): μ and σ² are the running statistics.
 *
 * Names follow PyTorch (`weight`, `bias`, `running_mean`, `running_var`) so that saved files load
 * into torch.nn.BatchNorm1d/2d (which expects NCHW inputs, but the same per-channel numbers).
 */
export class BatchNormalization extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  running_mean: StateBuffer;
  running_var: StateBuffer;
  readonly momentum: number;
  readonly eps: number;

  constructor(
    readonly numFeatures: number,
    options: BatchNormalizationOptions = {},
  ) {
    super();
    size.read("BatchNormalization", "numFeatures", numFeatures);
    checkArg(numFeatures < 2 ** 31, "BatchNormalization", `numFeatures must be < 2³¹ (one array per statistic), got ${numFeatures}`);
    const o = BATCH_NORMALIZATION_OPTIONS.parse("BatchNormalization", options);
    this.momentum = o.momentum;
    this.eps = o.eps;
    const dtype = { dtype: o.dtype };
    const affine = o.affine;
    this.weight = affine ? new Parameter(T.ones([numFeatures], dtype)) : null;
    this.bias = affine ? new Parameter(T.zeros([numFeatures], dtype)) : null;
    this.running_mean = new StateBuffer(T.zeros([numFeatures], dtype));
    this.running_var = new StateBuffer(T.ones([numFeatures], dtype));
  }

  forward(x: Tensor): Tensor {
    const op = "BatchNormalization";
    if (x.rank < 2 || x.shape[x.rank - 1] !== this.numFeatures) throw new ShapeError(op, `input's last axis must have ${this.numFeatures} channels`, [x.shape]);
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    let normalised: Tensor;
    if (this.training) {
      const n = x.size / this.numFeatures;
      if (n < 2) throw new ShapeError(op, `training needs more than one value per channel (got ${n}; in fit(), a last batch of one row does this: pass dropLast: true or pick another batchSize)`, [x.shape]);
      const mu = mean(x, { axis: axes, keepDims: true });
      const centred = sub(x, mu);
      const variance = mean(square(centred), { axis: axes, keepDims: true });
      normalised = mul(centred, rsqrt(add(variance, this.eps)));
      this.updateRunningStats(mu.value, variance.value, n);
    } else {
      normalised = mul(sub(x, this.running_mean), rsqrt(add(this.running_var, this.eps)));
    }
    const scaled = this.weight ? mul(normalised, this.weight) : normalised;
    return this.bias ? add(scaled, this.bias) : scaled;
  }

  private updateRunningStats(batchMean: NDArray, batchVar: NDArray, n: number): void {
    noGrad(() => {
      const m = this.momentum, unbias = n / (n - 1);
      const rm = this.running_mean.value.data, rv = this.running_var.value.data;
      const bm = batchMean.flat(), bv = batchVar.flat();
      for (let c = 0; c < this.numFeatures; c++) {
        rm[c] = (1 - m) * rm[c]! + m * bm[c]!;
        rv[c] = (1 - m) * rv[c]! + m * bv[c]! * unbias;
      }
    });
  }

  override describe(): string {
    return `BatchNormalization(${this.numFeatures}, momentum=${this.momentum}, eps=${this.eps})`;
  }
}

export const LAYER_NORMALIZATION_OPTIONS = defineOptions(NORMALIZATION);
export type LayerNormalizationOptions = OptionsOf<typeof LAYER_NORMALIZATION_OPTIONS>;

/**
 * Layer normalisation: each sample is normalised over its last axes (those of
 * `normalizedShape`), with its own mean and biased variance, then scaled and shifted per element.
 * Identical in training and inference.
 */
export class LayerNormalization extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], options: LayerNormalizationOptions = {}) {
    super();
    if (typeof normalizedShape !== "number" && !Array.isArray(normalizedShape)) throw new TypeError(`LayerNormalization: normalizedShape must be a number or an array, got ${describeValue(normalizedShape)}`);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    checkArg(this.normalizedShape.length > 0 && this.normalizedShape.every((d) => Number.isInteger(d) && d > 0), "LayerNormalization", `normalizedShape must be positive integers, got ${fmtShape(this.normalizedShape)}`);
    const o = LAYER_NORMALIZATION_OPTIONS.parse("LayerNormalization", options);
    this.eps = o.eps;
    this.weight = o.affine ? new Parameter(T.ones(this.normalizedShape, { dtype: o.dtype })) : null;
    this.bias = o.affine ? new Parameter(T.zeros(this.normalizedShape, { dtype: o.dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.rank - k);
    if (x.rank < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError("LayerNormalization", `input must end with the normalised shape ${fmtShape(this.normalizedShape)}`, [x.shape]);
    }
    const axes = tail.map((_, i) => x.rank - k + i);
    const centred = sub(x, mean(x, { axis: axes, keepDims: true }));
    const variance = mean(square(centred), { axis: axes, keepDims: true });
    const normalised = mul(centred, rsqrt(add(variance, this.eps)));
    const scaled = this.weight ? mul(normalised, this.weight) : normalised;
    return this.bias ? add(scaled, this.bias) : scaled;
  }

  override describe(): string {
    return `LayerNormalization(${fmtShape(this.normalizedShape)}, eps=${this.eps})`;
  }
}
