import { Tensor, where } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { type MaskInput, expandTo, indexOf, readArray } from "./inputs.js";

/**
 * Masks are 0/1 arrays: 1 = this element exists and counts, 0 = it does not exist. Everything
 * here is a constant: masks carry no gradient.
 */

/** 1 where x ≠ value. NaN-aware: with `value` NaN, 1 where x is not NaN. */
export function notEqualTo(x: T.NDArray, value: number): T.NDArray {
  return Number.isNaN(value) ? T.logicalNot(T.isNaN(x)) : T.ne(x, value);
}

/** 1 for each row along `axis` that is not entirely `value` (the row rule for one-hot/soft targets). */
export function rowNotAll(x: T.NDArray, value: number, axis: number): T.NDArray {
  return T.max(notEqualTo(x, value), { axis });
}

/** Reads a mask: booleans or the numbers 0 and 1, nothing else (0.5 or NaN in a mask is a bug). */
export function readMask(op: string, name: string, input: MaskInput, dtype: T.DType = "float32"): T.NDArray {
  const m = readArray(op, name, input, dtype);
  const values = m.flat();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v·(1 − v) is 0 only for 0 and 1 (NaN and ±Infinity fail too): no branch on the mask's bits
    if (v * (1 - v) !== 0) throw new RangeError(`${op}: ${name} must hold booleans or 0/1, found ${v} at ${indexOf(i, m.shape)}`);
  }
  return m;
}

/**
 * The one place that resolves masks: m = mask ∧ every mask derived from the targets
 * (maskValue, ignoreIndex), as one contiguous 0/1 array of the elementwise loss's shape. Masks
 * are broadcast to that shape first, so Σm counts elements, not rows.
 */
export function resolveMask(op: string, shape: T.Shape, mask: MaskInput | undefined, derived: readonly (T.NDArray | undefined)[], dtype: T.DType): T.NDArray {
  let m = mask === undefined ? null : expandTo(op, "mask", readMask(op, "mask", mask, dtype), shape);
  for (const d of derived) if (d !== undefined) m = m ? T.mul(m, d) : d.astype(dtype);
  return m ?? T.ones(shape, { dtype });
}

/**
 * The first half of the "double where": where(mask, x, safe). Masked positions of x are replaced
 * by a harmless constant before any unsafe op (log, division, softmax), so NaN and ±Infinity
 * there never reach the forward or the backward pass, and x's gradient there is exactly 0.
 */
export function keepUnmasked(mask: Tensor, x: Tensor, safe: number): Tensor {
  return where(mask, x, safe);
}

const asMaskTensor = (m: T.NDArray): Tensor => new Tensor(m.astype("float32"));

/** 1 where target ≠ value (`-1` for missing labels; NaN works too). */
export function maskFromSentinel(target: MaskInput, value: number): Tensor {
  return notSentinel("maskFromSentinel", target, value);
}

/** 1 where the target is not `value`, with errors naming `op`. */
function notSentinel(op: string, target: MaskInput, value: number): Tensor {
  return asMaskTensor(notEqualTo(readArray(op, "target", target, "float64"), value));
}

/**
 * 1 where the target is not padding. Elementwise by default; with `axis`, a position is padding
 * when every entry along `axis` equals `padValue` (an all-zero one-hot row), and the result
 * drops that axis.
 */
export function maskFromPadding(target: MaskInput, padValue = 0, axis?: number): Tensor {
  const x = readArray("maskFromPadding", "target", target, "float64");
  if (axis === undefined) return asMaskTensor(notEqualTo(x, padValue));
  return asMaskTensor(rowNotAll(x, padValue, T.normAxis("maskFromPadding", axis, x.rank)));
}

/** 1 where the target is not NaN (labels left as NaN for "missing"). */
export function maskFromNaN(target: MaskInput): Tensor {
  return notSentinel("maskFromNaN", target, NaN);
}

function combine(op: string, masks: readonly MaskInput[], f: (a: T.NDArray, b: T.NDArray) => T.NDArray): Tensor {
  if (masks.length === 0) throw new RangeError(`${op}: needs at least one mask`);
  const arrays = masks.map((m, i) => readMask(op, `mask ${i}`, m));
  return asMaskTensor(arrays.slice(1).reduce(f, arrays[0]!));
}

/** Elementwise AND of masks (they broadcast together): an element counts only if every mask keeps it. */
export const maskAnd = (...masks: MaskInput[]): Tensor => combine("maskAnd", masks, T.logicalAnd);

/** Elementwise OR of masks (they broadcast together). */
export const maskOr = (...masks: MaskInput[]): Tensor => combine("maskOr", masks, T.logicalOr);

/** Swaps kept and masked elements. */
export const maskNot = (mask: MaskInput): Tensor => asMaskTensor(T.logicalNot(readMask("maskNot", "mask", mask)));

/** The number of kept (1) elements: the denominator of a masked 'mean'. */
export function validCount(mask: MaskInput): number {
  const values = readMask("validCount", "mask", mask).flat();
  let n = 0;
  for (let i = 0; i < values.length; i++) n += values[i]!;
  return n;
}
