/** Dense, Flatten, Dropout and Embedding. */
import { Tensor, add, asTensor, eq, flatten, matmul, mT, ne, reshape, take, where } from "@zerograd/autograd";
import { type DType, NDArray, Random, ShapeError, allocate, checkArg, fmtShape } from "@zerograd/tensor";
import { type Initializer, type InitializerName, defaultGenerator, generatorFrom, normal, resolveInitializer } from "../init.js";
import { Module, Parameter } from "../module.js";
import { type Activation, resolveActivation } from "./activations.js";
import { withMask } from "../sequence/mask.js";

/** Options shared by layers with weights. */
export interface WeightOptions {
  /** A seed or a generator for the initial weights (default: the package generator, see manualSeed). */
  seed?: number | Random;
  /** Storage type of the weights (default float32; float64 for gradient checks). */
  dtype?: DType;
}

function positiveInt(op: string, name: string, v: number): void {
  checkArg(Number.isInteger(v) && v > 0, op, `${name} must be a positive integer, got ${v}`);
}

export interface DenseOptions extends WeightOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Applied after the affine map (default: none). */
  activation?: Activation;
  /** Default "glorotUniform", as Keras. */
  weightInitializer?: InitializerName | Initializer;
  /** Default "zeros". */
  biasInitializer?: InitializerName | Initializer;
}

/**
 * A fully connected layer: y = activation(x·Wᵀ + b) over the last axis of x.
 *
 * The weight has PyTorch's Linear layout, [outFeatures, inFeatures], and the names `weight`
 * and `bias`, so a saved Dense loads into torch.nn.Linear as it is. (A Keras kernel is the
 * transpose, [in, out].)
 */
export class Dense extends Module {
  weight: Parameter;
  bias: Parameter | null;
  private readonly activation: (x: Tensor) => Tensor;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: DenseOptions = {},
  ) {
    super();
    positiveInt("Dense", "inFeatures", inFeatures);
    positiveInt("Dense", "outFeatures", outFeatures);
    const rng = generatorFrom(options.seed);
    const ctx = { fanIn: inFeatures, fanOut: outFeatures, rng, dtype: options.dtype };
    this.weight = new Parameter(resolveInitializer("Dense", options.weightInitializer ?? "glorotUniform")([outFeatures, inFeatures], ctx));
    this.bias = options.bias === false ? null : new Parameter(resolveInitializer("Dense", options.biasInitializer ?? "zeros")([outFeatures], ctx));
    this.activation = resolveActivation("Dense", options.activation);
  }

  forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError("Dense", `input's last axis must have ${this.inFeatures} features`, [x.shape, this.weight.shape]);
    }
    const y = matmul(x, mT(this.weight));
    return this.activation(this.bias ? add(y, this.bias) : y);
  }

  override describe(): string {
    return `Dense(${this.inFeatures} → ${this.outFeatures})`;
  }
}

/** Flattens every axis from `startAxis` (default 1, keeping the batch axis) into one. */
export class Flatten extends Module {
  constructor(readonly startAxis = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startAxis);
  }
}

/**
 * Inverted dropout: in training, each element is zeroed with probability `rate` and the others
 * are scaled by 1/(1 − rate), so nothing changes at inference (where the layer is the identity).
 * The layer owns a seeded generator: the same seed drops the same elements.
 */
export class Dropout extends Module {
  /** Drawn from for every mask; its state is saved in checkpoints. */
  generator: Random;

  constructor(
    readonly rate: number,
    options: { seed?: number | Random } = {},
  ) {
    super();
    checkArg(rate >= 0 && rate <= 1, "Dropout", `rate must be in [0, 1], got ${rate}`);
    // Without a seed, split a stream off the package generator so that each layer has its own.
    this.generator = options.seed === undefined ? new Random(defaultGenerator().nextUint32()) : generatorFrom(options.seed);
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.rate === 0) return x;
    const keep = 1 - this.rate;
    const scale = keep > 0 ? 1 / keep : 0;
    const mask = allocate(x.dtype, x.size);
    const rng = this.generator;
    for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keep ? scale : 0;
    return x.mul(new Tensor(new NDArray(mask, x.shape)));
  }

  override describe(): string {
    return `Dropout(${this.rate})`;
  }
}

export interface EmbeddingOptions extends WeightOptions {
  /** This index's row gets a zero gradient (and starts at zero): the padding token. May be negative. */
  paddingIdx?: number;
  /** Default N(0, 1), as PyTorch. */
  initializer?: InitializerName | Initializer;
  /** Index 0 is padding: the output carries the mask `indices ≠ 0` (see sequence/mask.ts) for the layers after it. */
  maskZero?: boolean;
}

/**
 * A lookup table: integer indices of any shape → their rows of `weight` [numEmbeddings, dim],
 * giving [...indices.shape, dim]. The gradient of each row is the sum of the gradients of the
 * positions that looked it up (a scatter-add), except the padding row, whose gradient is zero.
 */
export class Embedding extends Module<[Tensor | NDArray]> {
  weight: Parameter;
  readonly paddingIdx: number | null;
  readonly maskZero: boolean;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    positiveInt("Embedding", "numEmbeddings", numEmbeddings);
    positiveInt("Embedding", "embeddingDim", embeddingDim);
    let pad: number | null = null;
    if (options.paddingIdx !== undefined) {
      const p = options.paddingIdx;
      checkArg(Number.isInteger(p) && p >= -numEmbeddings && p < numEmbeddings, "Embedding", `paddingIdx ${p} is out of range for ${numEmbeddings} embeddings`);
      pad = p < 0 ? p + numEmbeddings : p;
    }
    this.paddingIdx = pad;
    checkArg(options.maskZero === undefined || typeof options.maskZero === "boolean", "Embedding", `maskZero must be true or false, got ${String(options.maskZero)}`);
    this.maskZero = options.maskZero ?? false;
    const ctx = { fanIn: numEmbeddings, fanOut: embeddingDim, rng: generatorFrom(options.seed), dtype: options.dtype };
    this.weight = new Parameter(resolveInitializer("Embedding", options.initializer ?? normal(0, 1))([numEmbeddings, embeddingDim], ctx));
    if (pad !== null) this.weight.value.data.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
  }

  forward(indices: Tensor | NDArray): Tensor {
    const idx = indices instanceof Tensor ? indices.value : indices;
    const flat = idx.flat();
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.numEmbeddings) {
        throw new RangeError(`Embedding: index ${v} at position ${i} of ${fmtShape(idx.shape)} is not an integer in [0, ${this.numEmbeddings})`);
      }
    }
    const rows = take(this.weight, idx, 0);
    if (this.paddingIdx === null) return this.maskZero ? withMask(rows, this.computeMask(idx)) : rows;
    // Same values everywhere, but the padding positions read a detached copy: no gradient flows there.
    const isPad = reshape(eq(new Tensor(idx), this.paddingIdx), [...idx.shape, 1]);
    const out = where(isPad, rows.detach(), rows);
    return this.maskZero ? withMask(out, this.computeMask(idx)) : out;
  }

  /** With maskZero, the mask of the output: 1 where the index is not 0; null otherwise. */
  computeMask(indices: Tensor | NDArray): Tensor | null {
    return this.maskZero ? ne(asTensor(indices).detach(), 0) : null;
  }

  override describe(): string {
    return `Embedding(${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ""})`;
  }
}
