import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  DataFormatError,
  type Dataset,
  FASHION_MNIST_DEBIAN_FOLDER,
  classCounts,
  gunzip,
  loadDigits,
  loadIdxDataset,
  parseDigitsCsv,
  parseIdx,
  splitDataset,
  takeRows,
} from "../src/data/index.js";

/** A CSV row of 64 pixels all equal to `pixel`, then `label`. */
const row = (pixel: number | string, label: number | string) => [...Array<number | string>(64).fill(pixel), label].join(",");

/** Builds IDX bytes: header (type code, big-endian dims) followed by the given data bytes. */
function idxBytes(typeCode: number, dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = typeCode;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** A tiny data set: row i has every pixel equal to i / 10 and label i % classes. */
function tinyDataset(count: number, classes = 3): Dataset {
  const images = new Float32Array(count * 4);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    images.fill(i / 10, i * 4, (i + 1) * 4);
    labels[i] = i % classes;
  }
  return { images, labels, count, height: 2, width: 2, classes };
}

describe("embedded UCI digits", () => {
  let digits: Dataset;
  beforeAll(async () => {
    digits = await loadDigits();
  });

  test("has 1797 rows of 8×8 images in 10 classes", () => {
    expect(digits.count).toBe(1797);
    expect([digits.height, digits.width, digits.classes]).toEqual([8, 8, 10]);
    expect(digits.images.length).toBe(1797 * 64);
    expect(digits.labels.length).toBe(1797);
  });

  test("pixels are scaled to [0, 1] and reach both ends", () => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of digits.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  test("every class occurs and the per-class counts sum to 1797", () => {
    const counts = classCounts(digits);
    expect(counts).toHaveLength(10);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1797);
    // Counts read off the file with awk when the loader was written.
    expect(counts).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  test("the first row matches the file (a zero)", () => {
    // First line of digits.csv: 0,0,5,13,9,1,0,0,... label 0
    expect(Array.from(digits.images.subarray(0, 5))).toEqual([0, 0, 5 / 16, 13 / 16, 9 / 16]);
    expect(digits.labels[0]).toBe(0);
  });
});

describe("parseDigitsCsv", () => {
  test("parses rows, accepts a final newline and CRLF", () => {
    const ds = parseDigitsCsv(`${row(16, 3)}\r\n${row(0, 9)}\n`);
    expect(ds.count).toBe(2);
    expect(Array.from(ds.labels)).toEqual([3, 9]);
    expect(ds.images[0]).toBe(1);
    expect(ds.images[64]).toBe(0);
  });

  test("a wrong field count names the line, expected and found", () => {
    const text = [row(1, 1), row(1, 1), "1,2,3"].join("\n");
    expect(() => parseDigitsCsv(text, "d.csv")).toThrow("d.csv line 3: expected 65 comma-separated fields, found 3");
  });

  test("a pixel out of range names the line and field", () => {
    const text = [row(1, 1), row(17, 1)].join("\n");
    expect(() => parseDigitsCsv(text)).toThrow("digits.csv line 2: field 1: pixel value 17 is outside [0, 16]");
  });

  test("a label out of range names the line", () => {
    expect(() => parseDigitsCsv(row(0, 10))).toThrow(/line 1: field 65: label 10 is outside \[0, 9\]/);
  });

  test("non-integers and negative numbers are rejected with the text found", () => {
    expect(() => parseDigitsCsv(row("1.5", 1))).toThrow('line 1: field 1: expected a non-negative integer, found "1.5"');
    expect(() => parseDigitsCsv(row(1, -1))).toThrow('found "-1"');
    expect(() => parseDigitsCsv(row("", 1))).toThrow('found ""');
  });

  test("an empty line in the middle is an error; the error is a DataFormatError with the line", () => {
    try {
      parseDigitsCsv([row(1, 1), "", row(1, 1)].join("\n"));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as DataFormatError).line).toBe(2);
    }
  });

  test("empty text is an error", () => {
    expect(() => parseDigitsCsv("")).toThrow("no rows found");
  });
});

describe("loadDigits on other files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "zerograd-digits-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("reads plain and gzipped CSV alike", async () => {
    const text = `${row(8, 4)}\n${row(16, 2)}\n`;
    await writeFile(join(dir, "plain.csv"), text);
    await writeFile(join(dir, "packed.csv.gz"), gzipSync(text));
    const plain = await loadDigits(join(dir, "plain.csv"));
    const packed = await loadDigits(join(dir, "packed.csv.gz"));
    expect(Array.from(plain.labels)).toEqual([4, 2]);
    expect(packed).toEqual(plain);
  });

  test("errors name the file path", async () => {
    const path = join(dir, "bad.csv");
    await writeFile(path, `${row(1, 1)}\n${row(1, 11)}\n`);
    await expect(loadDigits(path)).rejects.toThrow(`${path} line 2: field 65: label 11`);
  });
});

describe("gunzip", () => {
  test("round-trips with node:zlib", async () => {
    const original = new Uint8Array(10_000).map((_, i) => (i * 7) % 251);
    expect(await gunzip(gzipSync(original))).toEqual(original);
  });

  test("corrupt data fails with the source named", async () => {
    const packed = gzipSync(new Uint8Array(100));
    packed[12] ^= 0xff;
    packed.fill(0, 14, 20);
    await expect(gunzip(packed, "broken.gz")).rejects.toThrow(/^broken\.gz: gzip decompression failed/);
  });
});

describe("parseIdx", () => {
  test("reads unsigned bytes with big-endian dims", () => {
    const data = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const parsed = parseIdx(idxBytes(0x08, [2, 3], data));
    expect(parsed.dtype).toBe("uint8");
    expect(parsed.dims).toEqual([2, 3]);
    expect(parsed.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(parsed.data)).toEqual([0, 1, 2, 253, 254, 255]);
  });

  test("reads big-endian multi-byte types into native arrays", () => {
    const int16 = new Uint8Array([0x01, 0x02, 0xff, 0xfe]); // 258, -2
    expect(Array.from(parseIdx(idxBytes(0x0b, [2], int16)).data)).toEqual([258, -2]);
    const int32 = new Uint8Array([0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff]); // 65536, -1
    expect(Array.from(parseIdx(idxBytes(0x0c, [2], int32)).data)).toEqual([65536, -1]);
    const f32 = new Uint8Array(8);
    new DataView(f32.buffer).setFloat32(0, 1.5, false);
    new DataView(f32.buffer).setFloat32(4, -0.25, false);
    const parsed = parseIdx(idxBytes(0x0d, [1, 2], f32));
    expect(parsed.data).toBeInstanceOf(Float32Array);
    expect(Array.from(parsed.data)).toEqual([1.5, -0.25]);
    const f64 = new Uint8Array(8);
    new DataView(f64.buffer).setFloat64(0, Math.PI, false);
    expect(Array.from(parseIdx(idxBytes(0x0e, [1], f64)).data)).toEqual([Math.PI]);
    expect(Array.from(parseIdx(idxBytes(0x09, [2], new Uint8Array([0x80, 0x7f]))).data)).toEqual([-128, 127]);
  });

  test("works on a view into a larger buffer", () => {
    const bytes = idxBytes(0x08, [3], new Uint8Array([7, 8, 9]));
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 5);
    expect(Array.from(parseIdx(padded.subarray(5, 5 + bytes.length)).data)).toEqual([7, 8, 9]);
  });

  test("bad magic number", () => {
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 0x08, 0x00]), "x.idx")).toThrow(
      "x.idx: bad magic number: expected 0x00 0x00 <type> <dims>, found 0x1f 0x8b 0x08 0x00",
    );
  });

  test("unknown element type", () => {
    expect(() => parseIdx(idxBytes(0x0a, [1], new Uint8Array(1)))).toThrow("unknown element type 0x0a");
  });

  test("truncated header", () => {
    expect(() => parseIdx(new Uint8Array([0, 0]))).toThrow("truncated: the 4-byte header needs 4 bytes, found 2");
    const full = idxBytes(0x08, [2, 2, 2], new Uint8Array(8));
    expect(() => parseIdx(full.subarray(0, 10))).toThrow("a header with 3 dimensions needs 16 bytes, found 10");
  });

  test("truncated data and extra bytes", () => {
    const full = idxBytes(0x08, [2, 3], new Uint8Array(6));
    expect(() => parseIdx(full.subarray(0, full.length - 1), "t.idx")).toThrow(
      "t.idx: truncated: dims [2,3] of uint8 need 6 data bytes, found 5",
    );
    const extra = idxBytes(0x08, [2, 3], new Uint8Array(8));
    expect(() => parseIdx(extra)).toThrow("size mismatch: dims [2,3] of uint8 need 6 data bytes, found 8 (2 extra)");
    const int32 = idxBytes(0x0c, [2], new Uint8Array(7));
    expect(() => parseIdx(int32)).toThrow("dims [2] of int32 need 8 data bytes, found 7");
  });
});

describe("loadIdxDataset", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "zerograd-idx-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes an MNIST-style folder: `train` 3×2×2 images with labels, `test` 2×2×2 images. */
  async function writeFolder(folder: string, gzipped: (name: string) => boolean): Promise<void> {
    const files: Record<string, Uint8Array> = {
      "train-images-idx3-ubyte": idxBytes(0x08, [3, 2, 2], new Uint8Array([0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0])),
      "train-labels-idx1-ubyte": idxBytes(0x08, [3], new Uint8Array([4, 0, 9])),
      "t10k-images-idx3-ubyte": idxBytes(0x08, [2, 2, 2], new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80])),
      "t10k-labels-idx1-ubyte": idxBytes(0x08, [2], new Uint8Array([1, 2])),
    };
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) {
      if (gzipped(name)) await writeFile(join(folder, `${name}.gz`), gzipSync(bytes));
      else await writeFile(join(folder, name), bytes);
    }
  }

  test.each([
    ["plain", () => false],
    ["gzipped", () => true],
    ["mixed", (name: string) => name.startsWith("train")],
  ])("round-trips %s files", async (kind, gzipped) => {
    const folder = join(dir, kind);
    await writeFolder(folder, gzipped);
    const { train, test: held } = await loadIdxDataset(folder);
    expect([train.count, train.height, train.width, train.classes]).toEqual([3, 2, 2, 10]);
    expect([held.count, held.height, held.width, held.classes]).toEqual([2, 2, 2, 10]);
    expect(Array.from(train.labels)).toEqual([4, 0, 9]);
    expect(Array.from(held.labels)).toEqual([1, 2]);
    expect(Array.from(train.images.subarray(0, 4))).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(held.images[7]).toBeCloseTo(80 / 255, 7);
  });

  test("classes can be given explicitly, and labels must fit", async () => {
    const folder = join(dir, "classes");
    await writeFolder(folder, () => false);
    expect((await loadIdxDataset(folder, { classes: 12 })).train.classes).toBe(12);
    await expect(loadIdxDataset(folder, { classes: 5 })).rejects.toThrow(
      `${join(folder, "train-labels-idx1-ubyte")}: label 9 of item 2 is outside [0, 4]`,
    );
  });

  test("a missing file is named with the folder", async () => {
    const folder = join(dir, "missing");
    await writeFolder(folder, () => false);
    await rm(join(folder, "t10k-labels-idx1-ubyte"));
    await expect(loadIdxDataset(folder)).rejects.toThrow(
      `loadIdxDataset: neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz found in ${folder}`,
    );
  });

  test("image and label counts must agree", async () => {
    const folder = join(dir, "mismatch");
    await writeFolder(folder, () => false);
    await writeFile(join(folder, "train-labels-idx1-ubyte"), idxBytes(0x08, [2], new Uint8Array([1, 2])));
    await expect(loadIdxDataset(folder)).rejects.toThrow("holds 2 labels but");
  });

  test("a truncated gzipped file reports the IDX problem with its path", async () => {
    const folder = join(dir, "truncated");
    await writeFolder(folder, () => false);
    const path = join(folder, "t10k-images-idx3-ubyte");
    await rm(path);
    await writeFile(`${path}.gz`, gzipSync(idxBytes(0x08, [2, 2, 2], new Uint8Array(5))));
    await expect(loadIdxDataset(folder)).rejects.toThrow(`${path}.gz: truncated: dims [2,2,2] of uint8 need 8 data bytes, found 5`);
  });
});

// Runs only where Debian's dataset-fashion-mnist package is installed (it is not a project dependency).
describe.skipIf(!existsSync(FASHION_MNIST_DEBIAN_FOLDER))("Fashion-MNIST from the Debian package", () => {
  test("has 60 000 + 10 000 images of 28×28 in 10 classes, 1000 per class in test", async () => {
    const { train, test: held } = await loadIdxDataset(FASHION_MNIST_DEBIAN_FOLDER);
    expect([train.count, held.count]).toEqual([60_000, 10_000]);
    expect([train.height, train.width, train.classes]).toEqual([28, 28, 10]);
    expect(classCounts(held)).toEqual(Array<number>(10).fill(1000));
  });
});

describe("takeRows and splitDataset", () => {
  const ds = tinyDataset(20);
  /** Which original rows a derived set holds, read back from the pixel values (row i is i / 10). */
  const rowsOf = (part: Dataset) => Array.from({ length: part.count }, (_, k) => Math.round(part.images[k * 4]! * 10));

  test("takeRows copies the chosen rows in order, repeats allowed", () => {
    const picked = takeRows(ds, [5, 0, 5]);
    expect(picked.count).toBe(3);
    expect(rowsOf(picked)).toEqual([5, 0, 5]);
    expect(Array.from(picked.labels)).toEqual([2, 0, 2]);
    expect([picked.height, picked.width, picked.classes]).toEqual([2, 2, 3]);
    picked.images[0] = 99;
    expect(ds.images[20]).toBeCloseTo(0.5); // a copy, not a view
  });

  test("takeRows rejects an index outside the set", () => {
    expect(() => takeRows(ds, [0, 20])).toThrow("takeRows: index 20 at position 1 is outside [0, 20)");
  });

  test("split is deterministic for a seed", () => {
    const first = splitDataset(ds, 0.25, 7);
    const again = splitDataset(ds, 0.25, 7);
    expect(rowsOf(again.train)).toEqual(rowsOf(first.train));
    expect(rowsOf(again.test)).toEqual(rowsOf(first.test));
    expect(rowsOf(splitDataset(ds, 0.25, 8).test)).not.toEqual(rowsOf(first.test));
  });

  test("split halves are disjoint and cover every row once, and labels travel with images", () => {
    const { train, test: held } = splitDataset(ds, 0.25, 1);
    expect(held.count).toBe(5);
    expect(train.count).toBe(15);
    const all = [...rowsOf(train), ...rowsOf(held)];
    expect(new Set(all).size).toBe(20);
    expect(all.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const part of [train, held]) {
      rowsOf(part).forEach((original, k) => expect(part.labels[k]).toBe(original % 3));
    }
  });

  test("split shuffles: the test rows are not simply the first rows", () => {
    expect(rowsOf(splitDataset(ds, 0.25, 1).test)).not.toEqual([0, 1, 2, 3, 4]);
  });

  test("fractions 0 and 1 and the real digits set", async () => {
    expect(splitDataset(ds, 0, 3).test.count).toBe(0);
    expect(splitDataset(ds, 1, 3).train.count).toBe(0);
    const digits = await loadDigits();
    const { train, test: held } = splitDataset(digits, 0.2, 2024);
    expect(held.count).toBe(359);
    expect(train.count + held.count).toBe(1797);
    const together = classCounts(train).map((n, c) => n + classCounts(held)[c]!);
    expect(together).toEqual(classCounts(digits));
  });

  test("a fraction outside [0, 1] is an error", () => {
    expect(() => splitDataset(ds, 1.5, 0)).toThrow("splitDataset: testFraction must be in [0, 1], found 1.5");
    expect(() => splitDataset(ds, Number.NaN, 0)).toThrow("found NaN");
  });
});
