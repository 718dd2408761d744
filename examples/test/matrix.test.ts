/**
 * The runtime matrix: one program (examples/src/portable/smoke.ts — a masked multi-output model
 * trained with fit(), a checkpoint and a safetensors round trip in memory, masked gradients
 * checked to be exactly 0) bundled once and run in Node, Bun, Deno, Chromium (a page's main
 * thread and a module Worker) and QuickJS under a memory limit. The V8 runtimes run the same
 * kernels as Node, so their losses must be bitwise Node's; Bun (JavaScriptCore) and QuickJS may
 * differ in the last bits of Math.exp/log, so theirs are compared to 1e-5 relative (the output says
 * whether they were bitwise equal too). Each prints
 * its time relative to Node's. Bun and Deno are dev dependencies; Chromium is Debian's (required
 * in CI, skipped elsewhere when absent). The times are the fastest of three warm runs each, on a
 * machine that runs other tests at the same time: a rough ratio, not a benchmark.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SmokeResult } from "../src/portable/smoke.js";
import { CHROMIUM, bundle, launchChromium, pageResult, runInQuickJS, serve } from "./runtimes.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const entry = `${root}examples/src/portable/smoke.ts`;
const dir = `${root}examples/.generated/matrix`;
const EPOCHS = 4;
/** Each runtime runs the program four times (runBest): one to warm up, the fastest of three timed. */
const BEST = `runBest(${EPOCHS})`;
const DRIVER = `import { runBest } from "./smoke.mjs";\n${BEST}.then((r) => console.log(JSON.stringify(r)), (e) => { console.error(String(e && e.stack || e)); throw e; });\n`;

let code = "";
let node: SmokeResult;

beforeAll(async () => {
  code = await bundle(entry);
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/smoke.mjs`, code);
  await writeFile(`${dir}/driver.mjs`, DRIVER);
  node = await inProcess(process.execPath, []);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

async function inProcess(command: string, args: string[]): Promise<SmokeResult> {
  const { stdout } = await promisify(execFile)(command, [...args, `${dir}/driver.mjs`], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as SmokeResult;
}

/** The program's own checks, and its losses against Node's (bitwise, or to a relative tolerance). */
function expectLikeNode(name: string, r: SmokeResult, bitwise: boolean): void {
  expect(r.losses).toHaveLength(EPOCHS + 3);
  if (bitwise) expect(r.losses).toEqual(node.losses);
  else r.losses.forEach((v, i) => expect(Math.abs(v - node.losses[i]!), `${name} loss ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(node.losses[i]!)));
  expect(r.checkpointEpoch).toBe(EPOCHS);
  expect(r.weightBytes).toBe(node.weightBytes);
  expect(r.roundTripExact).toBe(true);
  expect(r.maskedGradientsZero).toBe(true);
  const same = r.losses.every((v, i) => Object.is(v, node.losses[i]));
  console.log(`runtime matrix: ${name.padEnd(18)} ${(r.milliseconds / node.milliseconds).toFixed(2)}× Node's time (${r.milliseconds.toFixed(0)} ms vs ${node.milliseconds.toFixed(0)} ms), losses ${same ? "bitwise equal" : "within 1e-5"}`);
}

describe("runtime matrix", () => {
  test("Node: the program trains, round-trips and masks exactly", () => {
    expect(node.losses.slice(0, EPOCHS).every((v, i, a) => i === 0 || v < a[i - 1]!)).toBe(true);
    expectLikeNode("Node", node, true);
  });

  test("Bun", async () => expectLikeNode("Bun", await inProcess(`${root}node_modules/.bin/bun`, ["run"]), false), 60_000);

  test("Deno", async () => expectLikeNode("Deno", await inProcess(`${root}node_modules/.bin/deno`, ["run", "--no-prompt", "--allow-read"]), true), 60_000);

  test("QuickJS (memory limit 256 MB; no structuredClone, console, timers or performance)", async () => {
    const main = `import { runBest } from "zerograd-program"; ${BEST}.then((r) => { globalThis.result = JSON.stringify(r); }, (e) => { globalThis.failed = String(e); });`;
    expectLikeNode("QuickJS", await runInQuickJS<SmokeResult>(code, main), false);
  }, 180_000);

  const haveChromium = existsSync(CHROMIUM);
  if (process.env.CI && !haveChromium) throw new Error(`runtime matrix: ${CHROMIUM} is missing; CI installs it with apt-get install chromium`);
  test.skipIf(!haveChromium)("Chromium: a page's main thread and a module Worker", async () => {
    const report = `(r) => { window.result = r; }, (e) => { window.failed = String(e && e.stack || e); }`;
    const files = {
      "/smoke.js": code,
      "/page.html": `<!DOCTYPE html><script type="module">import { runBest } from "./smoke.js"; ${BEST}.then(${report});</script>`,
      "/worker.js": `import { runBest } from "./smoke.js"; ${BEST}.then((r) => postMessage({ r }), (e) => postMessage({ e: String(e && e.stack || e) }));`,
      "/worker.html": `<!DOCTYPE html><script type="module">const w = new Worker("./worker.js", { type: "module" });
w.onmessage = ({ data }) => { if (data.e) window.failed = data.e; else window.result = data.r; };
w.onerror = (e) => { window.failed = "worker: " + e.message; };</script>`,
    };
    const { server, url } = await serve(files);
    const browser = await launchChromium();
    try {
      expectLikeNode("Chromium page", await pageResult<SmokeResult>(browser, `${url}page.html`), true);
      expectLikeNode("Chromium Worker", await pageResult<SmokeResult>(browser, `${url}worker.html`), true);
    } finally {
      await browser.close();
      server.close();
    }
  }, 120_000);
});
