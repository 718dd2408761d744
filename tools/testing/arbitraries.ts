/**
 * fast-check arbitraries shared by the tests: shapes, broadcastable pairs of shapes, float32
 * data and permutations. Every property runs with `propertyOptions(numRuns)`, which fixes the
 * seed so that a failure replays the same way on every machine.
 */
import fc from "fast-check";

/** The seed of every property test. */
export const SEED = 20_240_611;

/** `fc.assert` parameters: the fixed seed and a bounded number of runs. */
export function propertyOptions(numRuns: number): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns };
}

/** A float32 in [min, max] with no NaN or infinity (the bounds are rounded to float32 as fast-check requires). */
export function f32(min: number, max: number): fc.Arbitrary<number> {
  return fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true });
}

/**
 * A float32 in [min, max] at least `gap` away from every point in `kinks` (e.g. relu's 0), so
 * that finite differences never straddle a kink.
 */
export function f32AwayFrom(min: number, max: number, kinks: readonly number[], gap: number): fc.Arbitrary<number> {
  return f32(min, max).filter((x) => kinks.every((k) => Math.abs(x - k) >= gap));
}

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
  /** Upper bound on the number of elements. */
  maxSize?: number;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** A shape (a list of dimensions) within the given bounds. Defaults: rank 0–4, dims 1–5, ≤ 64 elements. */
export function arbShape(options: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, minDim = 1, maxDim = 5, maxSize = 64 } = options;
  return fc
    .array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank })
    .filter((shape) => sizeOf(shape) <= maxSize);
}

/** NumPy broadcasting of two shapes (the test's own reference, independent of the library). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1, y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`broadcastShape: [${a}] and [${b}] do not broadcast`);
    return x === 1 ? y : x;
  });
}

/**
 * Two shapes that broadcast together, and their broadcast shape: each operand drops some
 * leading axes of a common shape and turns some of the remaining dimensions into 1.
 */
export function arbBroadcastPair(options: ShapeOptions = {}): fc.Arbitrary<{ a: number[]; b: number[]; out: number[] }> {
  const operand = (shape: number[]) =>
    fc
      .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
      .map(([drop, ones]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
  return arbShape(options).chain((shape) =>
    fc.tuple(operand(shape), operand(shape)).map(([a, b]) => ({ a, b, out: broadcastShape(a, b) })),
  );
}

/** Exactly `size` float32 values in [min, max] (default [−4, 4]). */
export function arbData(size: number, min = -4, max = 4): fc.Arbitrary<number[]> {
  return fc.array(f32(min, max), { minLength: size, maxLength: size });
}

/** A shape and row-major data to fill it. */
export function arbShapedData(options: ShapeOptions & { min?: number; max?: number } = {}): fc.Arbitrary<{ shape: number[]; data: number[] }> {
  return arbShape(options).chain((shape) => arbData(sizeOf(shape), options.min, options.max).map((data) => ({ shape, data })));
}

/** A permutation of 0 … n−1. */
export function arbPermutation(n: number): fc.Arbitrary<number[]> {
  const all = Array.from({ length: n }, (_, i) => i);
  return fc.shuffledSubarray(all, { minLength: n, maxLength: n });
}
