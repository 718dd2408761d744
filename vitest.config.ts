import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@zerograd/tensor": src("tensor"),
      "@zerograd/autograd": src("autograd"),
      "@zerograd/losses": src("losses"),
      "@zerograd/nn": src("nn"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts", "benchmarks/test/**/*.test.ts", "scripts/test/**/*.test.ts"],
    testTimeout: 60_000,
    pool: "forks",
  },
});
