/**
 * The README's "Ten lines" run as written: the block is extracted, run with tsx, and its output
 * checked against the loss and gradient computed by hand (the NaN label must add nothing).
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("the README's ten lines run and print the masked loss and gradient", async () => {
  const readme = await readFile(`${root}README.md`, "utf8");
  const block = /## Ten lines\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "README has a '## Ten lines' ts block").toBeDefined();
  const dir = `${root}examples/.generated`;
  await mkdir(dir, { recursive: true });
  const file = `${dir}/ten-lines.ts`;
  await writeFile(file, block!.replace("console.log(loss.item(), w.grad!.toArray());", "console.log(JSON.stringify([loss.item(), w.grad!.toArray()]));"));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--conditions=@zerograd/source", file], { cwd: root });
    const [loss, grad] = JSON.parse(stdout) as [number, number[][]];
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    // Rows 0 and 2 count (labels 1 and 0); row 1's NaN label is masked.
    const z0 = 0.5 * 0.1 + -1.0 * -0.2, z2 = -0.7 * 0.1 + 1.2 * -0.2;
    expect(loss).toBeCloseTo((-Math.log(sigmoid(z0)) - Math.log(1 - sigmoid(z2))) / 2, 6);
    const g = [0, 1].map((k) => ((sigmoid(z0) - 1) * [0.5, -1.0][k]! + sigmoid(z2) * [-0.7, 1.2][k]!) / 2);
    expect(grad.map((r) => r[0]!)).toEqual(g.map((v) => expect.closeTo(v, 6)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);
