/**
 * fit() in QuickJS: an engine with no `console`, `process`, `structuredClone`, timers or
 * `performance`. The library is bundled for a neutral platform and trained there with callbacks
 * and checkpoints; the losses equal Node's bitwise (the model uses only + − × ÷).
 */
import variantModule from "@jitl/quickjs-wasmfile-release-sync";
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { type QuickJSSyncVariant, newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import { expect, test } from "vitest";

const PROGRAM = `
import { meanSquaredError } from "@zerograd/losses";
import { Dense, SGD, Sequential, earlyStopping, fit, modelCheckpoint } from "@zerograd/nn";
import { NDArray } from "@zerograd/tensor";

export async function run(write) {
  const x = new NDArray(Float32Array.from({ length: 20 }, (_, i) => ((i * 7) % 11) / 5 - 1), [10, 2]);
  const y = new NDArray(Float32Array.from({ length: 10 }, (_, r) => 2 * x.data[2 * r] - x.data[2 * r + 1] + 0.5), [10, 1]);
  const model = new Sequential([new Dense(2, 3, { seed: 1 }), new Dense(3, 1, { seed: 2 })]);
  let saved = 0;
  const history = await fit(model, { x, y }, {
    optimizer: new SGD(model.parameters(), { lr: 0.05 }),
    loss: meanSquaredError,
    epochs: 4,
    batchSize: 4,
    validationSplit: 0.2,
    callbacks: [earlyStopping({ patience: 10, restoreBestWeights: true }), modelCheckpoint({ save: (bytes) => void (saved += bytes.length > 0 ? 1 : 0) })],
    ...(write ? { verbose: "line", write } : {}),
  });
  return { losses: history.history.loss, valLosses: history.history.val_loss, saved };
}
`;

async function bundle(): Promise<string> {
  const result = await build({
    stdin: { contents: PROGRAM, resolveDir: fileURLToPath(new URL(".", import.meta.url)), loader: "js" },
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

/** Runs the bundle's `run` in a fresh QuickJS context; `withWrite` passes a write function collecting the text. */
async function inQuickJS(code: string, withWrite: boolean): Promise<{ result: { losses: number[]; valLosses: number[]; saved: number }; text: string; globals: string[] }> {
  const QuickJS = await newQuickJSWASMModuleFromVariant(variantModule as unknown as QuickJSSyncVariant);
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(128 * 1024 * 1024);
  runtime.setModuleLoader((name) => (name === "program" ? code : { error: new Error(`unknown module ${name}`) }));
  const ctx = runtime.newContext();
  try {
    const main = `import { run } from "program";
      const absent = ["console", "process", "structuredClone", "setTimeout", "performance"].filter((n) => typeof globalThis[n] === "undefined");
      let text = "";
      run(${withWrite ? "(s) => { text += s; }" : "undefined"}).then((r) => { globalThis.out = JSON.stringify({ result: r, text, globals: absent }); }, (e) => { globalThis.out = JSON.stringify({ error: String(e) }); });`;
    const evaluated = ctx.evalCode(main, "main.mjs", { type: "module" });
    if (evaluated.error) throw new Error(`QuickJS: ${JSON.stringify(ctx.dump(evaluated.error))}`);
    evaluated.value.dispose();
    const jobs = runtime.executePendingJobs();
    if (jobs.error) throw new Error(`QuickJS: ${JSON.stringify(ctx.dump(jobs.error))}`);
    const out = JSON.parse(ctx.getProp(ctx.global, "out").consume((h) => ctx.dump(h)) as string);
    if (out.error) throw new Error(`QuickJS: ${out.error}`);
    return out;
  } finally {
    ctx.dispose();
    runtime.dispose();
  }
}

test("QuickJS runs fit() with callbacks and checkpoints, silently unless given write, with Node's losses", async () => {
  const code = await bundle();
  const { run } = (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as { run: (w?: (s: string) => void) => Promise<{ losses: number[]; valLosses: number[]; saved: number }> };
  const inNode = await run(() => {});
  const silent = await inQuickJS(code, false);
  expect(silent.globals).toEqual(["console", "process", "structuredClone", "setTimeout", "performance"]);
  expect(silent.result.losses).toEqual(inNode.losses);
  expect(silent.result.valLosses).toEqual(inNode.valLosses);
  expect(silent.result.saved).toBe(4);
  expect(silent.text).toBe("");
  const written = await inQuickJS(code, true);
  expect(written.result.losses).toEqual(inNode.losses);
  expect(written.text.split("\n").filter(Boolean)).toHaveLength(4);
}, 120_000);
