import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { DEFAULTS, UsageError, parseWordsArgs } from "../src/words/cli.js";
import { DEFAULT_WORDS_PATH, DataLoadError, LANGUAGES, batches, loadWords, parseWords, splitWords } from "../src/words/data.js";
import { runWordsJob } from "../src/words/job.js";
import { BOS, EOS, bigramBits, lmVocabulary } from "../src/words/lm.js";
import { Random } from "@zerograd/tensor";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** A seeded sample of the shipped words written as a TSV file in `dir` (small runs). */
async function sampleFile(dir: string, count: number, seed: number): Promise<string> {
  const words = splitWords(await loadWords(DEFAULT_WORDS_PATH), count, seed).test;
  const path = join(dir, "sample.tsv");
  await writeFile(path, words.map((w) => `${w.text}\t${LANGUAGES[w.language]}`).join("\n"));
  return path;
}

describe("flags", () => {
  test("defaults, every flag read, help", () => {
    expect(parseWordsArgs([])).toEqual(DEFAULTS);
    expect(parseWordsArgs(["--epochs", "3", "--lm-epochs", "2", "--batch-size", "16", "--dim", "8", "--lr", "0.01", "--test-count", "50", "--seed", "4", "--out", "r.html", "--quiet"])).toMatchObject({
      epochs: 3, lmEpochs: 2, batchSize: 16, dim: 8, learningRate: 0.01, testCount: 50, seed: 4, out: "r.html", quiet: true,
    });
    expect(parseWordsArgs(["-h"])).toBe("help");
  });

  test("out-of-range values are refused, each with its rule", () => {
    const refused: Record<string, string[]> = {
      '--epochs: must be a whole number from 1 to 1000, got "0"': ["--epochs", "0"],
      "--dim: must be a multiple of 2 (two attention heads), got 7": ["--dim", "7"],
      '--lr: must be a positive number below 10, got "0"': ["--lr", "0"],
      '--seed: must be a whole number from 0 to 4294967295, got "x"': ["--seed", "x"],
    };
    for (const [message, argv] of Object.entries(refused)) expect(() => parseWordsArgs(argv)).toThrow(new UsageError(message));
  });

  test("an unknown flag is a UsageError", () => {
    expect(() => parseWordsArgs(["--epoch", "2"])).toThrow(UsageError);
  });
});

describe("data", () => {
  test("the shipped file: 20 000 words, 5 000 per language, 2–20 letters", async () => {
    const words = await loadWords(DEFAULT_WORDS_PATH);
    expect(words.length).toBe(20_000);
    expect([0, 1, 2, 3].map((l) => words.filter((w) => w.language === l).length)).toEqual([5000, 5000, 5000, 5000]);
    expect(words.every((w) => [...w.text].length >= 2 && [...w.text].length <= 20)).toBe(true);
  });

  test("malformed lines are refused with the line number", () => {
    expect(() => parseWords("hola\tes\nhello\tfr\n", "w.tsv")).toThrow(new DataLoadError('w.tsv, line 2: expected "word<TAB>en|es|nl|pl", got "hello\\tfr"'));
    expect(() => parseWords("a1\ten\n")).toThrow(/line 1/);
  });

  test("batches cover every word once and mix lengths within a batch", () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const out = batches(items, 8, new Random(1), (i) => i % 7);
    expect(out.flat().sort((a, b) => a - b)).toEqual(items);
    expect(out.every((b) => b.length <= 8)).toBe(true);
  });
});

test("bigram bits per character: the formula, on a toy language", () => {
  const train = [{ text: "ab", language: 0 }];
  const vocab = lmVocabulary(train); // a, b, <s>, </s> → size 6 with padding and unknown
  expect(vocab.tokens).toEqual(["a", "b", BOS, EOS]);
  const alpha = 0.5, v = vocab.size;
  // Every transition of "ab" was seen once, in a row seen once: P = (1 + α) / (1 + α·V) for each of 3 steps.
  expect(bigramBits(train, train, vocab, alpha)).toBeCloseTo(-Math.log2((1 + alpha) / (1 + alpha * v)), 10);
});

describe("the job", () => {
  test("a small run: the masked model's predictions do not move with padding; everything finite", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-words-"));
    try {
      const data = await sampleFile(dir, 1200, 3);
      const r = await runWordsJob({ ...DEFAULTS, data, epochs: 1, lmEpochs: 1, testCount: 300, dim: 8, batchSize: 64 }, () => {});
      expect(r.trainCount).toBe(900);
      expect(r.classifiers.map((c) => c.changedByPadding)).toEqual([0, expect.any(Number), null]);
      for (const c of r.classifiers) expect(c.accuracy).toBeGreaterThan(0.25);
      expect(Number.isFinite(r.lm.bits) && Number.isFinite(r.lm.bigramBits)).toBe(true);
      expect(Object.values(r.lm.samples).every((s) => s.length === 5)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the command line", () => {
  const demo = async (args: string[]) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--conditions=@zerograd/source", "examples/src/words.ts", ...args], { cwd: root, encoding: "utf8" });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  test("bad flags, unreadable and malformed data: exit code 2 and the reason", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-words-"));
    try {
      await writeFile(join(dir, "bad.tsv"), "hello\tklingon\n");
      const cases: [string[], RegExp][] = [
        [["--epochs", "2.5"], /--epochs: must be a whole number from 1 to 1000/],
        [["--data", "/nonexistent/words.tsv"], /cannot use the data: \/nonexistent\/words.tsv/],
        [["--data", join(dir, "bad.tsv")], /cannot use the data: .*bad.tsv, line 1/],
      ];
      for (const [args, reason] of cases) {
        const r = await demo(args);
        expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(reason)]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("a short run prints the table and writes a self-contained report", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-words-"));
    try {
      const data = await sampleFile(dir, 800, 5);
      const out = join(dir, "report.html");
      const r = await demo(["--data", data, "--epochs", "1", "--lm-epochs", "1", "--test-count", "200", "--dim", "8", "--quiet", "--out", out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Transformer, masked +\d+\.\d%  +0 /);
      expect(r.stdout).toContain(`Report: ${out}`);
      const html = await readFile(out, "utf8");
      // One self-contained file: a document with inline SVG, no scripts and nothing fetched.
      expect([html.startsWith("<!DOCTYPE html>"), html.includes("<svg"), /<script|src="http|href="http/.test(html)]).toEqual([true, true, false]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
