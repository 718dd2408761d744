/** Padding lists of sequences into one [N, T] (or [N, T, …]) array with its mask, as Keras's pad_sequences. */
import { NDArray, type OptionsOf, checkArg, defineOptions, integer, number, oneOf } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";

const PAD = defineOptions({
  /** Length of the result (default: the longest sequence). */
  maxLen: integer({ min: 0 }),
  /** Where the padding goes (default "post": after each sequence, which PyTorch's pack_padded_sequence expects). */
  padding: oneOf(["pre", "post"] as const, { default: "post" }),
  /** Which end of a too-long sequence is cut (default "post": keep the beginning). */
  truncating: oneOf(["pre", "post"] as const, { default: "post" }),
  /** The padding value (default 0, the padding index of a vocabulary). */
  value: number({ default: 0, infinite: true }),
});
export type PadOptions = OptionsOf<typeof PAD>;

/**
 * `seqs` (numbers, or equal-length feature vectors per step) → `{ values: [N, T(, F)], mask: [N, T], lengths }`.
 * Mask true/1 = the step exists.
 */
export function padSequences(seqs: readonly (readonly number[] | readonly (readonly number[])[])[], options: PadOptions = {}): { values: NDArray; mask: NDArray; lengths: number[] } {
  const op = "padSequences";
  const o = PAD.parse(op, options);
  checkArg(Array.isArray(seqs), op, "expects an array of sequences");
  const features = firstFeatureWidth(seqs);
  const t = o.maxLen ?? Math.max(0, ...seqs.map((s) => s.length));
  const width = features ?? 1;
  const values = T.full(features === null ? [seqs.length, t] : [seqs.length, t, width], o.value);
  const mask = T.zeros([seqs.length, t]);
  const v = values.flat(), m = mask.flat();
  const lengths: number[] = [];
  seqs.forEach((seq, n) => {
    checkArg(Array.isArray(seq), op, `sequence ${n} is not an array`);
    const keep = Math.min(seq.length, t);
    const from = o.truncating === "pre" ? seq.length - keep : 0;
    const to = o.padding === "pre" ? t - keep : 0;
    for (let k = 0; k < keep; k++) {
      const step = seq[from + k]!;
      const row: readonly number[] = typeof step === "number" ? [step] : step;
      checkArg(row.length === width && row.every((x) => typeof x === "number" && !Number.isNaN(x)), op, `sequence ${n}, step ${from + k}: expected ${features === null ? "a number" : `${width} numbers`}, got ${JSON.stringify(step)}`);
      v.set(row, (n * t + to + k) * width);
      m[n * t + to + k] = 1;
    }
    lengths.push(keep);
  });
  return { values, mask, lengths };
}

function firstFeatureWidth(seqs: readonly (readonly unknown[])[]): number | null {
  for (const s of seqs) if (Array.isArray(s) && s.length) return Array.isArray(s[0]) ? (s[0] as unknown[]).length : null;
  return null;
}
