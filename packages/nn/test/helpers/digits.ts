/**
 * The embedded digits data set (data/digits.csv.gz: 1797 images of 8×8 pixels valued 0–16, the
 * class last on each line) as NDArrays, with a seeded train/test split. The parsing mirrors
 * examples/src/data/csv.ts, reduced to what the tests need.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { NDArray, Random } from "@zerograd/tensor";

const PATH = fileURLToPath(new URL("../../../../data/digits.csv.gz", import.meta.url));

export interface Digits {
  /** [n, 64], pixels scaled to [0, 1]. */
  x: NDArray;
  /** [n], the class 0–9. */
  y: NDArray;
  count: number;
}

let cached: Digits | null = null;

export function loadDigits(): Digits {
  if (cached) return cached;
  const lines = gunzipSync(readFileSync(PATH)).toString("utf8").trim().split(/\r?\n/);
  const x = new Float32Array(lines.length * 64);
  const y = new Float32Array(lines.length);
  lines.forEach((line, row) => {
    const fields = line.split(",").map(Number);
    if (fields.length !== 65 || fields.some((v) => !Number.isInteger(v))) throw new Error(`digits.csv.gz: line ${row + 1} is malformed`);
    for (let c = 0; c < 64; c++) x[row * 64 + c] = fields[c]! / 16;
    y[row] = fields[64]!;
  });
  cached = { x: new NDArray(x, [lines.length, 64]), y: new NDArray(y, [lines.length]), count: lines.length };
  return cached;
}

/** Rows picked by index, as a copy. */
export function rows(a: NDArray, indices: ArrayLike<number>): NDArray {
  const width = a.size / a.shape[0]!;
  const src = a.flat();
  const out = new Float32Array(indices.length * width);
  for (let k = 0; k < indices.length; k++) out.set(src.subarray(indices[k]! * width, (indices[k]! + 1) * width), k * width);
  return new NDArray(out, [indices.length, ...a.shape.slice(1)]);
}

/** A seeded split: `testFraction` of the rows (shuffled by `seed`) for testing, the rest for training. */
export function splitDigits(testFraction: number, seed: number): { train: Digits; test: Digits } {
  const all = loadDigits();
  const order = new Random(seed).permutation(all.count);
  const nTest = Math.round(all.count * testFraction);
  const part = (idx: Int32Array): Digits => ({ x: rows(all.x, idx), y: rows(all.y, idx), count: idx.length });
  return { test: part(order.subarray(0, nTest)), train: part(order.subarray(nTest)) };
}
