/**
 * The WebAssembly kernels against their plain-JS reference (the readable definition), on random
 * shapes with odd sizes and tails past the micro-tile, and on strided, transposed, offset and
 * broadcast views. Skipped where the runtime has no WebAssembly SIMD (the JS set is used there).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { Random, jsKernels, wasmKernels, wasmSimdSupported } from "@zerograd/tensor";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";
import { KERNELS_WASM } from "../src/kernels/wasm/module.generated.js";
import { bytesOf } from "../src/kernels/wasm/runtime.js";

const hasWasm = wasmSimdSupported();

type Layout = "rowMajor" | "transposed" | "strided" | "broadcastRows";
interface View { data: Float32Array; off: number; rs: number; cs: number }

/** A rows×cols view of fresh seeded data laid out as asked; element (r, c) is the same value in every layout. */
function makeView(rows: number, cols: number, layout: Layout, seed: number): View {
  const rng = new Random(seed);
  const value = (r: number, c: number) => (layout === "broadcastRows" ? 0 : r) * 7919 + c; // key for a seeded value
  const values = new Map<number, number>();
  const at = (r: number, c: number) => {
    const key = value(r, c);
    if (!values.has(key)) values.set(key, rng.uniform(-2, 2));
    return values.get(key)!;
  };
  const off = 3; // never start at 0, so offsets are exercised
  if (layout === "rowMajor") return fill({ data: new Float32Array(off + rows * cols), off, rs: cols, cs: 1 }, rows, cols, at);
  if (layout === "transposed") return fill({ data: new Float32Array(off + rows * cols), off, rs: 1, cs: rows }, rows, cols, at);
  if (layout === "strided") return fill({ data: new Float32Array(off + rows * cols * 6), off, rs: 3 * cols + 1, cs: 2 }, rows, cols, at);
  return fill({ data: new Float32Array(off + cols), off, rs: 0, cs: 1 }, rows, cols, at);
}

function fill(v: View, rows: number, cols: number, at: (r: number, c: number) => number): View {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) v.data[v.off + r * v.rs + c * v.cs] = at(r, c);
  return v;
}

const arbLayout = fc.constantFrom<Layout>("rowMajor", "transposed", "strided", "broadcastRows");

describe.skipIf(!hasWasm)("WebAssembly kernels against the JS reference", () => {
  test("matmul: random shapes (odd sizes, tails, deep k) and layouts; float32 sums within rounding", () => {
    const wasmMatmul = wasmKernels.matmul!;
    const dims = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 40, max: 300 }));
    fc.assert(
      fc.property(dims, dims, dims, arbLayout, arbLayout, fc.integer({ min: 0, max: 1e6 }), (M, K, N, la, lb, seed) => {
        const A = makeView(M, K, la, seed), B = makeView(K, N, lb, seed + 1);
        const o = 5, expected = new Float32Array(o + M * N).fill(9), actual = new Float32Array(o + M * N).fill(9);
        jsKernels.matmul(expected, o, A, B, M, K, N);
        wasmMatmul(actual, o, A, B, M, K, N);
        for (let i = 0; i < o; i++) expect(actual[i]).toBe(9); // nothing written before the offset
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let scale = 0; // Σ|a||b| bounds the float32 rounding of the sum
            for (let k = 0; k < K; k++) scale += Math.abs(A.data[A.off + i * A.rs + k * A.cs]! * B.data[B.off + k * B.rs + j * B.cs]!);
            const d = Math.abs(actual[o + i * N + j]! - expected[o + i * N + j]!);
            if (!(d <= 1e-6 * K * scale + 1e-30)) throw new Error(`(${i},${j}) of ${M}×${K}·${K}×${N} ${la}/${lb}: ${actual[o + i * N + j]} vs ${expected[o + i * N + j]}`);
          }
        }
      }),
      propertyOptions(60),
    );
  });

  test("matmul: float64 operands take the JS path and agree bit for bit", () => {
    const a = new Float64Array(40 * 30).map((_, i) => Math.sin(i)), b = new Float64Array(30 * 50).map((_, i) => Math.cos(i));
    const expected = new Float64Array(40 * 50), actual = new Float64Array(40 * 50);
    const A = { data: a, off: 0, rs: 30, cs: 1 }, B = { data: b, off: 0, rs: 50, cs: 1 };
    jsKernels.matmul(expected, 0, A, B, 40, 30, 50);
    wasmKernels.matmul!(actual, 0, A, B, 40, 30, 50);
    expect(actual).toEqual(expected);
  });

  test("a product larger than the reserved memory grows it and stays right", () => {
    const n = 1900; // five buffers of n² floats (operands, packed operands, product) ≈ 72 MB: beyond the 64 MiB reserve
    const a = T.ones([n, n]), b = T.full([n, n], 0.5);
    const c = T.matmul(a, b);
    expect(c.data[0]).toBe(950);
    expect(c.data[n * n - 1]).toBe(950);
  });
});

describe("kernel selection", () => {
  test("useKernels('js') and 'wasm' switch sets by name and return the previous set", () => {
    const previous = T.useKernels("js");
    try {
      expect(T.kernels().name).toBe("js");
      expect(T.kernels().matmul).toBe(jsKernels.matmul);
      if (hasWasm) {
        T.useKernels("wasm");
        expect(T.kernels().name).toBe("wasm");
        expect(T.kernels().matmul).toBe(wasmKernels.matmul);
        expect(T.kernels().reduce).toBe(jsKernels.reduce); // entries it does not replace stay JS
        expect(T.kernels().unary.log).toBe(jsKernels.unary.log);
      } else {
        expect(() => T.useKernels("wasm")).toThrow(/SIMD128/);
      }
      T.useKernels("auto");
      expect(T.kernels().name).toBe(hasWasm ? "wasm" : "js");
    } finally {
      T.useKernels(previous);
    }
  });

  test("the module's text decodes to the bytes of a valid module; a character above 255 is refused", () => {
    const bytes = bytesOf(KERNELS_WASM);
    expect(bytes.length).toBe(KERNELS_WASM.length);
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]); // "\0asm"
    if (hasWasm) expect((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(bytes)).toBe(true);
    expect(() => bytesOf("\u0000as\u20ACm")).toThrow(/U\+20AC at 3, not a byte/);
  });

  test("an unknown set name is refused before anything changes", () => {
    const before = T.kernels();
    expect(() => T.useKernels("gpu" as "js")).toThrow(/useKernels: unknown kernel set 'gpu'/);
    expect(T.kernels()).toBe(before);
  });

  test("the selected set computes the same product as the JS one", () => {
    const a = T.reshape(T.arange(0, 1, 1 / 600), [20, 30]), b = T.transpose(T.reshape(T.arange(0, 1, 1 / 1200), [40, 30]));
    const previous = T.useKernels("js");
    const expected = T.matmul(a, b);
    T.useKernels(previous);
    const actual = T.matmul(a, b);
    for (let i = 0; i < expected.size; i++) expect(actual.data[i]).toBeCloseTo(expected.data[i]!, 4);
  });
});
