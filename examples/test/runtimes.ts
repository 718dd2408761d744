/**
 * Helpers of the runtime tests: bundle a program for a neutral platform, serve files over http on
 * 127.0.0.1 (examples/web/static-server.ts), open a page in Debian's headless Chromium, and run
 * a module in QuickJS.
 */
import { build } from "esbuild";
import { type QuickJSSyncVariant, newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import variantModule from "@jitl/quickjs-wasmfile-release-sync";
import { type Browser, chromium } from "playwright-core";

export { serve } from "../web/static-server.js";

export const CHROMIUM = "/usr/bin/chromium";

/** The program and everything it imports as one ES module, as a browser or QuickJS would load it. */
export async function bundle(entry: string, options: { minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2020",
    conditions: ["@zerograd/source"],
    minify: options.minify ?? false,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** Waits for a page to set `window.result` (returned) or `window.failed` (thrown). */
export async function pageResult<T>(browser: Browser, url: string, timeout = 90_000): Promise<T> {
  const tab = await browser.newPage();
  type Outcome = { result?: T; failed?: string };
  try {
    await tab.goto(url);
    await tab.waitForFunction(() => (window as unknown as Outcome).result !== undefined || (window as unknown as Outcome).failed !== undefined, undefined, { timeout });
    const outcome = await tab.evaluate(() => ({ result: (window as unknown as Outcome).result, failed: (window as unknown as Outcome).failed }));
    if (outcome.failed !== undefined || outcome.result === undefined) throw new Error(`Chromium: ${outcome.failed}`);
    return outcome.result;
  } finally {
    await tab.close();
  }
}

/**
 * Evaluates `main` (an ES module that may import "zerograd-program", the given code) in QuickJS
 * under a memory limit, runs the pending jobs until `globalThis.result` or `globalThis.failed`
 * is set, and returns the parsed `result`.
 */
export async function runInQuickJS<T>(code: string, main: string, memoryLimit = 256 * 1024 * 1024): Promise<T> {
  // The package's type declarations read as CommonJS under NodeNext; at run time the ESM default is the variant.
  const QuickJS = await newQuickJSWASMModuleFromVariant(variantModule as unknown as QuickJSSyncVariant);
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(memoryLimit);
  runtime.setModuleLoader((name) => (name === "zerograd-program" ? code : { error: new Error(`unknown module ${name}`) }));
  const ctx = runtime.newContext();
  const read = (name: string) => ctx.getProp(ctx.global, name).consume((h) => ctx.dump(h)) as string | undefined;
  try {
    const evaluated = ctx.evalCode(main, "main.mjs", { type: "module" });
    if (evaluated.error) throw new Error(`QuickJS: ${JSON.stringify(ctx.dump(evaluated.error))}`);
    evaluated.value.dispose();
    for (let round = 0; read("result") === undefined && read("failed") === undefined; round++) {
      const jobs = runtime.executePendingJobs();
      if (jobs.error) throw new Error(`QuickJS: ${JSON.stringify(ctx.dump(jobs.error))}`);
      const ran = jobs.value;
      if (ran === 0 && round > 0) throw new Error("QuickJS: the program stopped without a result (a timer it waits for does not exist here)");
    }
    const failed = read("failed");
    if (failed !== undefined) throw new Error(`QuickJS: ${failed}`);
    return JSON.parse(read("result")!) as T;
  } finally {
    ctx.dispose();
    runtime.dispose();
  }
}
