/**
 * The main job's --export-onnx: the trained masked model, written as ONNX, computes in ONNX
 * Runtime what predict() computes; the command line writes it; the README's serving snippet runs.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type AnyModule, predict } from "@zerograd/nn";
import { NDArray } from "@zerograd/tensor";
import { afterAll, beforeAll, expect, test } from "vitest";
import { onnxCheck, onnxPython, runOrt } from "../../packages/nn/test/helpers/onnx.js";
import { decodeModel } from "../../packages/nn/src/onnx/proto.js";
import { DEFAULTS, parseJobArgs } from "../src/multitask/cli.js";
import { loadData, runJob } from "../src/multitask/job.js";
import { exportJobModel } from "../src/multitask/onnx.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "zerograd-onnx-job-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("--export-onnx is parsed", () => {
  expect((parseJobArgs(["--export-onnx", "out/m.onnx"]) as { exportOnnx?: string }).exportOnnx).toBe("out/m.onnx");
  expect(DEFAULTS.exportOnnx).toBeUndefined();
});

test("the trained masked model, exported, matches predict() in ONNX Runtime (batch 1 and 7)", async () => {
  const file = join(dir, "job.onnx");
  let trained: AnyModule | undefined;
  const options = { ...DEFAULTS, epochs: 2 };
  await runJob(options, {
    write: () => {},
    verbose: "silent",
    trained: async (strategy, model, info) => {
      trained = model;
      await exportJobModel(file, model, info);
    },
  }, ["masked"]);
  const bytes = new Uint8Array(await readFile(file));
  const m = decodeModel(bytes);
  expect(m.graph.inputs).toEqual([{ name: "pixels", type: "float", shape: ["batch", 64] }]);
  expect(m.graph.outputs.map((o) => o.name)).toEqual(["digit", "attributes", "ink"]);
  expect(JSON.parse(m.metadata.ink!).std).toHaveLength(3);
  expect(JSON.parse(m.metadata.attributes!)).toHaveLength(5);
  if (onnxPython) onnxCheck(bytes); // the ONNX checker, where python3-onnx is installed
  const { test: images } = await loadData(options);
  let worst = 0;
  for (const batch of [1, 7]) {
    const x = new NDArray(images.images.slice(0, batch * 64), [batch, 64]);
    const want = predict(trained!, x) as Record<string, NDArray>;
    const got = await runOrt(bytes, { pixels: x });
    for (const name of ["digit", "attributes", "ink"]) {
      expect(got[name]!.dims).toEqual([...want[name]!.shape]);
      want[name]!.flat().forEach((v, i) => (worst = Math.max(worst, Math.abs(v - got[name]!.data[i]!))));
    }
  }
  console.log(`main job's masked model: max |ONNX Runtime − predict| = ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(2e-5);
}, 120_000);

test("the command line writes the file, and the README's serving snippet runs on it", async () => {
  const file = join(dir, "cli", "digits.onnx");
  const cli = await run(process.execPath, ["--import", "tsx", "--conditions=@zerograd/source", "examples/src/main.ts", "--epochs", "1", "--quiet", "--out", join(dir, "report.html"), "--export-onnx", file], { cwd: root });
  expect(cli.stdout).toContain(`ONNX model (masked losses): ${file}`);

  const readme = await readFile(`${root}README.md`, "utf8");
  const block = /## Export to ONNX[\s\S]*?Serving it:\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, "README's Export to ONNX section has the serving snippet").toBeDefined();
  const snippet = block!.replace('"out/digits.onnx"', JSON.stringify(file)).replace("console.log(digit.dims, digit.data, attributes.data, ink.data);", "console.log(JSON.stringify([digit.dims, [...digit.data], [...attributes.data], [...ink.data]]));");
  expect(snippet).not.toBe(block);
  const generated = `${root}examples/.generated-onnx`;
  await mkdir(generated, { recursive: true });
  try {
    await writeFile(`${generated}/serve.ts`, snippet);
    const { stdout } = await run(process.execPath, ["--import", "tsx", `${generated}/serve.ts`], { cwd: root });
    const [dims, digit, attributes, ink] = JSON.parse(stdout) as number[][];
    expect(dims).toEqual([2, 10]);
    const direct = await runOrt(new Uint8Array(await readFile(file)), { pixels: new NDArray(new Float32Array(128).fill(0.5), [2, 64]) });
    expect(digit).toEqual([...direct.digit!.data]);
    expect(attributes).toEqual([...direct.attributes!.data]);
    expect(ink).toEqual([...direct.ink!.data]);
  } finally {
    await rm(generated, { recursive: true, force: true });
  }
}, 180_000);
