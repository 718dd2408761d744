/**
 * Enforces the dependency arrow tensor ← autograd ← losses ← nn:
 * - package.json `dependencies` hold only workspace packages that sit below the package;
 * - every import in packages/<name>/src names only packages below it, never a deep path
 *   (`@zerograd/x/src/...`) and never a package above it;
 * - runtime code imports no `node:` module (except the Node-only entry files listed below)
 *   and never calls Math.random (randomness is seeded through Random).
 * Exits 1 with one line per violation.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const ORDER = ["tensor", "autograd", "losses", "nn"];
/** Files that may import node: modules: they are exported from a separate `./node` entry. */
const NODE_ONLY = new Set(["packages/nn/src/node.ts", "packages/nn/src/node-io.ts", "packages/tensor/src/node.ts", "packages/tensor/src/kernels/wasm/threads.ts"]);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : [];
  });
}

export function checkPackage(name: string, files: { path: string; text: string }[], pkg: { dependencies?: Record<string, string> }): string[] {
  const problems: string[] = [];
  const allowed = new Set(ORDER.slice(0, ORDER.indexOf(name)).map((p) => `@zerograd/${p}`));
  for (const [dep, version] of Object.entries(pkg.dependencies ?? {})) {
    if (!version.startsWith("workspace:")) problems.push(`packages/${name}/package.json: runtime dependency ${dep}@${version} is outside the workspace (runtime packages have none)`);
    else if (!allowed.has(dep)) problems.push(`packages/${name}/package.json: ${dep} is not below @zerograd/${name} in tensor ← autograd ← losses ← nn`);
  }
  const importRe = /(?:^|\s)(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;
  for (const { path, text } of files) {
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith(".")) continue;
      if (spec.startsWith("node:")) {
        if (!NODE_ONLY.has(path)) problems.push(`${path}: imports ${spec}; runtime code must run outside Node (put it behind the ./node entry)`);
        continue;
      }
      const base = spec.split("/").slice(0, 2).join("/");
      if (!base.startsWith("@zerograd/")) problems.push(`${path}: imports ${spec}, which is not a workspace package`);
      else if (spec !== base) problems.push(`${path}: deep import ${spec}; import ${base} instead`);
      else if (!allowed.has(base)) problems.push(`${path}: imports ${base}, against the arrow tensor ← autograd ← losses ← nn`);
    }
    if (/Math\.random\s*\(/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ""))) problems.push(`${path}: calls Math.random; use Random from @zerograd/tensor with a seed`);
  }
  return problems;
}

function main(): void {
  const problems: string[] = [];
  for (const name of ORDER) {
    const dir = join(root, "packages", name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const files = filesUnder(join(dir, "src")).map((p) => ({ path: relative(root, p), text: readFileSync(p, "utf8") }));
    problems.push(...checkPackage(name, files, pkg));
  }
  if (problems.length) {
    console.error(`check-deps: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join("\n")}`);
    process.exit(1);
  }
  console.log(`check-deps: ${ORDER.map((n) => `@zerograd/${n}`).join(" ← ")}: no violations`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
