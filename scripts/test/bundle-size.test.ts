/**
 * What `pnpm size` measures: the main entries without ONNX export, the shared-memory kernels or
 * any `node:` module; the ONNX entry with every export rule (the sequence layers' included: the
 * package is side-effect free, so a rule table registered by a bare import would be dropped from
 * bundles), and a bundled exporter that runs.
 */
import { type Metafile, build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { KERNELS_SHARED_WASM, KERNELS_WASM } from "../../packages/tensor/src/kernels/wasm/module.generated.js";
import { EXTRA_ENTRIES, PACKAGES, gzippedSize, mainEntries, withExtra } from "../bundle-size.js";

/** The source files with bytes in the bundle (a file whose code was all dropped is left out). */
const inputs = (m: Metafile) =>
  Object.entries(Object.values(m.outputs)[0]!.inputs)
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([f]) => f.replace(/^.*?packages\//, ""));
const dir = mkdtempSync(join(tmpdir(), "zerograd-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bundle-size", () => {
  test("the main entries hold no ONNX exporter, no thread pool and no node: import", async () => {
    const main = await gzippedSize(mainEntries());
    const files = inputs(main.metafile);
    for (const p of PACKAGES) expect(files.some((f) => f.startsWith(`${p}/src/`))).toBe(true);
    expect(files.filter((f) => f.includes("/onnx/") || f.includes("threads") || f.endsWith("node.ts") || f.includes("node-io"))).toEqual([]);
    expect(Object.values(main.metafile.outputs)[0]!.imports).toEqual([]);
    const text = new TextDecoder().decode(main.bytes);
    // The long string literals of the bundle, read back as JavaScript: the ordinary module alone.
    const long = (text.match(/(["'`])(?:(?!\1)[^\\]|\\[^])*?\1/g) ?? []).filter((lit) => lit.length > 10_000).map((lit) => new Function(`return ${lit}`)() as string);
    expect(long.filter((s) => s === KERNELS_WASM)).toHaveLength(1);
    expect(long.filter((s) => s === KERNELS_SHARED_WASM)).toHaveLength(0);
    expect(main.gzipped).toBeLessThan(main.minified);
  });

  test("each extra entry adds to the main ones; the ONNX entry carries every rule file", async () => {
    const main = await gzippedSize(mainEntries());
    for (const entry of EXTRA_ENTRIES) {
      const s = await gzippedSize(withExtra(entry));
      expect(s.gzipped, entry).toBeGreaterThan(main.gzipped);
    }
    const onnx = inputs((await gzippedSize(withExtra("@zerograd/nn/onnx"))).metafile).filter((f) => f.includes("/onnx/"));
    expect(onnx.sort()).toEqual(["nn/src/onnx/activation.ts", "nn/src/onnx/export.ts", "nn/src/onnx/graph.ts", "nn/src/onnx/index.ts", "nn/src/onnx/proto.ts", "nn/src/onnx/protobuf.ts", "nn/src/onnx/rules.ts", "nn/src/onnx/sequence-rules.ts"]);
  });

  test("a bundled program exports a GRU and an LSTM to ONNX (the sequence rules survive bundling)", async () => {
    const program = `import { GRU, LSTM } from "@zerograd/nn";
      import { exportOnnx } from "@zerograd/nn/onnx";
      export const sizes = [new GRU(3, 4, { seed: 0 }), new LSTM(3, 4, { seed: 1 })].map((m) => exportOnnx(m, { inputs: { x: [null, 5, 3] } }).length);`;
    const out = join(dir, "program.mjs");
    await build({ stdin: { contents: program, resolveDir: join(import.meta.dirname, "../../examples"), loader: "ts" }, bundle: true, format: "esm", platform: "neutral", conditions: ["@zerograd/source"], outfile: out, logLevel: "error" });
    const { sizes } = (await import(pathToFileURL(out).href)) as { sizes: number[] };
    expect(sizes).toHaveLength(2);
    for (const n of sizes) expect(n).toBeGreaterThan(100);
  });
});
