/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/ describes it):
 *
 *   bytes 0–1   0x00 0x00
 *   byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3     number of dimensions d
 *   then        d sizes, each an unsigned 32-bit big-endian integer
 *   then        the elements, row-major, multi-byte types big-endian
 *
 * Images are `idx3` files (count × rows × columns, uint8) and labels `idx1` files (count, uint8).
 */
import { access } from "node:fs/promises";
import { join } from "node:path";
import type { Dataset } from "./dataset.js";
import { DataFormatError } from "./errors.js";
import { readMaybeGzipped } from "./gzip.js";

export type IdxDType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: its type, its dimensions, and its elements in native byte order. */
export interface IdxArray {
  dtype: IdxDType;
  dims: number[];
  data: IdxData;
}

/** Each type code with its name and element size in bytes. */
const DTYPES: ReadonlyMap<number, { dtype: IdxDType; bytes: number }> = new Map([
  [0x08, { dtype: "uint8", bytes: 1 }],
  [0x09, { dtype: "int8", bytes: 1 }],
  [0x0b, { dtype: "int16", bytes: 2 }],
  [0x0c, { dtype: "int32", bytes: 4 }],
  [0x0d, { dtype: "float32", bytes: 4 }],
  [0x0e, { dtype: "float64", bytes: 8 }],
]);

const hex = (byte: number) => `0x${byte.toString(16).padStart(2, "0")}`;

/**
 * Parses a whole (already decompressed) IDX file. `source` names it in errors.
 * The returned data is a copy; it does not share memory with `bytes`.
 */
export function parseIdx(bytes: Uint8Array, source = "IDX data"): IdxArray {
  if (bytes.length < 4) {
    throw new DataFormatError(source, `truncated: the 4-byte header needs 4 bytes, found ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const found = Array.from(bytes.subarray(0, 4), hex).join(" ");
    throw new DataFormatError(source, `bad magic number: expected 0x00 0x00 <type> <dims>, found ${found} (not an IDX file?)`);
  }
  const type = DTYPES.get(bytes[2]!);
  if (type === undefined) {
    throw new DataFormatError(source, `unknown element type ${hex(bytes[2]!)} (expected one of 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e)`);
  }
  const rank = bytes[3]!;
  if (rank === 0) throw new DataFormatError(source, "the header declares 0 dimensions");
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(source, `truncated: a header with ${rank} dimensions needs ${headerBytes} bytes, found ${bytes.length}`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < rank; d++) {
    const size = view.getUint32(4 + 4 * d, false); // false = big-endian
    dims.push(size);
    count *= size;
  }

  const dataBytes = count * type.bytes;
  const found = bytes.length - headerBytes;
  if (found < dataBytes) {
    throw new DataFormatError(
      source,
      `truncated: dims [${dims.join(",")}] of ${type.dtype} need ${dataBytes} data bytes, found ${found}`,
    );
  }
  if (found > dataBytes) {
    throw new DataFormatError(
      source,
      `size mismatch: dims [${dims.join(",")}] of ${type.dtype} need ${dataBytes} data bytes, found ${found} (${found - dataBytes} extra)`,
    );
  }
  return { dtype: type.dtype, dims, data: readElements(view, headerBytes, count, type.dtype) };
}

/** Copies `count` big-endian elements starting at byte `offset` into a native typed array. */
function readElements(view: DataView, offset: number, count: number, dtype: IdxDType): IdxData {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(view.buffer, view.byteOffset + offset, count).slice();
    case "int8":
      return new Int8Array(view.buffer, view.byteOffset + offset, count).slice();
    case "int16": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case "int32": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case "float32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case "float64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses one IDX file, gzip-compressed or not. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  return parseIdx(await readMaybeGzipped(path), path);
}

/**
 * Joins an idx3 image file (count × height × width, uint8) and an idx1 label file (count, uint8)
 * into a Dataset, pixels scaled from 0–255 to [0, 1]. `classes` is the number of classes;
 * every label must be below it. The sources name the two files in errors.
 */
export function datasetFromIdx(
  images: IdxArray,
  labels: IdxArray,
  classes: number,
  sources: { images: string; labels: string } = { images: "images", labels: "labels" },
): Dataset {
  if (images.dtype !== "uint8" || images.dims.length !== 3) {
    throw new DataFormatError(sources.images, `expected uint8 images of rank 3 (count × height × width), found ${images.dtype} of dims [${images.dims.join(",")}]`);
  }
  if (labels.dtype !== "uint8" || labels.dims.length !== 1) {
    throw new DataFormatError(sources.labels, `expected uint8 labels of rank 1 (count), found ${labels.dtype} of dims [${labels.dims.join(",")}]`);
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataFormatError(sources.labels, `holds ${labels.dims[0]} labels but ${sources.images} holds ${count} images`);
  }

  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! / 255;
  const classOf = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i]!;
    if (label >= classes) {
      throw new DataFormatError(sources.labels, `label ${label} of item ${i} is outside [0, ${classes - 1}]`);
    }
    classOf[i] = label;
  }
  return { images: pixels, labels: classOf, count, height, width, classes };
}

/** The four standard MNIST / Fashion-MNIST file names, without the optional ".gz". */
export const IDX_FILE_NAMES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** Where Debian's `dataset-fashion-mnist` package installs the four files (gzipped). */
export const FASHION_MNIST_DEBIAN_FOLDER = "/usr/share/datasets/fashion-mnist";

/** The path of `name` or `name.gz` inside `folder`, whichever exists (plain first). */
async function findFile(folder: string, name: string): Promise<string> {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(folder, candidate);
    try {
      await access(path);
      return path;
    } catch {
      // not there; try the next spelling
    }
  }
  throw new Error(`loadIdxDataset: neither ${name} nor ${name}.gz found in ${folder}`);
}

/**
 * Loads an MNIST-style data set from a folder holding the four standard files
 * (each may be gzipped; see IDX_FILE_NAMES), e.g. FASHION_MNIST_DEBIAN_FOLDER.
 * `classes` defaults to one more than the largest label seen in either half.
 */
export async function loadIdxDataset(folder: string, options: { classes?: number } = {}): Promise<{ train: Dataset; test: Dataset }> {
  const paths = {
    trainImages: await findFile(folder, IDX_FILE_NAMES.trainImages),
    trainLabels: await findFile(folder, IDX_FILE_NAMES.trainLabels),
    testImages: await findFile(folder, IDX_FILE_NAMES.testImages),
    testLabels: await findFile(folder, IDX_FILE_NAMES.testLabels),
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdxFile(paths.trainImages),
    readIdxFile(paths.trainLabels),
    readIdxFile(paths.testImages),
    readIdxFile(paths.testLabels),
  ]);
  const classes = options.classes ?? Math.max(maxOf(trainLabels.data), maxOf(testLabels.data)) + 1;
  return {
    train: datasetFromIdx(trainImages, trainLabels, classes, { images: paths.trainImages, labels: paths.trainLabels }),
    test: datasetFromIdx(testImages, testLabels, classes, { images: paths.testImages, labels: paths.testLabels }),
  };
}

/** The largest element, or −1 for an empty array (so that "max + 1" classes gives 0). */
function maxOf(data: IdxData): number {
  let max = -1;
  for (let i = 0; i < data.length; i++) if (data[i]! > max) max = data[i]!;
  return max;
}
