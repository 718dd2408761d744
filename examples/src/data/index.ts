/** Data loading for the examples: the embedded UCI digits set, MNIST-style IDX files, splits. */
export { type Dataset, classCounts, featuresOf, shuffledIndices, splitDataset, takeRows, gatherRows } from "./dataset.js";
export { DataFormatError } from "./errors.js";
export { DEFAULT_DIGITS_PATH, loadDigits, parseDigitsCsv } from "./csv.js";
export {
  type IdxArray,
  type IdxData,
  type IdxDType,
  FASHION_MNIST_DEBIAN_FOLDER,
  IDX_FILE_NAMES,
  datasetFromIdx,
  loadIdxDataset,
  parseIdx,
  readIdxFile,
} from "./idx.js";
export { gunzip, isGzip, readMaybeGzipped } from "./gzip.js";
