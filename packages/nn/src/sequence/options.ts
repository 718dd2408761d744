/** Option fields shared by the sequence layers (declared once with the option schema). */
import { Random, boolean, custom, oneOf } from "@zerograd/tensor";

/** `seed`: a number or a generator for the initial weights (default: the package generator). */
export const seedField = custom<number | Random>((v, op, key) => {
  if (v instanceof Random) return v;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  throw new TypeError(`${op}: ${key} must be an integer or a Random generator, got ${String(v)}`);
});

/** The fields every layer with weights takes. */
export const weightFields = {
  seed: seedField,
  /** Storage type of the weights (float64 for gradient checks). */
  dtype: oneOf(["float32", "float64"] as const),
  /** Add biases (default true). */
  bias: boolean({ default: true }),
};
