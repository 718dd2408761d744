/**
 * The runtime packages run outside Node: a training program bundled for a neutral platform
 * (no node: modules) runs in QuickJS — no JIT, no WebAssembly — and learns the same thing as in
 * Node, and in headless Chromium as a module script. The runtimes may differ in the last bits of
 * Math.exp/tanh, so the curves are compared with a tolerance, and each must actually learn XOR.
 * Chromium comes from Debian (apt-get install chromium); CI installs it, and there the test is
 * required. Elsewhere it is skipped when the browser is absent. The fit() program in every
 * runtime is examples/test/matrix.test.ts.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { run } from "../src/portable/train-xor.js";
import { CHROMIUM, bundle, launchChromium, pageResult, runInQuickJS, serve } from "./runtimes.js";

const entry = fileURLToPath(new URL("../src/portable/train-xor.ts", import.meta.url));
type XorResult = ReturnType<typeof run>;

describe("portability", () => {
  test("the bundle needs no Node module", async () => {
    const code = await bundle(entry);
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).not.toMatch(/require\(/);
  });

  test("QuickJS trains the same XOR model as Node", async () => {
    const steps = 150;
    const inNode = run(steps);
    const inQuickJS = await runInQuickJS<XorResult>(await bundle(entry), `import { run } from "zerograd-program"; globalThis.result = JSON.stringify(run(${steps}));`);
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
    const page = `<!DOCTYPE html><script type="module">
try { const { run } = await import("./program.js"); window.result = run(${steps}); } catch (e) { window.failed = String(e); }
</script>`;
    const { server, url } = await serve({ "/index.html": page, "/program.js": await bundle(entry) });
    const browser = await launchChromium();
    try {
      const inBrowser = await pageResult<XorResult>(browser, url);
      expect(inBrowser.losses).toHaveLength(steps);
      for (let i = 0; i < steps; i++) expect(inBrowser.losses[i]).toBeCloseTo(inNode.losses[i]!, 4);
      expect(inBrowser.predictions.map((p) => (p > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
      expect(inBrowser.kernels).toBe("wasm"); // Chromium has WebAssembly SIMD: the product ran on it
      for (let i = 0; i < inNode.product.length; i++) expect(inBrowser.product[i]).toBeCloseTo(inNode.product[i]!, 4);
    } finally {
      await browser.close();
      server.close();
    }
  }, 120_000);
});
