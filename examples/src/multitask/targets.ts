/**
 * The three heads of the multi-task scenario, derived from the digits data set, and the ways
 * labels go missing.
 *
 * - digit: the class 0–9 (a −1 sentinel where missing);
 * - attributes: five yes/no properties of the digit, a variable number true per image
 *   (1 to 3), NaN where missing;
 * - ink: three measurements of the image (ink mass, vertical and horizontal centre of mass),
 *   NaN where missing.
 */
import { Random } from "@zerograd/tensor";
import type { Dataset } from "../data/index.js";

export const ATTRIBUTES = ["even", "prime", "five or more", "closed loop", "straight strokes"] as const;
export const INK = ["ink mass", "centre row", "centre column"] as const;

const PRIMES = new Set([2, 3, 5, 7]);
const LOOPS = new Set([0, 6, 8, 9]);
const STRAIGHT = new Set([1, 4, 7]);

/** The attribute vector of a digit: 1 where the property holds. */
export function attributesOf(digit: number): number[] {
  return [digit % 2 === 0, PRIMES.has(digit), digit >= 5, LOOPS.has(digit), STRAIGHT.has(digit)].map(Number);
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
  /** [count] class ids; −1 = missing. */
  digit: Float32Array;
  /** [count × 5] 0/1; NaN = missing. */
  attributes: Float32Array;
  /** [count × 3] measurements; NaN = missing. */
  ink: Float32Array;
}

export function targetsOf(ds: Dataset): Targets {
  const pixels = ds.height * ds.width;
  const t: Targets = {
    count: ds.count,
    digit: new Float32Array(ds.count),
    attributes: new Float32Array(ds.count * ATTRIBUTES.length),
    ink: new Float32Array(ds.count * INK.length),
  };
  for (let i = 0; i < ds.count; i++) {
    t.digit[i] = ds.labels[i]!;
    t.attributes.set(attributesOf(ds.labels[i]!), i * ATTRIBUTES.length);
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
  const out: Targets = { count: t.count, digit: t.digit.slice(), attributes: t.attributes.slice(), ink: t.ink.slice() };
  const A = ATTRIBUTES.length, K = INK.length;
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
  for (let j = 0; j < ATTRIBUTES.length; j++) if (Number.isNaN(t.attributes[i * ATTRIBUTES.length + j])) return false;
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
