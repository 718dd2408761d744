/** Running exported models in ONNX Runtime (onnxruntime-web, WebAssembly) and comparing with predict(). */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AnyModule, predict } from "@zerograd/nn";
import { type OnnxExportOptions, exportOnnx } from "@zerograd/nn/onnx";
import { NDArray, randomNormal } from "@zerograd/tensor";
import * as ort from "onnxruntime-web";
import { afterAll, expect, test } from "vitest";

ort.env.wasm.numThreads = 1;

export type Feeds = Record<string, NDArray | { int64: NDArray }>;

/** Runs ONNX bytes on the inputs; returns every output as [data, dims]. */
export async function runOrt(bytes: Uint8Array, feeds: Feeds): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, x] of Object.entries(feeds)) {
      ortFeeds[name] = x instanceof NDArray ? new ort.Tensor("float32", Float32Array.from(x.flat()), [...x.shape]) : new ort.Tensor("int64", BigInt64Array.from(x.int64.flat(), (v) => BigInt(v)), [...x.int64.shape]);
    }
    const out = await session.run(ortFeeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]));
  } finally {
    await session.release();
  }
}

/**
 * Exports `model`, runs it in ONNX Runtime and with predict() on inputs from `make(batch)` for
 * each batch size, checks every output's shape, and returns the largest |difference| seen.
 */
export async function maxDiffVsOrt(model: AnyModule, options: OnnxExportOptions, make: (batch: number) => Feeds, batches: readonly number[] = [1, 7]): Promise<number> {
  const bytes = exportOnnx(model, options);
  let worst = 0;
  for (const batch of batches) {
    const feeds = make(batch);
    const plain = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v instanceof NDArray ? v : v.int64]));
    const names = Object.keys(plain);
    const expected = predict(model, names.length === 1 ? plain[names[0]!]! : plain);
    const want = expected instanceof NDArray ? { [options.output ?? "output"]: expected } : expected;
    const got = await runOrt(bytes, feeds);
    if (Object.keys(got).sort().join() !== Object.keys(want).sort().join()) throw new Error(`outputs differ: ORT ${Object.keys(got)} vs predict ${Object.keys(want)}`);
    for (const [name, ref] of Object.entries(want)) {
      const o = got[name]!;
      if (o.dims.join() !== ref.shape.join()) throw new Error(`output ${name}: ORT shape [${o.dims}] vs predict [${ref.shape}]`);
      const r = ref.flat();
      for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(o.data[i]! - r[i]!));
      if (r.some((v) => !Number.isFinite(v))) throw new Error(`output ${name}: predict gave a non-finite value`);
    }
  }
  return worst;
}

/** Seeded normal inputs of shape [batch, ...rest]. */
export const normalInput = (rest: readonly number[], seed: number) => (batch: number) => randomNormal([batch, ...rest], 0, 1, { seed: seed + batch });

/** A Python that imports onnx (Debian's python3-onnx), for the optional checker test; undefined where there is none. */
export const onnxPython = ["python3", "/usr/bin/python3"].find((py) => {
  try {
    return execFileSync(py, ["-c", "import onnx"], { stdio: "ignore" }) !== undefined;
  } catch {
    return false;
  }
});

/** Runs onnx.checker.check_model(full_check=True) on the bytes; throws with its message if it refuses them. */
export function onnxCheck(bytes: Uint8Array): void {
  const dir = mkdtempSync(join(tmpdir(), "zerograd-onnx-"));
  try {
    const file = join(dir, "model.onnx");
    writeFileSync(file, bytes);
    execFileSync(onnxPython!, ["-c", "import onnx, sys\nonnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", file], { stdio: ["ignore", "ignore", "pipe"] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A model to export and the inputs to compare it on. */
export interface OrtCase {
  name: string;
  model: () => AnyModule;
  options: OnnxExportOptions;
  feeds: (batch: number) => Feeds;
}

/**
 * Inside a describe: one test per case (batch sizes 1 and 7, largest difference below 2e-5,
 * printed at the end), and every case again at opsets 13 and 21 (batch size 7).
 */
export function testCasesAgainstOrt(cases: readonly OrtCase[], label: string): void {
  const measured: [string, number][] = [];
  afterAll(() => {
    console.log(`max |ONNX Runtime − predict| per ${label}:\n${measured.map(([n, d]) => `  ${d.toExponential(2)}  ${n}`).join("\n")}`);
  });
  test.each(cases)("$name", async ({ name, model, options, feeds }) => {
    const diff = await maxDiffVsOrt(model(), options, feeds);
    measured.push([name, diff]);
    expect(diff).toBeLessThan(2e-5);
  });
  // Opset 13 (reduction axes as attributes, LayerNormalization composed, Erf GELU) and 21 (axes as inputs, Gelu).
  test.each([13, 21])("every case at opset %i (batch size 7)", async (opset) => {
    for (const { name, model, options, feeds } of cases) {
      const diff = await maxDiffVsOrt(model(), { ...options, opset }, feeds, [7]);
      expect(diff, name).toBeLessThan(2e-5);
    }
  });
}
