/**
 * The bundle budget: the main entries of the four runtime packages bundled together (every export
 * kept, as namespaces), minified and gzipped, must stay within the budget below. Prints each
 * package's own size (bundled with what it imports) and each extra entry point's added cost
 * (`@zerograd/nn/onnx`, `@zerograd/tensor/node`, `@zerograd/nn/node`: bundled with the four main
 * entries, minus the four alone), so nothing is left out. Exits 1 above the budget.
 *
 *   pnpm size                    (CI runs it)
 *   pnpm size --files            also the bytes of each source file in the bundle (esbuild's metafile)
 */
import { analyzeMetafile, build, type Metafile } from "esbuild";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

/**
 * 75 kB: the main entries measure 73.0 kB. The goal below was set at 45 kB measured; since then
 * the WebAssembly kernels (their bytes ship inside the package and compile synchronously),
 * the sequence layers and the checks before training have been added. The kernels' bytes now add
 * 7.9 kB to the gzipped bundle: 14.4 kB of WebAssembly (compiled without automatic unrolling and
 * vectorization: 21.3 kB before) written one character per byte (as base64 they added 14.2 kB).
 * ONNX export lives behind `@zerograd/nn/onnx` (−6.3 kB). What the rest costs, minified: the
 * training loop 36 kB, the tensor core 28 kB, nn's layers and models 22 kB (the sequence layers
 * another 18 kB), autograd 20 kB, losses 19 kB, serialization 15 kB, the JS kernels 12 kB.
 */
export const BUDGET_BYTES = 75_000;
/** The goal set when the budget was first written, printed beside it. */
export const GOAL_BYTES = 60_000;
export const PACKAGES = ["tensor", "autograd", "losses", "nn"] as const;
/** The entry points that are not in the budget, each printed as what it adds to the four main ones. */
export const EXTRA_ENTRIES = ["@zerograd/nn/onnx", "@zerograd/tensor/node", "@zerograd/nn/node"] as const;
const root = fileURLToPath(new URL("..", import.meta.url));

export interface BundleSize {
  /** The minified bundle. */
  bytes: Uint8Array;
  minified: number;
  gzipped: number;
  metafile: Metafile;
}

/** Minified and gzipped (level 9) size of an entry written as source text; Node's own modules stay external. */
export async function gzippedSize(contents: string): Promise<BundleSize> {
  const result = await build({
    stdin: { contents, resolveDir: `${root}examples`, loader: "ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["@zerograd/source"],
    external: ["node:*"],
    metafile: true,
    write: false,
    logLevel: "error",
  });
  const bytes = result.outputFiles[0]!.contents;
  return { bytes, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, metafile: result.metafile };
}

/** The four packages' main entries, as namespaces: `export * as tensor from "@zerograd/tensor"; …`. */
export const mainEntries = (): string => PACKAGES.map((p) => `export * as ${p} from "@zerograd/${p}";`).join("\n");
const namespaceOf = (entry: string) => entry.replace(/^@zerograd\//, "").replace(/\W/g, "_");

/** The main entries and one extra entry point, each as a namespace. */
export const withExtra = (entry: string): string => `${mainEntries()}\nexport * as ${namespaceOf(entry)} from "${entry}";`;

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const sizes = (s: { minified: number; gzipped: number }, sign = "") => `${(sign + kB(s.minified)).padStart(9)} minified, ${(sign + kB(s.gzipped)).padStart(8)} gzipped`;

async function main(): Promise<number> {
  for (const p of PACKAGES) console.log(`bundle: @zerograd/${p.padEnd(14)} ${sizes(await gzippedSize(`export * as ${p} from "@zerograd/${p}";`))} (with what it imports)`);
  const all = await gzippedSize(mainEntries());
  const within = all.gzipped <= BUDGET_BYTES;
  const goal = all.gzipped <= GOAL_BYTES ? "met" : `${kB(all.gzipped - GOAL_BYTES)} to go`;
  console.log(`bundle: the four main entries  ${sizes(all)} — budget ${kB(BUDGET_BYTES)}: ${within ? "within" : "OVER"}; goal ${kB(GOAL_BYTES)}: ${goal}`);
  for (const entry of EXTRA_ENTRIES) {
    const s = await gzippedSize(withExtra(entry));
    console.log(`bundle: ${entry.padEnd(24)} ${sizes({ minified: s.minified - all.minified, gzipped: s.gzipped - all.gzipped }, "+")} (added to the four, not in the budget)`);
  }
  if (process.argv.includes("--files")) console.log(await analyzeMetafile(all.metafile));
  return within ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
