/**
 * Docs that run. Every ```ts block of every README (scripts/readme-blocks.ts finds them) is written
 * to a file, type-checked with the project's strict settings in one tsc run, and run with tsx in a
 * scratch folder (files a snippet writes land there); every `pnpm NAME` of a ```sh block names a
 * script that exists. The README's "Ten lines" are also checked against the loss and gradient
 * computed by hand (the NaN label must add nothing).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { allBlocks, asModule, blockFileName, codeBlocks, pnpmCommands, root } from "../../scripts/readme-blocks.js";

const run = promisify(execFile);
const dir = join(root, "examples/.generated/docs");
const blocks = allBlocks();
const programs = blocks.filter((b) => b.lang === "ts");

beforeAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const b of programs) await writeFile(join(dir, blockFileName(b)), asModule(b, dir));
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../../tsconfig.base.json",
      compilerOptions: { composite: false, declaration: false, declarationMap: false, noEmit: true, types: ["node"], lib: ["ES2022", "DOM"], customConditions: ["@zerograd/source"] },
      include: ["*.ts"],
    }),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** tsx's loader by its path, so that a snippet can run in a folder outside the workspace. */
const loader = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
const tsx = (file: string, cwd: string) => run(process.execPath, ["--import", loader, "--conditions=@zerograd/source", file], { cwd, env: { ...process.env, NO_COLOR: "1" } });

describe("README code blocks", () => {
  test("the READMEs hold ts programs and sh commands to check", () => {
    expect(programs.length).toBeGreaterThanOrEqual(7);
    expect(new Set(programs.map((b) => b.file))).toEqual(new Set(["README.md", "packages/tensor/README.md", "packages/autograd/README.md", "packages/losses/README.md", "packages/nn/README.md", "data/README.md", ...programs.filter((b) => b.file.startsWith("examples/")).map((b) => b.file)]));
    expect(codeBlocks("x.md", "a\n```ts\nlet a = 1;\n```\n```\nout\n```\n")).toEqual([
      { file: "x.md", line: 2, lang: "ts", code: "let a = 1;\n" },
      { file: "x.md", line: 5, lang: "", code: "out\n" },
    ]);
  });

  test("every ts block type-checks (strict, one tsc run)", async () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const result = await run(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")]).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    expect("failed" in result ? result.stdout : "").toBe("");
  }, 120_000);

  test.each(programs.map((b) => [`${b.file}:${b.line}`, b] as const))("%s runs", async (_, block) => {
    const cwd = await mkdtemp(join(tmpdir(), "zerograd-docs-"));
    try {
      await tsx(join(dir, blockFileName(block)), cwd);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 120_000);

  test("every pnpm command of a sh block names a script that exists", async () => {
    const scripts = Object.keys((JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    const commands = blocks.filter((b) => b.lang === "sh").flatMap((b) => pnpmCommands(b).map((c) => [`${b.file}:${b.line}`, c] as const));
    expect(commands.length).toBeGreaterThan(3);
    const builtIn = ["install", "add", "exec", "pack"];
    expect(commands.filter(([, c]) => !scripts.includes(c) && !builtIn.includes(c))).toEqual([]);
  });
});

test("the README's ten lines print the masked loss and gradient computed by hand", async () => {
  const block = /## Ten lines\s+```ts\n([\s\S]*?)```/.exec(await readFile(join(root, "README.md"), "utf8"))?.[1];
  expect(block, "README has a '## Ten lines' ts block").toBeDefined();
  const file = join(dir, "ten-lines-output.ts");
  await writeFile(file, block!.replace("console.log(loss.item(), w.grad!.toArray());", "console.log(JSON.stringify([loss.item(), w.grad!.toArray()]));"));
  const { stdout } = await tsx(file, root);
  const [loss, grad] = JSON.parse(stdout) as [number, number[][]];
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  // Rows 0 and 2 count (labels 1 and 0); row 1's NaN label is masked.
  const z0 = 0.5 * 0.1 + -1.0 * -0.2, z2 = -0.7 * 0.1 + 1.2 * -0.2;
  expect(loss).toBeCloseTo((-Math.log(sigmoid(z0)) - Math.log(1 - sigmoid(z2))) / 2, 6);
  const g = [0, 1].map((k) => ((sigmoid(z0) - 1) * [0.5, -1.0][k]! + sigmoid(z2) * [-0.7, 1.2][k]!) / 2);
  expect(grad.map((r) => r[0]!)).toEqual(g.map((v) => expect.closeTo(v, 6)));
}, 60_000);
