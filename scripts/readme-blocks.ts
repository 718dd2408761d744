/**
 * Code blocks of the project's READMEs, for the test that runs them (examples/test/readme.test.ts).
 * A ```ts block is a program: it is written to a file, type-checked strictly and run. A ```sh
 * block's `pnpm NAME` commands must name a script that exists. Blocks without a language are
 * sample output and are not run.
 *
 *   tsx scripts/readme-blocks.ts      lists the blocks it finds
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

export interface CodeBlock {
  /** The README, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
}

/** The READMEs whose blocks are checked: the root's, each package's, the data's, the benchmarks', the web page's. */
export function readmeFiles(): string[] {
  const packages = readdirSync(join(root, "packages")).map((p) => `packages/${p}/README.md`);
  return ["README.md", ...packages, "data/README.md", "benchmarks/README.md", "examples/web/README.md"].filter((f) => existsSync(join(root, f)));
}

export function codeBlocks(file: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, k) => k > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block is never closed`);
    blocks.push({ file, line: i + 1, lang: open[1]!, code: lines.slice(i + 1, end).join("\n") + "\n" });
    i = end;
  }
  return blocks;
}

export function allBlocks(): CodeBlock[] {
  return readmeFiles().flatMap((f) => codeBlocks(f, readFileSync(join(root, f), "utf8")));
}

/**
 * A ts block as a module file placed in `dir`: relative imports (written from the README's folder)
 * are re-pointed from `dir`, and `export {}` makes it a module (top-level await).
 */
export function asModule(block: CodeBlock, dir: string): string {
  const from = dirname(join(root, block.file));
  const code = block.code.replace(/(from\s+["'])(\.{1,2}\/[^"']+)(["'])/g, (_, a: string, spec: string, b: string) => {
    const target = relative(dir, resolve(from, spec));
    return `${a}${target.startsWith(".") ? target : `./${target}`}${b}`;
  });
  return `${code}\nexport {};\n`;
}

/** A file name for a block: README path and line, e.g. "packages-nn-README-md-L9.ts". */
export const blockFileName = (block: CodeBlock) => `${block.file.replace(/[^A-Za-z0-9]+/g, "-")}-L${block.line}.ts`;

/** `pnpm NAME` (or `npx -y pnpm@… NAME`) commands of a sh block, NAME a word. */
export function pnpmCommands(block: CodeBlock): string[] {
  return [...block.code.matchAll(/(?:^|&&|\s)(?:npx -y )?pnpm(?:@[\d.]+)?\s+([a-z][\w:-]*)/gm)].map((m) => m[1]!);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const b of allBlocks()) console.log(`${b.file}:${b.line} ${b.lang || "(output)"} ${b.code.split("\n").length - 1} lines`);
}
