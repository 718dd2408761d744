import { NDArray, Random, take } from "@zerograd/tensor";

/**
 * The in-memory form every loader returns, and the two operations the examples need on it:
 * picking rows, and a seeded train/test split.
 */

/**
 * A labelled image data set, stored flat.
 *
 * Image `i` occupies `images[i * height * width .. (i + 1) * height * width)`, row-major, with
 * pixel intensities scaled to [0, 1]. `labels[i]` is its class, an integer in [0, classes).
 */
export interface Dataset {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  classes: number;
}

/** Number of pixels (features) in one image of `ds`. */
export function featuresOf(ds: Dataset): number {
  return ds.height * ds.width;
}

/** How many rows carry each label: `result[c]` is the count of class `c`. */
export function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.classes).fill(0);
  for (let i = 0; i < ds.count; i++) counts[ds.labels[i]!]! += 1;
  return counts;
}

/** The indices 0 … n−1 in an order fixed by `seed` (a Fisher–Yates shuffle driven by zerograd's seeded Random). */
export function shuffledIndices(n: number, seed: number): Int32Array {
  return new Random(seed).permutation(n);
}

/**
 * The rows `rows` of flat values holding rows of `width` values each: tensor's `take` along
 * axis 0, the one row-gathering routine the library and the examples share.
 */
export function gatherRows(values: Float32Array, width: number, rows: ArrayLike<number>): Float32Array {
  const table = new NDArray(values, [values.length / width, width]);
  return take(table, new NDArray(Float64Array.from(rows), [rows.length]), 0).data as Float32Array;
}

/** A new data set holding the rows of `ds` at `indices`, in that order (rows may repeat). */
export function takeRows(ds: Dataset, indices: ArrayLike<number>): Dataset {
  for (let k = 0; k < indices.length; k++) {
    const row = indices[k]!;
    if (!Number.isInteger(row) || row < 0 || row >= ds.count) {
      throw new RangeError(`takeRows: index ${row} at position ${k} is outside [0, ${ds.count})`);
    }
  }
  const images = gatherRows(ds.images, featuresOf(ds), indices);
  const labels = Int32Array.from(gatherRows(Float32Array.from(ds.labels), 1, indices));
  return { images, labels, count: indices.length, height: ds.height, width: ds.width, classes: ds.classes };
}

/**
 * Shuffles the rows of `ds` with `seed` and cuts them in two: the first
 * `round(count × testFraction)` shuffled rows become `test`, the rest `train`.
 * Every row lands in exactly one half, and the same seed always gives the same halves.
 */
export function splitDataset(ds: Dataset, testFraction: number, seed: number): { train: Dataset; test: Dataset } {
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new RangeError(`splitDataset: testFraction must be in [0, 1], found ${testFraction}`);
  }
  const order = shuffledIndices(ds.count, seed);
  const testCount = Math.round(ds.count * testFraction);
  return {
    train: takeRows(ds, order.subarray(testCount)),
    test: takeRows(ds, order.subarray(0, testCount)),
  };
}
