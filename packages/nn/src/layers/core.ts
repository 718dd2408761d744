/** Dense, Flatten, Dropout and Embedding. */
import { Tensor, add, asTensor, eq, flatten, matmul, mT, ne, reshape, take, where } from "@zerograd/autograd";
import { NDArray, type OptionsOf, Random, ShapeError, allocate, boolean, checkArg, custom, defineOptions, describeValue, fmtShape, integer, number, oneOf } from "@zerograd/tensor";
import { type Initializer, type InitializerName, defaultGenerator, generatorFrom, normal, resolveInitializer } from "../init.js";
import { Module, Parameter } from "../module.js";
import { type Activation, resolveActivation } from "./activations.js";
import { withMask } from "../sequence/mask.js";
import { type FusedActivation, biasActivation, fusableActivation } from "./fused.js";

/** A layer's size (features, channels, embeddings): an integer ≥ 1. */
export const size = integer({ min: 1 });

/** A seed or a generator for the initial weights (default: the package generator, see manualSeed). */
export const seed = custom<number | Random>((v, op, key) => {
  if (v instanceof Random) return v;
  return number().read(op, key, v);
});

/** Storage type of the weights (default float32; float64 for gradient checks). */
export const dtype = oneOf(["float32", "float64"]);

/** An initializer by name or a function (the name is checked by resolveInitializer). */
export const initializer = custom<InitializerName | Initializer>((v, op, key) => {
  if (typeof v !== "string" && typeof v !== "function") throw new TypeError(`${op}: ${key} must be an initializer name or function, got ${describeValue(v)}`);
  return v as InitializerName | Initializer;
});

/** An activation by name or a function (the name is checked by resolveActivation). */
export const activation = custom<Activation>((v, op, key) => {
  if (typeof v !== "string" && typeof v !== "function") throw new TypeError(`${op}: ${key} must be an activation name or function, got ${describeValue(v)}`);
  return v as Activation;
});

/** Options shared by layers with weights. */
export const WEIGHT_OPTIONS = defineOptions({ seed, dtype });
export type WeightOptions = OptionsOf<typeof WEIGHT_OPTIONS>;

export const DENSE_OPTIONS = WEIGHT_OPTIONS.extend({
  /** Add a bias (default true). */
  bias: boolean({ default: true }),
  /** Applied after the affine map (default: none). */
  activation,
  /** Default "glorotUniform", as Keras. */
  weightInitializer: initializer,
  /** Default "zeros". */
  biasInitializer: initializer,
});
export type DenseOptions = OptionsOf<typeof DENSE_OPTIONS>;

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
  /** The activation when the bias + activation op fuses it (null: composed). */
  private readonly fusedActivation: FusedActivation | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: DenseOptions = {},
  ) {
    super();
    const op = "Dense";
    size.read(op, "inFeatures", inFeatures);
    size.read(op, "outFeatures", outFeatures);
    const o = DENSE_OPTIONS.parse(op, options);
    const ctx = { fanIn: inFeatures, fanOut: outFeatures, rng: generatorFrom(o.seed), dtype: o.dtype };
    this.weight = new Parameter(resolveInitializer(op, o.weightInitializer ?? "glorotUniform")([outFeatures, inFeatures], ctx));
    this.bias = o.bias ? new Parameter(resolveInitializer(op, o.biasInitializer ?? "zeros")([outFeatures], ctx)) : null;
    this.activation = resolveActivation(op, o.activation);
    this.fusedActivation = fusableActivation(o.activation);
  }

  forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError("Dense", `input's last axis must have ${this.inFeatures} features`, [x.shape, this.weight.shape]);
    }
    const y = matmul(x, mT(this.weight));
    return biasActivation(y, this.bias, this.fusedActivation, this.activation);
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

const probability = number({ min: 0, max: 1 });

export const DROPOUT_OPTIONS = defineOptions({
  /** A seed or a generator for the masks (default: a stream split off the package generator). */
  seed,
});
export type DropoutOptions = OptionsOf<typeof DROPOUT_OPTIONS>;

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
    options: DropoutOptions = {},
  ) {
    super();
    probability.read("Dropout", "rate", rate);
    const o = DROPOUT_OPTIONS.parse("Dropout", options);
    // Without a seed, split a stream off the package generator so that each layer has its own.
    this.generator = o.seed === undefined ? new Random(defaultGenerator().nextUint32()) : generatorFrom(o.seed);
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

export const EMBEDDING_OPTIONS = WEIGHT_OPTIONS.extend({
  /** This index's row gets a zero gradient (and starts at zero): the padding token. May be negative. */
  paddingIdx: integer(),
  /** Default N(0, 1), as PyTorch. */
  initializer,
  /** Index 0 is padding: the output carries the mask `indices ≠ 0` (see sequence/mask.ts) for the layers after it. */
  maskZero: boolean({ default: false }),
});
export type EmbeddingOptions = OptionsOf<typeof EMBEDDING_OPTIONS>;

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
    size.read("Embedding", "numEmbeddings", numEmbeddings);
    size.read("Embedding", "embeddingDim", embeddingDim);
    const o = EMBEDDING_OPTIONS.parse("Embedding", options);
    let pad: number | null = null;
    if (o.paddingIdx !== undefined) {
      const p = o.paddingIdx;
      checkArg(Number.isInteger(p) && p >= -numEmbeddings && p < numEmbeddings, "Embedding", `paddingIdx ${p} is out of range for ${numEmbeddings} embeddings`);
      pad = p < 0 ? p + numEmbeddings : p;
    }
    this.paddingIdx = pad;
    this.maskZero = o.maskZero;
    const ctx = { fanIn: numEmbeddings, fanOut: embeddingDim, rng: generatorFrom(o.seed), dtype: o.dtype };
    this.weight = new Parameter(resolveInitializer("Embedding", o.initializer ?? normal(0, 1))([numEmbeddings, embeddingDim], ctx));
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
