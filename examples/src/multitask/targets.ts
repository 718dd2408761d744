/**
 * The three heads of the multi-task scenario, derived from the digits data set, and the ways
 * labels go missing.
 *
 * - digit: the class 0–9 (a −1 sentinel where missing);
 * - attributes: five yes/no properties of the class, a variable number true per image
 *   (digits: 1 to 3; Fashion-MNIST: 0 to 3), NaN where missing;
 * - ink: three measurements of the image (ink mass, vertical and horizontal centre of mass),
 *   NaN where missing.
 */
import { Random } from "@zerograd/tensor";
import type { Dataset } from "../data/index.js";

export const INK = ["ink mass", "centre row", "centre column"] as const;

/** Yes/no properties that follow from the class: the attribute head's labels. */
export interface AttributeSet {
  name: "digits" | "fashion";
  labels: readonly string[];
  /** The 0/1 attribute vector of a class. */
  of(cls: number): number[];
}

const has = (set: readonly number[]) => (c: number) => (set.includes(c) ? 1 : 0);

/** For handwritten digits 0–9: one to three of these hold for each digit. */
export const DIGIT_ATTRIBUTES: AttributeSet = {
  name: "digits",
  labels: ["even", "prime", "five or more", "closed loop", "straight strokes"],
  of: (d) => [d % 2 === 0 ? 1 : 0, has([2, 3, 5, 7])(d), d >= 5 ? 1 : 0, has([0, 6, 8, 9])(d), has([1, 4, 7])(d)],
};

/**
 * For Fashion-MNIST's classes (0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal,
 * 6 shirt, 7 sneaker, 8 bag, 9 ankle boot): none (a bag) to three hold for each class.
 */
export const FASHION_ATTRIBUTES: AttributeSet = {
  name: "fashion",
  labels: ["upper body", "covers the legs", "footwear", "long sleeves", "worn"],
  of: (c) => [has([0, 2, 4, 6])(c), has([1, 3])(c), has([5, 7, 9])(c), has([2, 4, 6])(c), c === 8 ? 0 : 1],
};

/** The attribute vector of a digit (the embedded data set's attributes). */
export function attributesOf(digit: number): number[] {
  return DIGIT_ATTRIBUTES.of(digit);
}

/**
 * Ink measurements of one image with pixels in [0, 1]: the mean intensity, and the intensity-
 * weighted mean row and column, each scaled to [0, 1] by the image size.
 */
export function inkOf(pixels: Float32Array, height: number, width: number): number[] {
  let mass = 0, rows = 0, cols = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const v = pixels[r * width + c]!;
      mass += v;
      rows += v * r;
      cols += v * c;
    }
  }
  if (mass === 0) return [0, 0.5, 0.5];
  return [mass / (height * width), rows / mass / (height - 1), cols / mass / (width - 1)];
}

/** The labels of every head, row-aligned with the images. */
export interface Targets {
  count: number;
  /** The names of the attribute head's labels (its width). */
  attributeNames: readonly string[];
  /** [count] class ids; −1 = missing. */
  digit: Float32Array;
  /** [count × attributes] 0/1; NaN = missing. */
  attributes: Float32Array;
  /** [count × 3] measurements; NaN = missing. */
  ink: Float32Array;
}

export function targetsOf(ds: Dataset, attributes: AttributeSet = DIGIT_ATTRIBUTES): Targets {
  const pixels = ds.height * ds.width, A = attributes.labels.length;
  const t: Targets = {
    count: ds.count,
    attributeNames: attributes.labels,
    digit: new Float32Array(ds.count),
    attributes: new Float32Array(ds.count * A),
    ink: new Float32Array(ds.count * INK.length),
  };
  for (let i = 0; i < ds.count; i++) {
    t.digit[i] = ds.labels[i]!;
    t.attributes.set(attributes.of(ds.labels[i]!), i * A);
    t.ink.set(inkOf(ds.images.subarray(i * pixels, (i + 1) * pixels), ds.height, ds.width), i * INK.length);
  }
  return t;
}

/**
 * Hides labels at random: each head of each sample is missing with probability `rate`,
 * independently (a sample may keep all, some or none of its heads). Within the attribute head,
 * a further `entryRate` of the remaining entries go missing one by one, so the number of known
 * labels varies per sample.
 */
export function hideLabels(t: Targets, rate: number, seed: number, entryRate = 0.2): Targets {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`hideLabels: missing rate must be in [0, 1], got ${rate}`);
  const rng = new Random(seed);
  const out: Targets = { ...t, digit: t.digit.slice(), attributes: t.attributes.slice(), ink: t.ink.slice() };
  const A = t.attributeNames.length, K = INK.length;
  for (let i = 0; i < t.count; i++) {
    if (rng.next() < rate) out.digit[i] = -1;
    if (rng.next() < rate) out.attributes.fill(NaN, i * A, (i + 1) * A);
    else for (let j = 0; j < A; j++) if (rng.next() < entryRate) out.attributes[i * A + j] = NaN;
    if (rng.next() < rate) out.ink.fill(NaN, i * K, (i + 1) * K);
  }
  return out;
}

/** Whether sample i has every label of every head. */
export function isComplete(t: Targets, i: number): boolean {
  if (t.digit[i] === -1) return false;
  const A = t.attributeNames.length;
  for (let j = 0; j < A; j++) if (Number.isNaN(t.attributes[i * A + j])) return false;
  for (let j = 0; j < INK.length; j++) if (Number.isNaN(t.ink[i * INK.length + j])) return false;
  return true;
}

/** Fraction of known labels per head (for the report). */
export function coverage(t: Targets): { digit: number; attributes: number; ink: number; complete: number } {
  const known = (a: Float32Array, missing: (v: number) => boolean) => a.reduce((n, v) => n + (missing(v) ? 0 : 1), 0) / a.length;
  let complete = 0;
  for (let i = 0; i < t.count; i++) if (isComplete(t, i)) complete++;
  return {
    digit: known(t.digit, (v) => v === -1),
    attributes: known(t.attributes, Number.isNaN),
    ink: known(t.ink, Number.isNaN),
    complete: t.count ? complete / t.count : 0,
  };
}
