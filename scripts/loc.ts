/**
 * Lines of TypeScript per package (as tinygrad's sz.py does): source and test files, counting
 * code lines (not blank, not only a comment) and all lines. Also keeps two budgets, and exits 1
 * naming what broke them:
 * - the core (tensor + autograd sources) holds at most CORE_BUDGET code lines; WebAssembly kernel
 *   sources (anything under packages/tensor/src/kernels/wasm/) are counted apart;
 * - no function in packages/*\/src is longer than MAX_FUNCTION_LINES lines.
 */
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
/**
 * 2 550: the budget was 2 500 until the fast kernels' plain-JS references (bias + activation, the
 * Adam update and the finiteness scan, which the WebAssembly kernels are tested against) and the
 * engine's in-place accumulation of slice gradients came in (about 50 lines together).
 */
export const CORE_BUDGET = 2550;
export const MAX_FUNCTION_LINES = 80;
/** The WebAssembly kernels (C sources, their build script and TS glue) are counted apart from the line budget. */
const WASM = join(root, "packages", "tensor", "src", "kernels", "wasm");

function tsFiles(dir: string, ext = /\.ts$/, skip = WASM): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist" || name.endsWith(".generated.ts") || path === skip) return [];
    return statSync(path).isDirectory() ? tsFiles(path, ext, skip) : ext.test(path) ? [path] : [];
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

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const named = node as { name?: ts.Node };
  if (named.name) return named.name.getText(sf);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return "constructor";
  return "(anonymous)";
}

/**
 * Every function (declarations, methods, accessors, constructors, function expressions and arrow
 * functions) whose text, from its first line to its last, spans more than `limit` lines.
 */
export function longFunctions(file: string, text: string, limit = MAX_FUNCTION_LINES): LongFunction[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > limit) found.push({ file, line: first + 1, name: functionName(node, sf), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

export interface Budget {
  core: number;
  wasm: number;
  longFunctions: LongFunction[];
}

/** The problems to report (empty when every budget holds). */
export function budgetProblems(b: Budget, budget = CORE_BUDGET, limit = MAX_FUNCTION_LINES): string[] {
  const problems: string[] = [];
  if (b.core > budget) problems.push(`tensor + autograd have ${b.core} code lines, over the budget of ${budget} (WebAssembly kernels, counted apart: ${b.wasm})`);
  for (const f of b.longFunctions) problems.push(`${f.file}:${f.line}: function ${f.name} has ${f.lines} lines (limit ${limit})`);
  return problems;
}

function main(): void {
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
  const wasmFiles = tsFiles(WASM, /\.(ts|c|mjs)$/, "").map((f) => countCode(readFileSync(f, "utf8")));
  const wasm = wasmFiles.reduce((n, c) => n + c.code, 0);
  console.log(`WebAssembly kernels, counted apart (packages/tensor/src/kernels/wasm: C, build script, TS glue; not the generated bytes): ${wasmFiles.length} files, ${wasm} code lines`);
  const core = rows[0]![2] + rows[1]![2];
  console.log(`core (tensor + autograd): ${core} code lines of ${CORE_BUDGET}`);

  const long = ["tensor", "autograd", "losses", "nn"].flatMap((p) =>
    tsFiles(join(root, "packages", p, "src"), /\.ts$/, "").flatMap((f) => longFunctions(relative(root, f), readFileSync(f, "utf8"))),
  );
  const problems = budgetProblems({ core, wasm, longFunctions: long });
  if (problems.length) {
    console.error(`loc: ${problems.length} budget problem(s):\n${problems.map((p) => `  ${p}`).join("\n")}`);
    process.exit(1);
  }
  console.log(`loc: every function in packages/*/src has at most ${MAX_FUNCTION_LINES} lines`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
