/**
 * Fails when a block of six or more lines is repeated under packages/ (sources and tests): the
 * same code said twice is code that will drift. Lines are compared after folding white space;
 * blank lines, comments, import lines and lines of punctuation alone are passed over, as a reader
 * would. Prints each repeated block as `a.ts:10-17 = b.ts:40-47`.
 *
 *   tsx scripts/repeats.ts [--min-lines 6] [dir …]        (default: packages)
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export interface SourceFile { path: string; text: string }
export interface Repeat { a: { path: string; from: number; to: number }; b: { path: string; from: number; to: number }; lines: number }

interface Line { text: string; line: number }

/** The lines that carry code, folded: what two copies of a block have in common. */
export function significantLines(text: string): Line[] {
  const out: Line[] = [];
  let inBlockComment = false;
  text.split("\n").forEach((raw, i) => {
    let s = raw.trim();
    if (inBlockComment) {
      if (s.includes("*/")) inBlockComment = false;
      return;
    }
    if (s.startsWith("/*")) {
      inBlockComment = !s.includes("*/");
      return;
    }
    s = s.replace(/\s+/g, " ");
    if (s === "" || s.startsWith("//") || s.startsWith("import ") || /^[\s{}()[\];,]*$/.test(s)) return;
    out.push({ text: s, line: i + 1 });
  });
  return out;
}

/** Every pair of places sharing `minLines` or more consecutive significant lines, longest runs only. */
export function findRepeats(files: readonly SourceFile[], minLines = 6): Repeat[] {
  const lines = files.map((f) => significantLines(f.text));
  const seen = new Map<string, { file: number; at: number }[]>();
  lines.forEach((ls, file) => {
    for (let at = 0; at + minLines <= ls.length; at++) {
      const key = ls.slice(at, at + minLines).map((l) => l.text).join("\n");
      const list = seen.get(key) ?? [];
      list.push({ file, at });
      seen.set(key, list);
    }
  });
  const repeats: Repeat[] = [];
  const covered = new Set<string>();
  for (const places of seen.values()) {
    for (let i = 0; i < places.length; i++) {
      for (let j = i + 1; j < places.length; j++) {
        const [p, q] = [places[i]!, places[j]!];
        if (p.file === q.file && q.at - p.at < minLines) continue;                  // overlapping windows of one run
        if (covered.has(`${p.file}:${p.at}|${q.file}:${q.at}`)) continue;
        let n = minLines;                                                          // extend the run as far as it goes
        while (p.at + n < lines[p.file]!.length && q.at + n < lines[q.file]!.length && lines[p.file]![p.at + n]!.text === lines[q.file]![q.at + n]!.text && (p.file !== q.file || p.at + n < q.at)) n++;
        for (let k = 0; k + minLines <= n; k++) covered.add(`${p.file}:${p.at + k}|${q.file}:${q.at + k}`);
        const place = (f: number, at: number) => ({ path: files[f]!.path, from: lines[f]![at]!.line, to: lines[f]![at + n - 1]!.line });
        repeats.push({ a: place(p.file, p.at), b: place(q.file, q.at), lines: n });
      }
    }
  }
  return repeats.sort((x, y) => y.lines - x.lines);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

function main(argv: string[]): number {
  let minLines = 6;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--min-lines") minLines = Number(argv[++i]);
    else dirs.push(argv[i]!);
  }
  if (!Number.isInteger(minLines) || minLines < 2) throw new RangeError(`repeats: --min-lines must be an integer ≥ 2, got ${minLines}`);
  const files = (dirs.length ? dirs : ["packages"]).flatMap(sourceFiles).map((path) => ({ path: relative(".", path), text: readFileSync(path, "utf8") }));
  const repeats = findRepeats(files, minLines);
  for (const r of repeats) console.log(`${r.a.path}:${r.a.from}-${r.a.to} = ${r.b.path}:${r.b.from}-${r.b.to} (${r.lines} lines)`);
  console.log(repeats.length === 0 ? `no block of ${minLines} or more lines is repeated (${files.length} files)` : `${repeats.length} repeated block(s) of ${minLines} or more lines: say each once`);
  return repeats.length === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(main(process.argv.slice(2)));
