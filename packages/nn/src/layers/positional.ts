/**
 * Position information for attention models, added to [N, T, d] inputs: fixed sinusoids
 * (Vaswani et al.) or a learned table. Both are per-step, so the input's mask is carried.
 * Positions count from the first step: with trailing padding real steps keep their positions.
 */
import { Tensor, add, slice } from "@zerograd/autograd";
import { type OptionsOf, ShapeError, checkArg, defineOptions, integer, oneOf } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";
import { generatorFrom, normal } from "../init.js";
import { Module, Parameter } from "../module.js";
import { maskOf, withMask } from "../sequence/mask.js";
import { seedField } from "../sequence/options.js";

/** PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d)): a [T, d] table. */
export function sinusoidalTable(steps: number, dim: number, dtype: T.DType = "float32"): T.NDArray {
  const out = T.zeros([steps, dim], { dtype });
  const d = out.flat();
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = t / Math.pow(10000, i / dim);
      d[t * dim + i] = Math.sin(angle);
      if (i + 1 < dim) d[t * dim + i + 1] = Math.cos(angle);
    }
  }
  return out;
}

function checkInput(op: string, x: Tensor, dim: number, maxLen: number): void {
  if (x.rank !== 3 || x.shape[2] !== dim) throw new ShapeError(op, `input must be [N, T, ${dim}]`, [x.shape]);
  if (x.shape[1]! > maxLen) throw new ShapeError(op, `sequences of ${x.shape[1]} steps are longer than maxLen ${maxLen}`, [x.shape]);
}

const SINUSOIDAL = defineOptions({ maxLen: integer({ min: 1, default: 5000 }) });

/** x + PE[:T] (no parameters). */
export class SinusoidalPositionalEncoding extends Module {
  readonly maxLen: number;
  constructor(readonly dim: number, options: OptionsOf<typeof SINUSOIDAL> = {}) {
    super();
    checkArg(Number.isInteger(dim) && dim > 0, "SinusoidalPositionalEncoding", `dim must be a positive integer, got ${dim}`);
    this.maxLen = SINUSOIDAL.parse("SinusoidalPositionalEncoding", options).maxLen;
  }
  forward(x: Tensor): Tensor {
    checkInput("SinusoidalPositionalEncoding", x, this.dim, this.maxLen);
    return withMask(add(x, new Tensor(sinusoidalTable(x.shape[1]!, this.dim, x.dtype))), maskOf(x));
  }
}

const LEARNED = defineOptions({ seed: seedField, dtype: oneOf(["float32", "float64"] as const) });

/** x + weight[:T], with a learned `weight` [maxLen, d] (N(0, 0.02) at start). */
export class PositionalEmbedding extends Module {
  weight: Parameter;
  constructor(readonly maxLen: number, readonly dim: number, options: OptionsOf<typeof LEARNED> = {}) {
    super();
    checkArg(Number.isInteger(maxLen) && maxLen > 0, "PositionalEmbedding", `maxLen must be a positive integer, got ${maxLen}`);
    checkArg(Number.isInteger(dim) && dim > 0, "PositionalEmbedding", `dim must be a positive integer, got ${dim}`);
    const o = LEARNED.parse("PositionalEmbedding", options);
    this.weight = new Parameter(normal(0, 0.02)([maxLen, dim], { fanIn: maxLen, fanOut: dim, rng: generatorFrom(o.seed), dtype: o.dtype }));
  }
  forward(x: Tensor): Tensor {
    checkInput("PositionalEmbedding", x, this.dim, this.maxLen);
    return withMask(add(x, slice(this.weight, [{ start: 0, stop: x.shape[1]! }])), maskOf(x));
  }
}
