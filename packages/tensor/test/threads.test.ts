/** Worker threads for the WebAssembly matmul (@zerograd/tensor/node): same products, bit for bit. */
import { afterAll, describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { disableThreads, enableThreads, threadCount } from "@zerograd/tensor/node";

const hasWasm = T.wasmSimdSupported() && typeof SharedArrayBuffer !== "undefined";

afterAll(async () => {
  await disableThreads();
});

function seeded(shape: number[], seed: number): T.NDArray {
  const rng = new T.Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new T.NDArray(data, shape);
}

describe.skipIf(!hasWasm)("threads", () => {
  test("a large product (odd sizes, a transposed operand) is split across threads and equals the one-thread result", async () => {
    const previous = T.useKernels("wasm");
    try {
      const a = seeded([301, 263], 1), b = T.transpose(seeded([285, 263], 2)); // 301·263·285 ≥ 256³ multiply-adds
      const one = T.matmul(a, b);
      await enableThreads(1);
      expect(threadCount()).toBe(1);
      const two = T.matmul(a, b);
      expect(two.shape).toEqual([301, 285]);
      expect(Array.from(two.data)).toEqual(Array.from(one.data)); // each row is computed by the same kernel
      await disableThreads();
      expect(threadCount()).toBe(0);
      expect(Array.from(T.matmul(a, b).data)).toEqual(Array.from(one.data));
    } finally {
      T.useKernels(previous);
    }
  });

  test("three workers, a transposed A over three slabs of k: each thread packs its own rows of A, bit for bit", async () => {
    const previous = T.useKernels("wasm");
    try {
      const a = T.transpose(seeded([600, 130], 3)), b = seeded([600, 217], 4); // 130·600·217 ≥ 256³; rows split 36/36/36/22
      const one = T.matmul(a, b);
      await enableThreads(3);
      expect(Array.from(T.matmul(a, b).data)).toEqual(Array.from(one.data));
      await disableThreads();
    } finally {
      T.useKernels(previous);
    }
  });

  test("a bad worker count is refused", async () => {
    await expect(enableThreads(0)).rejects.toThrow(/enableThreads: workers must be an integer in 1…64, got 0/);
    await expect(enableThreads(1.5)).rejects.toThrow(RangeError);
  });
});
