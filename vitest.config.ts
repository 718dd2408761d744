import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests read the TypeScript sources directly: no build before testing.
    alias: [
      { find: /^@zerograd\/nn\/node$/, replacement: source("nn/src/node.ts") },
      { find: /^@zerograd\/nn\/onnx$/, replacement: source("nn/src/onnx/index.ts") },
      { find: /^@zerograd\/tensor\/node$/, replacement: source("tensor/src/node.ts") },
      ...["tensor", "autograd", "losses", "nn"].map((p) => ({ find: new RegExp(`^@zerograd/${p}$`), replacement: source(`${p}/src/index.ts`) })),
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts", "benchmarks/test/**/*.test.ts", "scripts/test/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
  },
});
