/**
 * Sequence masks: which steps of a padded batch exist.
 *
 * A mask is an `[N, T]` tensor of 0/1 (true/1 = the step exists — our convention everywhere;
 * PyTorch's `key_padding_mask` is the opposite). Masks travel with values, as in Keras: a layer
 * that creates or changes a mask attaches it to its output (`withMask`), the next layer reads it
 * (`maskOf`), and `Module.call` carries it through layers that do not know about masks when
 * their output keeps the `[N, T]` leading axes (Dense, Dropout, activations). Hand-written loops
 * pass `{ mask }` explicitly; an explicit mask always wins over an attached one.
 *
 * The Module-level API of a mask-aware layer:
 *   forward(x, { mask })        uses the mask (`resolveMask(x, options)` reads explicit or attached)
 *   computeMask(x, mask)        the mask its output carries (null: none, e.g. after pooling)
 *   readonly supportsMasking = true
 */
import { Tensor } from "@zerograd/autograd";
import { NDArray, type OptionsOf, ShapeError, checkArg, defineOptions, oneOf, shapesEqual } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";

/** A mask as users give it: a tensor, an NDArray, or nested arrays of booleans/0-1 numbers. */
export type MaskInput = Tensor | NDArray | readonly (readonly (boolean | number)[])[];

/** The second argument of every mask-aware layer's forward. */
export interface MaskArg {
  /** `[N, T]`, true/1 = the step exists; null or absent = every step exists (or the mask attached to the input). */
  mask?: MaskInput | null;
}

/** What a mask-aware layer declares. */
export interface MaskingLayer {
  readonly supportsMasking: true;
  computeMask(input: Tensor, mask: Tensor | null): Tensor | null;
}

// null records "this output has no mask" (a decision, not an absence): nothing is carried onto it.
const attached = new WeakMap<Tensor, Tensor | null>();

/** The mask travelling with `x`, or null. */
export function maskOf(x: unknown): Tensor | null {
  return x instanceof Tensor ? attached.get(x) ?? null : null;
}

/** Attaches `mask` to `x` (null: x carries no mask, and none will be carried onto it) and returns `x`. */
export function withMask(x: Tensor, mask: Tensor | null): Tensor {
  attached.set(x, mask);
  return x;
}

/** A mask as a 0/1 tensor of x's dtype (no gradient). Values other than 0/1/true/false are refused. */
export function toMask(op: string, mask: MaskInput, dtype: T.DType = "float32"): Tensor {
  const nd = mask instanceof Tensor ? mask.value : mask instanceof NDArray ? mask : T.array(mask.map((row) => row.map(Number)));
  const flat = nd.flat();
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (v !== 0 && v !== 1) throw new RangeError(`${op}: mask values must be 0/1 or booleans, got ${v} at element ${i}`);
  }
  return new Tensor(nd.astype(dtype));
}

/**
 * The mask a layer uses for `x` ([N, T, …]): the explicit one, else the attached one, else null.
 * It is checked to be [N, T] for x's first two axes.
 */
export function resolveMask(op: string, x: Tensor, options: MaskArg | undefined): Tensor | null {
  const given = options?.mask ?? maskOf(x);
  if (given === null || given === undefined) return null;
  const m = toMask(op, given, x.dtype);
  if (x.rank < 2 || !shapesEqual(m.shape, x.shape.slice(0, 2))) throw new ShapeError(op, "the mask must be [N, T] for an input [N, T, …]", [m.shape, x.shape]);
  return m;
}

/** `[N, T] → [N, T, 1]`: a mask that broadcasts over features. */
export function featureMask(mask: Tensor): Tensor {
  return new Tensor(T.reshape(mask.value, [...mask.shape, 1]));
}

/**
 * The default for layers that do not declare a mask: the input's mask is kept when the output
 * still starts with its `[N, T]` axes (per-step layers), and dropped otherwise.
 */
export function carriedMask(mask: Tensor | null, output: unknown): Tensor | null {
  if (mask === null || !(output instanceof Tensor) || output.rank < mask.rank) return null;
  return shapesEqual(output.shape.slice(0, mask.rank), mask.shape) ? mask : null;
}

export function isMaskingLayer(layer: unknown): layer is MaskingLayer {
  return typeof layer === "object" && layer !== null && (layer as Partial<MaskingLayer>).supportsMasking === true;
}

/**
 * What `Module.call` does after forward, for layers that do not declare masks: the input's mask
 * is carried onto the output when the output keeps its [N, T] axes. Mask-aware layers (and
 * containers) attach their output's mask themselves. An output that is the input itself is
 * left alone, so a caller's tensor never gains a mask.
 */
export function propagateMask(layer: object, inputs: readonly unknown[], output: unknown): void {
  if (isMaskingLayer(layer)) return;
  const input = inputs[0];
  if (!(output instanceof Tensor) || output === input || attached.has(output)) return;
  const carried = carriedMask(maskOf(input), output);
  if (carried) withMask(output, carried);
}

const FROM_LENGTHS = defineOptions({
  /** "post" (default): the real steps come first; "pre": they come last. */
  padding: oneOf(["pre", "post"] as const, { default: "post" }),
  dtype: oneOf(["float32", "float64"] as const, { default: "float32" }),
});

/** `[N, T]` masks from lengths: step t of sequence n exists iff t < lengths[n] (`padding: 'pre'` puts them at the end). */
export function maskFromLengths(lengths: readonly number[], maxLen?: number, options: OptionsOf<typeof FROM_LENGTHS> = {}): NDArray {
  const o = FROM_LENGTHS.parse("maskFromLengths", options);
  for (const [i, n] of lengths.entries()) checkArg(Number.isInteger(n) && n >= 0, "maskFromLengths", `lengths must be non-negative integers, got ${n} at ${i}`);
  const t = maxLen ?? Math.max(0, ...lengths);
  checkArg(Number.isInteger(t) && t >= 0, "maskFromLengths", `maxLen must be a non-negative integer, got ${t}`);
  const out = T.zeros([lengths.length, t], { dtype: o.dtype });
  const data = out.flat();
  lengths.forEach((n, i) => {
    const k = Math.min(n, t);
    if (o.padding === "pre") data.fill(1, i * t + t - k, (i + 1) * t);
    else data.fill(1, i * t, i * t + k);
  });
  return out;
}
