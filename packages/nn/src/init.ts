/**
 * Weight initialisers and the seeded generator behind them. Every random number in this package
 * comes from a `Random` (never Math.random): the same seed builds bitwise the same model.
 *
 * Scales, with fanIn / fanOut the number of inputs / outputs of one unit (for a convolution,
 * kh·kw·inChannels and kh·kw·outChannels):
 *
 *   glorotUniform (Xavier)  U(−a, a),  a = √(6 / (fanIn + fanOut))
 *   glorotNormal            N(0, σ²),  σ = √(2 / (fanIn + fanOut))
 *   heUniform (Kaiming)     U(−a, a),  a = √(6 / fanIn)
 *   heNormal                N(0, σ²),  σ = √(2 / fanIn)
 *   lecunNormal             N(0, σ²),  σ = √(1 / fanIn)
 *
 * The normal variants are untruncated, as PyTorch's xavier_normal_ and kaiming_normal_.
 */
import { type DType, NDArray, Random, type Shape, allocate, checkArg, fmtShape, sizeOf } from "@zerograd/tensor";

/** What an initialiser may use besides the shape. */
export interface InitContext {
  fanIn: number;
  fanOut: number;
  rng: Random;
  dtype?: DType;
}

/** Fills a new array of `shape`. */
export type Initializer = (shape: Shape, context: InitContext) => NDArray;

/** The built-in initialisers by name (for layer options such as `weightInitializer: "heNormal"`). */
export type InitializerName = "zeros" | "ones" | "glorotUniform" | "glorotNormal" | "heUniform" | "heNormal" | "lecunNormal" | "xavierUniform" | "xavierNormal" | "kaimingUniform" | "kaimingNormal";

function fill(shape: Shape, dtype: DType | undefined, draw: () => number): NDArray {
  const data = allocate(dtype ?? "float32", sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = draw();
  return new NDArray(data, shape);
}

/** Every element set to `value`. */
export const constant = (value: number): Initializer => (shape, c) => fill(shape, c.dtype, () => value);
export const zeros: Initializer = constant(0);
export const ones: Initializer = constant(1);

/** U(low, high). */
export function uniform(low = -0.05, high = 0.05): Initializer {
  checkArg(low <= high, "uniform", `low must be ≤ high, got ${low} and ${high}`);
  return (shape, c) => fill(shape, c.dtype, () => c.rng.uniform(low, high));
}

/** N(mean, std²). */
export function normal(mean = 0, std = 0.05): Initializer {
  checkArg(std >= 0, "normal", `std must be ≥ 0, got ${std}`);
  return (shape, c) => fill(shape, c.dtype, () => mean + std * c.rng.normal());
}

export const glorotUniform: Initializer = (shape, c) => {
  const a = Math.sqrt(6 / (c.fanIn + c.fanOut));
  return uniform(-a, a)(shape, c);
};
export const glorotNormal: Initializer = (shape, c) => normal(0, Math.sqrt(2 / (c.fanIn + c.fanOut)))(shape, c);
export const heUniform: Initializer = (shape, c) => {
  const a = Math.sqrt(6 / c.fanIn);
  return uniform(-a, a)(shape, c);
};
export const heNormal: Initializer = (shape, c) => normal(0, Math.sqrt(2 / c.fanIn))(shape, c);
export const lecunNormal: Initializer = (shape, c) => normal(0, Math.sqrt(1 / c.fanIn))(shape, c);

export const initializers: Record<InitializerName, Initializer> = {
  zeros,
  ones,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  lecunNormal,
  xavierUniform: glorotUniform,
  xavierNormal: glorotNormal,
  kaimingUniform: heUniform,
  kaimingNormal: heNormal,
};

/** The most elements one parameter may hold (2³¹ − 1, below every engine's typed-array limit). */
const MAX_PARAMETER_ELEMENTS = 2 ** 31 - 1;

/** An initialiser given by name or as a function; the one returned refuses shapes too large for one array. */
export function resolveInitializer(op: string, init: InitializerName | Initializer): Initializer {
  const initializer = typeof init === "function" ? init : typeof init === "string" && Object.hasOwn(initializers, init) ? initializers[init] : null;
  if (!initializer) throw new RangeError(`${op}: unknown initializer ${JSON.stringify(init)}; expected one of ${Object.keys(initializers).join(", ")} or a function`);
  // Layer sizes have no upper bound of their own: refuse a parameter no typed array can hold, naming the layer.
  return (shape, context) => {
    checkArg(sizeOf(shape) <= MAX_PARAMETER_ELEMENTS, op, `a parameter of shape ${fmtShape(shape)} has more elements than one array can hold (${MAX_PARAMETER_ELEMENTS})`);
    return initializer(shape, context);
  };
}

let defaultRandom = new Random(0);

/**
 * Reseeds the package's default generator, used by layers built without a `seed` option
 * (as torch.manual_seed). It starts seeded with 0, so even an unseeded program is reproducible.
 */
export function manualSeed(seed: number): void {
  defaultRandom = new Random(seed);
}

/** The package's default generator (see manualSeed). */
export function defaultGenerator(): Random {
  return defaultRandom;
}

/** A layer's `seed` option: a number (a new generator), a generator to draw from, or the default one. */
export function generatorFrom(seed: number | Random | undefined): Random {
  if (seed instanceof Random) return seed;
  return seed === undefined ? defaultRandom : new Random(seed);
}
