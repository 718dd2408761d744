/**
 * `pnpm demo:web`: bundles the page and its Worker with esbuild (TypeScript sources, no build
 * step beforehand), serves them with the embedded digits on 127.0.0.1 and prints the address.
 *
 *   pnpm demo:web              http://127.0.0.1:5173/
 *   pnpm demo:web --port 0     any free port
 *
 * The examples' data modules import a few node: functions for reading files; the page never
 * reads files (the Worker fetches the data), so the bundle gets stand-ins that throw if called.
 */
import { type Plugin, build } from "esbuild";
import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import { serve } from "./static-server.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const DIGITS = fileURLToPath(new URL("../../data/digits.csv.gz", import.meta.url));

/** node: modules in a browser bundle: every name the examples import, throwing when called (fileURLToPath passes the URL through). */
const nodeStandIns: Plugin = {
  name: "node-stand-ins",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: "node-stand-in" }));
    b.onLoad({ filter: /.*/, namespace: "node-stand-in" }, (args) => {
      const names = ["access", "readFile", "join", "closeSync", "mkdirSync", "openSync", "statSync", "unlinkSync", "basename", "dirname", "resolve", "parseArgs"];
      const contents = [
        `const missing = (name) => () => { throw new Error(name + " (${args.path}) is not available in a browser"); };`,
        ...names.map((n) => `export const ${n} = missing("${n}");`),
        `export const fileURLToPath = (url) => String(url);`,
      ].join("\n");
      return { contents, loader: "js" };
    });
  },
};

/** The page's and the Worker's bundles, as text. */
export async function bundleWeb(): Promise<{ page: string; worker: string }> {
  const result = await build({
    entryPoints: { page: `${here}src/page.ts`, worker: `${here}src/worker.ts` },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@zerograd/source"],
    plugins: [nodeStandIns],
    outdir: "/virtual",
    write: false,
    logLevel: "error",
  });
  const text = (name: string) => result.outputFiles.find((f) => f.path.endsWith(`/${name}.js`))!.text;
  return { page: text("page"), worker: text("worker") };
}

export async function startWebDemo(port = 5173): Promise<{ server: Server; url: string }> {
  const [{ page, worker }, html, digits] = await Promise.all([bundleWeb(), readFile(`${here}index.html`, "utf8"), readFile(DIGITS)]);
  return serve({ "/index.html": html, "/page.js": page, "/worker.js": worker, "/digits.csv.gz": new Uint8Array(digits) }, port);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf("--port");
  const port = at >= 0 ? Number(process.argv[at + 1]) : 5173;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`error: --port: must be a whole number from 0 to 65535, got ${JSON.stringify(process.argv[at + 1])}\n`);
    process.exit(2);
  }
  const { url } = await startWebDemo(port);
  process.stdout.write(`zerograd web demo: open ${url} (training runs in your browser; Ctrl-C stops the server)\n`);
}
