/**
 * Lines of TypeScript per package (as tinygrad's sz.py does): source and test files, counting
 * code lines (not blank, not only a comment) and all lines.
 */
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === "node_modules" || name === "dist") return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Counts lines that hold code: not blank, not inside or only a comment. */
export function countCode(text: string): { code: number; total: number } {
  let code = 0, inBlock = false;
  const lines = text.split("\n");
  for (const raw of lines) {
    let line = raw.trim();
    if (inBlock) {
      const end = line.indexOf("*/");
      if (end < 0) continue;
      inBlock = false;
      line = line.slice(end + 2).trim();
    }
    if (line.startsWith("/*")) {
      if (!line.includes("*/")) { inBlock = true; continue; }
      line = line.slice(line.indexOf("*/") + 2).trim();
    }
    if (line === "" || line.startsWith("//")) continue;
    code++;
  }
  return { code, total: lines.length - (text.endsWith("\n") ? 1 : 0) };
}

const rows: [string, number, number, number, number][] = [];
const groups = [
  ...["tensor", "autograd", "losses", "nn"].map((p) => [`@zerograd/${p}`, join(root, "packages", p)] as const),
  ["examples", join(root, "examples")] as const,
  ["benchmarks", join(root, "benchmarks")] as const,
];
for (const [name, dir] of groups) {
  const src = tsFiles(join(dir, "src")).map((f) => countCode(readFileSync(f, "utf8")));
  const test = tsFiles(join(dir, "test")).map((f) => countCode(readFileSync(f, "utf8")));
  rows.push([name, src.length, src.reduce((n, c) => n + c.code, 0), src.reduce((n, c) => n + c.total, 0), test.reduce((n, c) => n + c.code, 0)]);
}
const header = ["package", "files", "code lines", "all lines", "test code lines"];
const table = [header, ...rows.map((r) => r.map(String))];
const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
const total = rows.reduce((n, r) => n + r[2], 0);
console.log(`total code lines: ${total} (runtime packages: ${rows.slice(0, 4).reduce((n, r) => n + r[2], 0)})`);
