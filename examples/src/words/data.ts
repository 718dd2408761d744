/** The words data set: `word<TAB>language` per line (see data/WORDS.md), split and batched. */
import { fileURLToPath } from "node:url";
import { NDArray, Random } from "@zerograd/tensor";
import { type Vocabulary, padSequences } from "@zerograd/nn";
import { readMaybeGzipped } from "../data/index.js";

export const DEFAULT_WORDS_PATH = fileURLToPath(new URL("../../../data/words.tsv.gz", import.meta.url));
export const LANGUAGES = ["en", "es", "nl", "pl"] as const;
export type Language = (typeof LANGUAGES)[number];

export interface Word { text: string; language: number }

/** The data could not be read (missing file, malformed content): the command line exits with code 2. */
export class DataLoadError extends Error {
  override readonly name = "DataLoadError";
}

/** Parses the TSV text; every line must be `letters<TAB>en|es|nl|pl`. */
export function parseWords(text: string, source = "words"): Word[] {
  const words: Word[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const [word, lang, extra] = line.split("\t");
    const language = LANGUAGES.indexOf(lang?.trim() as Language);
    if (extra !== undefined || !word || language < 0 || !/^\p{L}+$/u.test(word)) {
      throw new DataLoadError(`${source}, line ${i + 1}: expected "word<TAB>${LANGUAGES.join("|")}", got ${JSON.stringify(line.slice(0, 60))}`);
    }
    words.push({ text: word.normalize("NFC"), language });
  });
  if (words.length < 100) throw new DataLoadError(`${source}: only ${words.length} words; need at least 100`);
  return words;
}

export async function loadWords(path: string): Promise<Word[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readMaybeGzipped(path);
  } catch (e) {
    throw new DataLoadError(`${path}: ${(e as Error).message}`);
  }
  return parseWords(new TextDecoder("utf-8", { fatal: false }).decode(bytes), path);
}

/** A seeded split: `testCount` words for testing, the rest for training. */
export function splitWords(words: readonly Word[], testCount: number, seed: number): { train: Word[]; test: Word[] } {
  const order = new Random(seed).permutation(words.length);
  const shuffled = Array.from(order, (i) => words[i]!);
  return { test: shuffled.slice(0, testCount), train: shuffled.slice(testCount) };
}

/** Character ids of each word, padded at the end with 0 to `maxLen` (default: the longest), and the labels. */
export function batchOf(words: readonly Word[], vocab: Vocabulary, maxLen?: number): { ids: NDArray; labels: NDArray; mask: NDArray } {
  const { values, mask } = padSequences(words.map((w) => vocab.encode(w.text)), { maxLen });
  return { ids: values, mask, labels: new NDArray(Float32Array.from(words, (w) => w.language), [words.length]) };
}

/**
 * Shuffled batches of `size` (the last one may be smaller). With `lengthOf`, words of similar
 * length are batched together (sorted within pools of 16 batches, then the batches shuffled), so
 * batches are padded less — but still padded: lengths differ within every batch.
 */
export function batches<T>(items: readonly T[], size: number, rng: Random, lengthOf?: (item: T) => number): T[][] {
  const shuffled = Array.from(rng.permutation(items.length), (i) => items[i]!);
  const pool = size * 16;
  const out: T[][] = [];
  for (let at = 0; at < shuffled.length; at += pool) {
    const part = shuffled.slice(at, at + pool);
    if (lengthOf) part.sort((a, b) => lengthOf(a) - lengthOf(b));
    for (let b = 0; b < part.length; b += size) out.push(part.slice(b, b + size));
  }
  return Array.from(rng.permutation(out.length), (i) => out[i]!);
}
