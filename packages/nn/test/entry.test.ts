import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));

/** Every file the main entry reaches through relative imports. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/from\s+"(\.[^"]+)"/g)) visit(join(file, "..", spec!.replace(/\.js$/, ".ts")));
  };
  visit(entry);
  return seen;
}

describe("package boundaries", () => {
  test("the main entry never reaches a node: module (it must run in browsers, Deno, Bun and QuickJS)", () => {
    const reached = reachable(join(SRC, "index.ts"));
    const names = [...reached].map((f) => relative(SRC, f));
    expect(names).not.toContain("node.ts");
    expect(names).not.toContain("node-io.ts");
    for (const file of reached) expect(readFileSync(file, "utf8"), relative(SRC, file)).not.toMatch(/from\s+"node:/);
    expect(names.length).toBeGreaterThan(10);
  });

  test("no source file calls Math.random", () => {
    for (const file of files(SRC)) expect(readFileSync(file, "utf8"), relative(SRC, file)).not.toMatch(/Math\.random\s*\(/);
  });
});
