/**
 * The UCI "Optical Recognition of Handwritten Digits" set shipped in data/digits.csv.gz
 * (see data/README.md): 1797 rows, each 64 pixel counts in 0–16 (an 8×8 image, row by row)
 * followed by the class 0–9, comma-separated, no header.
 */
import { fileURLToPath } from "node:url";
import type { Dataset } from "./dataset.js";
import { DataFormatError } from "./errors.js";
import { displayPath, readMaybeGzipped } from "./gzip.js";

const SIDE = 8;
const PIXELS = SIDE * SIDE;
const FIELDS = PIXELS + 1; // 64 pixels, then the label
const MAX_PIXEL = 16;
const CLASSES = 10;

/** Where the repository keeps the file: <repo>/data/digits.csv.gz, found from this module's location. */
export const DEFAULT_DIGITS_PATH = fileURLToPath(new URL("../../../data/digits.csv.gz", import.meta.url));

/** A non-negative decimal integer, nothing else (no sign, no fraction); fields are trimmed before the test. */
const UNSIGNED_INTEGER = /^\d+$/;

/**
 * Parses the digits CSV text into a Dataset, pixels scaled from 0–16 to [0, 1].
 * `source` names the text in error messages; every error also names the 1-based line.
 */
export function parseDigitsCsv(text: string, source = "digits.csv"): Dataset {
  const lines = text.split(/\r?\n/);
  // One newline at the very end of the file is normal; any other empty line is an error.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) throw new DataFormatError(source, "no rows found (the text is empty)");

  const images = new Float32Array(lines.length * PIXELS);
  const labels = new Int32Array(lines.length);
  for (let row = 0; row < lines.length; row++) {
    const lineNumber = row + 1;
    const fields = lines[row]!.split(",");
    if (fields.length !== FIELDS) {
      throw new DataFormatError(source, `expected ${FIELDS} comma-separated fields, found ${fields.length}`, lineNumber);
    }
    for (let col = 0; col < FIELDS; col++) {
      const field = fields[col]!.trim();
      if (!UNSIGNED_INTEGER.test(field)) {
        throw new DataFormatError(source, `field ${col + 1}: expected a non-negative integer, found "${field}"`, lineNumber);
      }
      const value = Number(field);
      if (col < PIXELS) {
        if (value > MAX_PIXEL) {
          throw new DataFormatError(source, `field ${col + 1}: pixel value ${value} is outside [0, ${MAX_PIXEL}]`, lineNumber);
        }
        images[row * PIXELS + col] = value / MAX_PIXEL;
      } else {
        if (value >= CLASSES) {
          throw new DataFormatError(source, `field ${col + 1}: label ${value} is outside [0, ${CLASSES - 1}]`, lineNumber);
        }
        labels[row] = value;
      }
    }
  }
  return { images, labels, count: lines.length, height: SIDE, width: SIDE, classes: CLASSES };
}

/** Reads and parses the digits file (gzip or plain); by default the copy in the repository's data/ folder. */
export async function loadDigits(path: string | URL = DEFAULT_DIGITS_PATH): Promise<Dataset> {
  const source = displayPath(path);
  const bytes = await readMaybeGzipped(path);
  let text: string;
  try {
    // fatal: true makes invalid UTF-8 an error instead of silently becoming U+FFFD.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DataFormatError(source, "not valid UTF-8 text (is this the digits CSV?)");
  }
  return parseDigitsCsv(text, source);
}
