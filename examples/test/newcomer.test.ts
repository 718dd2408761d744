/**
 * The main job as a newcomer meets it: --out checked before training (clear message, exit 2,
 * nothing under /proc), a short line per strategy by default and fit()'s epochs behind --verbose,
 * the class head named after the data, errors with their units, and negative numbers reported by
 * the flag's own check.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { DEFAULTS, UsageError, parseJobArgs, prepareOutput } from "../src/multitask/cli.js";
import { progressFor, runJob, strategyLine } from "../src/multitask/job.js";
import { htmlReport, textTable } from "../src/multitask/summary.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const demo = (args: string[]) =>
  promisify(execFile)(process.execPath, ["--import", "tsx", "--conditions=@zerograd/source", "examples/src/main.ts", ...args], { cwd: root }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe("flags", () => {
  test("a negative number is reported by the flag's own check", () => {
    expect(() => parseJobArgs(["--epochs", "-1"])).toThrow(new UsageError('--epochs: must be a whole number from 1 to 10000, got "-1"'));
    expect(() => parseJobArgs(["--lr", "-0.5"])).toThrow(/--lr: must be a positive number below 10, got "-0.5"/);
    expect(parseJobArgs(["--verbose"])).toMatchObject({ verbose: true, quiet: false });
    expect(parseJobArgs([])).toMatchObject({ verbose: false });
  });

  test("progress: a line per strategy by default, fit()'s epochs with --verbose, nothing with --quiet", () => {
    const write = () => {};
    expect(progressFor({ quiet: false, verbose: false }, write)).toMatchObject({ verbose: "silent", summary: true });
    expect(progressFor({ quiet: false, verbose: true }, write)).toMatchObject({ verbose: "auto" });
    expect(progressFor({ quiet: true, verbose: true }, write)).toMatchObject({ verbose: "silent" });
    expect(progressFor({ quiet: true, verbose: false }, write).summary).toBeFalsy();
  });
});

describe("--out is checked before training", () => {
  test("paths that cannot take the report are refused with the reason", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-out-"));
    try {
      await writeFile(join(dir, "file"), "x");
      expect(() => prepareOutput("/proc/report.html")).toThrow(/pseudo file system/);
      expect(() => prepareOutput("/proc/self/fd/1")).toThrow(/pseudo file system/);
      expect(() => prepareOutput(join(dir, "file", "report.html"))).toThrow(/cannot create the folder .*file/);
      expect(() => prepareOutput(dir)).toThrow(/is not a regular file/);
      const fresh = join(dir, "a", "b", "report.html");
      expect(prepareOutput(fresh)).toBe(fresh);
      expect(existsSync(join(dir, "a", "b"))).toBe(true); // the folder is made, no file left behind
      expect(existsSync(fresh)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the command line exits with code 2 before any training", async () => {
    for (const out of ["/proc/report.html", "/etc/hostname/report.html"]) {
      const r = await demo(["--out", out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: --out ${out}: `));
      expect(r.stdout).not.toMatch(/training samples/);
    }
  }, 60_000);

  test("default output: a line per strategy and the table, no per-epoch lines", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-demo-"));
    try {
      const r = await demo(["--epochs", "2", "--out", join(dir, "r.html")]);
      expect(r.code).toBe(0);
      expect(r.stdout.match(/^(masked|drop|impute) +\d+ training samples, 2 epochs, [\d.]+ s, final held-out loss [\d.]+$/gm)).toHaveLength(3);
      expect(r.stdout).not.toMatch(/Epoch \d/);
      expect(r.stdout).toMatch(/ink: mean absolute error \(raw units\)/);
      expect(r.stdout).toMatch(/standardised units/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

test("the class head is named after the data (Fashion-MNIST's attributes: 'class')", async () => {
  const options = { ...DEFAULTS, epochs: 1, attributes: "fashion" as const };
  const job = await runJob(options, { write: () => {}, verbose: "silent" }, ["masked"]);
  expect(job.classLabel).toBe("class");
  expect(textTable(job)).toMatch(/^class accuracy/m);
  expect(textTable(job)).not.toMatch(/digit/);
  expect(htmlReport(job, options)).toContain("Class confusion matrices");
  const digits = await runJob({ ...DEFAULTS, epochs: 1 }, { write: () => {}, verbose: "silent" }, ["masked"]);
  expect(textTable(digits)).toMatch(/^digit accuracy/m);
  expect(strategyLine(digits.results[0]!, 1)).toMatch(/^masked +1438 training samples, 1 epochs, /);
}, 60_000);
