/**
 * The runtime packages run outside Node: a training program bundled for a neutral platform
 * (no node: modules) runs in QuickJS — no JIT, no WebAssembly — and learns the same thing as in
 * Node, and in headless Chromium as a module script. The runtimes may differ in the last bits of
 * Math.exp/tanh, so the curves are compared with a tolerance, and each must actually learn XOR.
 * Chromium comes from Debian (apt-get install chromium); CI installs it, and there the test is
 * required. Elsewhere it is skipped when the browser is absent.
 */
import { build } from "esbuild";
import { type QuickJSSyncVariant, newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import variantModule from "@jitl/quickjs-wasmfile-release-sync";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, test } from "vitest";
import { run } from "../src/portable/train-xor.js";

const entry = fileURLToPath(new URL("../src/portable/train-xor.ts", import.meta.url));

/** The program and everything it imports as one ES module, as a browser or QuickJS would load it. */
async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2020",
    conditions: ["@zerograd/source"],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

type Outcome = ReturnType<typeof run>;

async function runInQuickJS(code: string, steps: number): Promise<Outcome> {
  // The package's type declarations read as CommonJS under NodeNext; at run time the ESM default is the variant.
  const QuickJS = await newQuickJSWASMModuleFromVariant(variantModule as unknown as QuickJSSyncVariant);
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(256 * 1024 * 1024);
  runtime.setModuleLoader((name) => (name === "zerograd-program" ? code : { error: new Error(`unknown module ${name}`) }));
  const ctx = runtime.newContext();
  try {
    const evaluated = ctx.evalCode(`import { run } from "zerograd-program"; globalThis.result = JSON.stringify(run(${steps}));`, "main.mjs", { type: "module" });
    if (evaluated.error) throw new Error(`QuickJS: ${JSON.stringify(ctx.dump(evaluated.error))}`);
    evaluated.value.dispose();
    const jobs = runtime.executePendingJobs();
    if (jobs.error) throw new Error(`QuickJS: ${JSON.stringify(ctx.dump(jobs.error))}`);
    const json = ctx.getProp(ctx.global, "result").consume((h) => ctx.dump(h)) as string;
    return JSON.parse(json);
  } finally {
    ctx.dispose();
    runtime.dispose();
  }
}

const CHROMIUM = "/usr/bin/chromium";

/** Serves the bundle and a page that runs it on 127.0.0.1, opens the page headless, returns what it computed. */
async function runInChromium(code: string, steps: number): Promise<Outcome> {
  const page = `<!DOCTYPE html><script type="module">
try { const { run } = await import("./program.js"); window.result = run(${steps}); } catch (e) { window.failed = String(e); }
</script>`;
  const server = createServer((req, res) => {
    const [type, body] = req.url === "/program.js" ? ["text/javascript", code] : req.url === "/" ? ["text/html", page] : [null, ""];
    res.writeHead(type ? 200 : 404, { "content-type": type ?? "text/plain" }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    type Page = { result?: Outcome; failed?: string };
    await tab.waitForFunction(() => (window as unknown as Page).result !== undefined || (window as unknown as Page).failed !== undefined, undefined, { timeout: 60_000 });
    const outcome = await tab.evaluate(() => ({ result: (window as unknown as Page).result, failed: (window as unknown as Page).failed }));
    if (outcome.failed !== undefined || !outcome.result) throw new Error(`Chromium: ${outcome.failed}`);
    return outcome.result;
  } finally {
    await browser.close();
    server.close();
  }
}

describe("portability", () => {
  test("the bundle needs no Node module", async () => {
    const code = await bundle();
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).not.toMatch(/require\(/);
  });

  test("QuickJS trains the same XOR model as Node", async () => {
    const steps = 150;
    const inNode = run(steps);
    const inQuickJS = await runInQuickJS(await bundle(), steps);
    expect(inQuickJS.losses).toHaveLength(steps);
    for (let i = 0; i < steps; i++) expect(inQuickJS.losses[i]).toBeCloseTo(inNode.losses[i]!, 4);
    // Both learned XOR: outputs on the correct side of 0.5, and the loss fell by an order of magnitude.
    expect(inQuickJS.kernels).toBe("js"); // no WebAssembly in QuickJS
    for (let i = 0; i < inNode.product.length; i++) expect(inQuickJS.product[i]).toBeCloseTo(inNode.product[i]!, 4);
    for (const r of [inNode, inQuickJS]) {
      expect(r.predictions.map((p) => (p > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
      expect(r.losses[steps - 1]!).toBeLessThan(r.losses[0]! / 10);
    }
  }, 120_000);

  const haveChromium = existsSync(CHROMIUM);
  if (process.env.CI && !haveChromium) throw new Error(`portability: ${CHROMIUM} is missing; CI installs it with apt-get install chromium`);
  test.skipIf(!haveChromium)("Chromium trains the same XOR model as Node", async () => {
    const steps = 150;
    const inNode = run(steps);
    const inBrowser = await runInChromium(await bundle(), steps);
    expect(inBrowser.losses).toHaveLength(steps);
    for (let i = 0; i < steps; i++) expect(inBrowser.losses[i]).toBeCloseTo(inNode.losses[i]!, 4);
    expect(inBrowser.predictions.map((p) => (p > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    expect(inBrowser.kernels).toBe("wasm"); // Chromium has WebAssembly SIMD: the product ran on it
    for (let i = 0; i < inNode.product.length; i++) expect(inBrowser.product[i]).toBeCloseTo(inNode.product[i]!, 4);
  }, 120_000);
});
