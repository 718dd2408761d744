/**
 * Smoke test of the benchmark harness on tiny sizes. What makes the comparison honest is that
 * every library computes the same numbers from the same inputs, so that is what is checked here;
 * nothing about timings is asserted.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { LIBRARIES, QUICK_SIZES, buildCases, filterCases } from "../src/cases.js";
import { maxRelativeDifference, measure, prepare, runs } from "../src/measure.js";
import { report, suiteTable } from "../src/report.js";
import { initTfjs } from "../src/tfjs.js";

const cases = buildCases(QUICK_SIZES);
const TOLERANCE = 1e-5; // float32 results of different kernels on tiny inputs

beforeAll(async () => {
  await initTfjs();
}, 60_000);

describe("maxRelativeDifference", () => {
  test("is zero for equal outputs and scales by the reference's magnitude", () => {
    expect(maxRelativeDifference([[1, 2, 3]], [Float32Array.of(1, 2, 3)])).toBe(0);
    // |2.5 − 2| / max(1, 2) = 0.25; below magnitude 1 the difference is absolute
    expect(maxRelativeDifference([[1, 2.5]], [[1, 2]])).toBeCloseTo(0.25, 12);
    expect(maxRelativeDifference([[0.1, 0.3]], [[0.1, 0.2]])).toBeCloseTo(0.1, 12);
    // the worst output of several counts
    expect(maxRelativeDifference([[4], [10, 14]], [[4], [10, 10]])).toBeCloseTo(0.4, 12);
  });

  test("calls unmatched NaN or infinity, or a different length or count, a disagreement", () => {
    expect(maxRelativeDifference([[NaN, 1]], [[0, 1]])).toBe(Infinity);
    expect(maxRelativeDifference([[0, 1]], [[NaN, 1]])).toBe(Infinity);
    expect(maxRelativeDifference([[Infinity]], [[1e30]])).toBe(Infinity);
    expect(maxRelativeDifference([[1, 2]], [[1, 2, 3]])).toBe(Infinity);
    expect(maxRelativeDifference([[1]], [[1], [2]])).toBe(Infinity);
    expect(maxRelativeDifference([[NaN, Infinity, 1]], [[NaN, Infinity, 1]])).toBe(0);
  });
});

const SUITES = ["matmul", "elementwise", "reduction", "softmax", "conv2d", "train-step", "loss", "sequence"];

describe("every implementation computes the same results", () => {
  test("the quick suite covers every suite", () => {
    expect(new Set(cases.map((c) => c.suite))).toEqual(new Set(SUITES));
  });

  test.each(cases.map((c) => [`${c.op} ${c.size}`, c] as const))("%s", async (_name, c) => {
    const outputs = new Map<string, ArrayLike<number>[]>();
    for (const library of LIBRARIES.filter((l) => runs(c, l))) {
      const runner = await prepare(c, library);
      try {
        outputs.set(library, runner.run());
      } finally {
        runner.dispose();
      }
    }
    const zg = outputs.get("zerograd")!;
    expect(zg.length).toBeGreaterThan(0);
    for (const out of zg) {
      expect(out.length).toBeGreaterThan(0);
      expect(Array.from(out).every(Number.isFinite)).toBe(true);
    }
    expect(outputs.size).toBeGreaterThanOrEqual(c.threads ? 1 : 3); // the threaded rows are zerograd only
    for (const [library, out] of outputs) expect([library, maxRelativeDifference(out, zg)]).toEqual([library, expect.toSatisfy((d: number) => d <= TOLERANCE)]);
  });

  test("the training step returns the loss and one gradient per parameter, shaped like it", async () => {
    const [mlp] = filterCases(cases, "MLP");
    const runner = await prepare(mlp!, "zerograd");
    const [i0, h1, h2, c] = QUICK_SIZES.mlp.sizes;
    const paramSizes = [i0 * h1, h1, h1 * h2, h2, h2 * c, c];
    // the loss, a gradient per parameter, then the parameters after the Adam update
    expect(runner.run().map((o) => o.length)).toEqual([1, ...paramSizes, ...paramSizes]);
    runner.dispose();
  });
});

describe("the quick benchmark", () => {
  test("times every case on every library and reports them", async () => {
    const rows = await measure(cases, { time: 1, iterations: 2, warmupTime: 0, warmupIterations: 1 });
    expect(rows).toHaveLength(cases.reduce((n, c) => n + LIBRARIES.filter((l) => runs(c, l)).length, 0));
    for (const r of rows) {
      expect(r.mean).toBeGreaterThan(0);
      expect(Number.isFinite(r.mean)).toBe(true);
      expect(r.samples).toBeGreaterThanOrEqual(2);
      expect(r.maxRelDiff).toBeLessThanOrEqual(TOLERANCE);
      if (r.suite === "matmul" || r.suite === "conv2d") expect(r.gflops).toBeGreaterThan(0);
    }
    const text = report(rows, { machine: "- CPU: test", settings: "quick" });
    for (const suite of SUITES) expect(text).toContain(`## ${suite}`);
    // one header, one rule and one line per row
    const matmulRows = rows.filter((r) => r.suite === "matmul");
    expect(suiteTable(matmulRows).split("\n")).toHaveLength(2 + matmulRows.length);
    expect(suiteTable(matmulRows)).toContain("| matmul | 8×8 | zerograd |");
  });
});
