/**
 * The packages as a user gets them: packs all four with `pnpm pack` (prepack builds them), checks
 * each tarball (LICENSE, README, dist, shipped sources, every exports target and source map
 * resolving), installs the tarballs with npm into a fresh project outside the workspace, type-checks
 * a consumer under `nodenext`, `bundler` and `node10` resolution, runs it with plain `node`
 * (masked losses, fit() with a checkpoint file, a safetensors file round trip, ONNX export through
 * `@zerograd/nn/onnx`) and bundles it with the `@zerograd/source` condition from the installed
 * sources. Exits 1 with the reason on failure.
 *
 *   pnpm pack:check            (CI runs it; about 30 s)
 */
import { buildSync } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const PACKAGES = ["tensor", "autograd", "losses", "nn"];
const PNPM = ["npx", "-y", "pnpm@10.34.9"];

function sh(command: string[], cwd: string): string {
  try {
    return execFileSync(command[0]!, command.slice(1), { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_yes: "true" } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`${command.join(" ")} (in ${cwd}) failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

/** Every file an exports map, `main`, `types` or `typesVersions` names exists, and no condition points at a missing file. */
function checkEntryPoints(dir: string, pkg: Record<string, unknown>): void {
  const targets: string[] = [pkg.main as string, pkg.types as string];
  const walk = (v: unknown): void => void (typeof v === "string" ? targets.push(v) : v && typeof v === "object" && Object.values(v).forEach(walk));
  walk(pkg.exports);
  walk(pkg.typesVersions);
  for (const t of targets) check(existsSync(join(dir, t)), `${pkg.name}: ${t} is named in package.json but not in the tarball`);
}

/** Every source map's sources exist in the installed package (or are inlined). */
function checkSourceMaps(dir: string, name: string): number {
  let maps = 0;
  for (const file of readdirSync(join(dir, "dist"), { recursive: true }) as string[]) {
    if (!file.endsWith(".map")) continue;
    maps++;
    const map = JSON.parse(readFileSync(join(dir, "dist", file), "utf8")) as { sources: string[]; sourcesContent?: unknown[] };
    if (map.sourcesContent?.every((s) => typeof s === "string")) continue;
    for (const s of map.sources) check(existsSync(resolve(dirname(join(dir, "dist", file)), s)), `${name}: dist/${file} maps to ${s}, which is not shipped`);
  }
  return maps;
}

const CONSUMER = `// A consumer of the installed tarballs: every package, files through @zerograd/nn/node, ONNX export through @zerograd/nn/onnx.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zeros } from "@zerograd/tensor";
import { tensor } from "@zerograd/autograd";
import { meanSquaredError } from "@zerograd/losses";
import { Dense, SGD, fit } from "@zerograd/nn";
import { loadCheckpointFile, loadWeightsFile, modelCheckpointFile, saveWeightsFile } from "@zerograd/nn/node";
import { exportOnnx } from "@zerograd/nn/onnx";
import { run } from "./smoke.js";

const dir = mkdtempSync(join(tmpdir(), "zerograd-consumer-"));
const smoke = await run(3);
const model = new Dense(2, 1);
const x = tensor([[1, 2], [3, 4], [5, 6]]);
const y = tensor([[1], [NaN], [2]]);
await fit(model, { x, y }, {
  optimizer: new SGD(model.parameters(), { lr: 0.01 }), loss: { loss: meanSquaredError, options: { maskValue: NaN } },
  epochs: 2, verbose: "silent", callbacks: [modelCheckpointFile(join(dir, "last.safetensors"))],
});
const checkpoint = await loadCheckpointFile(join(dir, "last.safetensors"));
await saveWeightsFile(model, join(dir, "weights.safetensors"));
const copy = new Dense(2, 1);
await loadWeightsFile(copy, join(dir, "weights.safetensors"));
const same = Array.from(copy.weight.value.data).every((v, i) => v === model.weight.value.data[i]);
const onnxBytes = exportOnnx(model, { inputs: { x: [null, 2] } }).length;
console.log(JSON.stringify({ smoke, checkpointEpoch: checkpoint.epoch, same, onnxBytes, zeros: zeros([2]).size }));
`;

const TSCONFIG = (moduleResolution: string, module: string, extra: object = {}) =>
  JSON.stringify({
    compilerOptions: { target: "ES2022", lib: ["ES2022"], module, moduleResolution, strict: true, skipLibCheck: false, typeRoots: [join(root, "node_modules/@types")], types: ["node"], ...extra },
    files: ["main.ts", "smoke.ts"],
  });

function main(): void {
  const work = mkdtempSync(join(tmpdir(), "zerograd-pack-"));
  const started = Date.now();
  try {
    const tarballs: string[] = [];
    for (const name of PACKAGES) {
      sh([...PNPM, "pack", "--pack-destination", work], join(root, "packages", name));
      const tarball = join(work, `zerograd-${name}-0.1.0.tgz`);
      const listing = sh(["tar", "-tzf", tarball], work).split("\n");
      for (const f of ["package/LICENSE", "package/README.md", "package/dist/index.js", "package/dist/index.d.ts", "package/src/index.ts"]) check(listing.includes(f), `${name}: the tarball has no ${f.slice(8)}`);
      tarballs.push(tarball);
      console.log(`pack-check: ${basename(tarball)}: ${(statSync(tarball).size / 1000).toFixed(1)} kB, ${listing.filter((f) => f.startsWith("package/src/")).length} source files, ${listing.filter((f) => f.startsWith("package/dist/")).length} dist files`);
    }
    const project = join(work, "consumer");
    sh(["mkdir", "-p", project], work);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    sh(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs], project);
    let maps = 0;
    for (const name of PACKAGES) {
      const dir = join(project, "node_modules/@zerograd", name);
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown> & { dependencies?: Record<string, string> };
      check(!Object.values(pkg.dependencies ?? {}).some((v) => v.startsWith("workspace:")), `${name}: a workspace: range was published`);
      checkEntryPoints(dir, pkg);
      maps += checkSourceMaps(dir, name);
    }
    writeFileSync(join(project, "main.ts"), CONSUMER);
    copyFileSync(join(root, "examples/src/portable/smoke.ts"), join(project, "smoke.ts"));
    const tsc = [process.execPath, join(root, "node_modules/typescript/bin/tsc")];
    for (const [label, config] of [
      ["nodenext", TSCONFIG("nodenext", "nodenext", { outDir: "out" })],
      ["bundler", TSCONFIG("bundler", "esnext", { noEmit: true })],
      ["node10", TSCONFIG("node10", "esnext", { noEmit: true })],
    ] as const) {
      writeFileSync(join(project, `tsconfig.${label}.json`), config);
      sh([...tsc, "-p", `tsconfig.${label}.json`], project);
      console.log(`pack-check: tsc with ${label} resolution: no errors`);
    }
    const result = JSON.parse(sh([process.execPath, "out/main.js"], project)) as { smoke: { maskedGradientsZero: boolean; roundTripExact: boolean; checkpointEpoch: number }; checkpointEpoch: number; same: boolean; onnxBytes: number };
    check(result.smoke.maskedGradientsZero && result.smoke.roundTripExact && result.smoke.checkpointEpoch === 3, `the smoke program failed its own checks: ${JSON.stringify(result.smoke)}`);
    check(result.checkpointEpoch === 2 && result.same, `the checkpoint file or the weights file did not round-trip: ${JSON.stringify(result)}`);
    check(result.onnxBytes > 0, `@zerograd/nn/onnx exported no bytes: ${JSON.stringify(result)}`);
    buildSync({ entryPoints: [join(project, "main.ts")], absWorkingDir: project, bundle: true, platform: "node", format: "esm", conditions: ["@zerograd/source"], outfile: join(project, "out/bundled.mjs"), logLevel: "error" });
    const bundled = readFileSync(join(project, "out/bundled.mjs"), "utf8");
    for (const f of ["fit", "exportOnnx"]) check(bundled.includes(`function ${f}(`), `the @zerograd/source bundle has no ${f}()`);
    console.log(`pack-check: 4 tarballs installed with npm outside the workspace; ${maps} source maps resolve; node ran the consumer (masked fit, checkpoint file, safetensors round trip, ONNX export); the source condition bundles (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  console.error(`pack-check: ${(e as Error).message}`);
  process.exit(1);
}
