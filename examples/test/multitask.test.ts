import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { DEFAULTS, type JobOptions, UsageError, parseJobArgs } from "../src/multitask/cli.js";
import { f1Score } from "../src/multitask/evaluate.js";
import { attributeWeights, runJob } from "../src/multitask/job.js";
import { applyStrategy } from "../src/multitask/strategies.js";
import { maskedWinsEverywhere } from "../src/multitask/summary.js";
import { DIGIT_ATTRIBUTES, FASHION_ATTRIBUTES, type Targets, attributesOf, coverage, hideLabels, inkOf, isComplete } from "../src/multitask/targets.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function targets(digits: number[]): Targets {
  const n = digits.length;
  return {
    count: n,
    attributeNames: DIGIT_ATTRIBUTES.labels,
    digit: Float32Array.from(digits),
    attributes: Float32Array.from(digits.flatMap(attributesOf)),
    ink: Float32Array.from({ length: n * 3 }, (_, k) => k / 10),
  };
}

describe("flags", () => {
  test("defaults, and every flag read", () => {
    expect(parseJobArgs([])).toEqual(DEFAULTS);
    expect(parseJobArgs(["--missing-rate", "0.5", "--epochs", "3", "--batch-size", "16", "--seed", "9", "--out", "r.html", "--quiet"])).toMatchObject({
      missingRate: 0.5, epochs: 3, batchSize: 16, seed: 9, out: "r.html", quiet: true,
    });
    expect(parseJobArgs(["--help"])).toBe("help");
  });

  test.each([
    [["--missing-rate", "1.5"], "--missing-rate: must be a number in [0, 1), got \"1.5\""],
    [["--epochs", "0"], "--epochs: must be a whole number from 1 to 10000, got \"0\""],
    [["--batch-size", "2.5"], "--batch-size: must be a whole number ≥ 1, got \"2.5\""],
    [["--seed", "x"], "--seed: must be a whole number in [0, 2^32), got \"x\""],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseJobArgs(argv)).toThrow(new UsageError(message));
  });

  test("--attributes: auto picks fashion from the data path", async () => {
    const { attributeSetFor } = await import("../src/multitask/job.js");
    const setFor = (argv: string[]) => attributeSetFor(parseJobArgs(argv) as JobOptions).name;
    expect(setFor(["--data", "/usr/share/datasets/fashion-mnist"])).toBe("fashion");
    expect(setFor(["--data", "/data/mnist"])).toBe("digits");
    expect(setFor(["--data", "/data/mnist", "--attributes", "fashion"])).toBe("fashion");
    expect(() => parseJobArgs(["--attributes", "colours"])).toThrow('--attributes: must be digits, fashion or auto, got "colours"');
  });

  test("unknown flags are refused", () => {
    expect(() => parseJobArgs(["--epoch", "3"])).toThrow(UsageError);
  });
});

describe("targets", () => {
  test("attributes of each digit, a variable number of them true", () => {
    // even, prime, ≥ 5, closed loop, straight strokes
    expect(attributesOf(0)).toEqual([1, 0, 0, 1, 0]);
    expect(attributesOf(1)).toEqual([0, 0, 0, 0, 1]);
    expect(attributesOf(7)).toEqual([0, 1, 1, 0, 1]);
    expect(attributesOf(8)).toEqual([1, 0, 1, 1, 0]);
    const counts = Array.from({ length: 10 }, (_, d) => attributesOf(d).reduce((a, b) => a + b, 0));
    expect(new Set(counts)).toEqual(new Set([1, 2, 3]));
  });

  test("Fashion-MNIST attributes: a bag has none, a coat three", () => {
    // upper body, covers the legs, footwear, long sleeves, worn
    expect(FASHION_ATTRIBUTES.of(8)).toEqual([0, 0, 0, 0, 0]);
    expect(FASHION_ATTRIBUTES.of(4)).toEqual([1, 0, 0, 1, 1]);
    expect(FASHION_ATTRIBUTES.of(9)).toEqual([0, 0, 1, 0, 1]);
  });

  test("ink: mass and centre of mass of a hand-made image", () => {
    // 3×3 image with ink 1 at (0, 0) and 1 at (2, 1): mass 2/9, centre row (0 + 2)/2 = 1 → 0.5, column 0.5 → 0.25.
    const img = Float32Array.from([1, 0, 0, 0, 0, 0, 0, 1, 0]);
    const [mass, row, col] = inkOf(img, 3, 3);
    expect(mass).toBeCloseTo(2 / 9, 12);
    expect(row).toBeCloseTo(0.5, 12);
    expect(col).toBeCloseTo(0.25, 12);
  });

  test("hiding labels: rate 0 keeps all, rate 1 hides every head, the same seed hides the same", () => {
    const t = targets(Array.from({ length: 200 }, (_, i) => i % 10));
    expect(coverage(hideLabels(t, 0, 1, 0))).toEqual({ digit: 1, attributes: 1, ink: 1, complete: 1 });
    const none = hideLabels(t, 1, 1);
    expect(coverage(none)).toEqual({ digit: 0, attributes: 0, ink: 0, complete: 0 });
    expect(hideLabels(t, 0.5, 7)).toEqual(hideLabels(t, 0.5, 7));
    const c = coverage(hideLabels(t, 0.5, 7, 0));
    // 200 draws per head at p = 0.5: within ±0.15 of 0.5 is > 4 standard deviations.
    for (const v of [c.digit, c.attributes, c.ink]) expect(Math.abs(v - 0.5)).toBeLessThan(0.15);
    expect(t.digit[0]).toBe(0); // the input is not modified
  });

  test("attribute weights favour unbalanced labels and average 1", () => {
    const w = attributeWeights(targets(Array.from({ length: 100 }, (_, i) => i % 10)));
    expect(w.reduce((a, b) => a + b, 0) / DIGIT_ATTRIBUTES.labels.length).toBeCloseTo(1, 12);
    // "straight strokes" holds for 3 of 10 digits, "even" for 5 of 10: the first weighs more.
    expect(w[4]!).toBeGreaterThan(w[0]!);
  });
});

describe("strategies", () => {
  const t = hideLabels(targets(Array.from({ length: 60 }, (_, i) => i % 10)), 0.4, 3);

  test("drop keeps exactly the complete samples", () => {
    const { rows, targets: kept } = applyStrategy("drop", t);
    const complete = Array.from({ length: t.count }, (_, i) => i).filter((i) => isComplete(t, i));
    expect(Array.from(rows)).toEqual(complete);
    expect(coverage(kept).complete).toBe(kept.count > 0 ? 1 : 0);
  });

  test("impute replaces every missing label by 0 and keeps the rest", () => {
    const { targets: filled } = applyStrategy("impute", t);
    expect(coverage(filled)).toEqual({ digit: 1, attributes: 1, ink: 1, complete: 1 });
    for (let i = 0; i < t.count; i++) expect(filled.digit[i]).toBe(t.digit[i] === -1 ? 0 : t.digit[i]);
  });

  test("masked trains on everything as it is", () => {
    expect(applyStrategy("masked", t).targets).toBe(t);
  });
});

test("F1 by hand", () => {
  // TP = 2, FP = 1, FN = 1 → 4 / 6.
  expect(f1Score([1, 1, 1, 0, 0], [1, 1, 0, 1, 0])).toBeCloseTo(2 / 3, 12);
  expect(f1Score([0, 0], [0, 0])).toBe(1);
  expect(f1Score([1, 0], [0, 1])).toBe(0);
});

describe("a shortened main job", () => {
  test("masked losses learn every head above chance with 70% of labels missing", async () => {
    const job = await runJob({ ...DEFAULTS, epochs: 4 }, { write: () => {}, verbose: "silent" }, ["masked", "impute"]);
    const [masked, impute] = job.results;
    expect(masked!.strategy).toBe("masked");
    expect(job.coverage.digit).toBeGreaterThan(0.2);
    expect(job.coverage.digit).toBeLessThan(0.4);
    // Chance is 10% for the digit; a majority vote per attribute scores at most 70% (straight strokes: 3 digits of 10).
    expect(masked!.metrics.digitAccuracy).toBeGreaterThan(0.6);
    expect(masked!.metrics.meanAttributeAccuracy).toBeGreaterThan(0.75);
    expect(masked!.metrics.macroF1).toBeGreaterThan(0.5);
    // Predicting the mean ink everywhere gives an error of about one standard deviation (≈ 0.03 for ink mass on this data);
    // the trained head must do better than imputation, which learned from zeros.
    expect(masked!.metrics.meanInkMae).toBeLessThan(impute!.metrics.meanInkMae);
    expect(maskedWinsEverywhere(job)).toBe(true);
  }, 120_000);
});

test("with no missing label the three strategies train on the same data and end bitwise equal", async () => {
  const job = await runJob({ ...DEFAULTS, missingRate: 0, entryMissingRate: 0, epochs: 2 }, { write: () => {}, verbose: "silent" });
  const [masked, drop, impute] = job.results;
  expect(job.coverage).toEqual({ digit: 1, attributes: 1, ink: 1, complete: 1 });
  expect(drop!.trainingRows).toBe(masked!.trainingRows);
  expect(drop!.metrics).toEqual(masked!.metrics);
  expect(impute!.metrics).toEqual(masked!.metrics);
  expect(impute!.history.history).toEqual(masked!.history.history);
}, 120_000);

describe("the command line", () => {
  const run = promisify(execFile);
  const demo = (args: string[]) =>
    run(process.execPath, ["--import", "tsx", "--conditions=@zerograd/source", "examples/src/main.ts", ...args], { cwd: root }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  test("a bad flag exits with code 2 and says why", async () => {
    const r = await demo(["--missing-rate", "2"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--missing-rate: must be a number in [0, 1)");
  }, 60_000);

  test("unreadable data exits with code 2", async () => {
    const r = await demo(["--data", "/nonexistent/folder"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read the data/);
  }, 60_000);

  test("a short run prints the table and writes a self-contained report", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-demo-"));
    try {
      const out = join(dir, "report.html");
      const r = await demo(["--epochs", "2", "--quiet", "--out", out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/digit accuracy/);
      expect(r.stdout).toContain(`Report: ${out}`);
      const html = await readFile(out, "utf8");
      expect(html).toMatch(/^<!DOCTYPE html>/);
      expect(html).toContain("<svg");
      expect(html).not.toMatch(/<script|src="http|href="http/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
