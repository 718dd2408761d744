/**
 * The WebAssembly window, pooling and bias + activation kernels against their plain-JS reference:
 * random geometries (odd sizes, channel counts that leave a tail past a multiple of 4, strides,
 * dilations, padding, windows partly or wholly in the padding), values drawn from a few numbers
 * so that max-pool windows tie (and all-equal windows), with NaN, ±Infinity and −0 among them.
 * Every array is large enough to take the WebAssembly path. Skipped where the runtime has no
 * WebAssembly SIMD (the JS set is used there).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Random, type Window2D, jsKernels, wasmKernels, wasmSimdSupported } from "@zerograd/tensor";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";

const hasWasm = wasmSimdSupported();
const wasm = wasmKernels as Required<typeof wasmKernels>;

/**
 * A geometry whose image holds at least 256 elements (the batch grows until it does); a large
 * batch is copied through the module's memory in several blocks.
 */
const arbWindow = fc
  .record({
    h: fc.integer({ min: 1, max: 13 }), w: fc.integer({ min: 1, max: 13 }), c: fc.integer({ min: 1, max: 11 }),
    kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }), sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
    dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
    pt: fc.integer({ min: 0, max: 3 }), pb: fc.integer({ min: 0, max: 3 }), pl: fc.integer({ min: 0, max: 3 }), pr: fc.integer({ min: 0, max: 3 }),
    extraBatch: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 20, max: 40 })), // large batches span several blocks
  })
  .map(({ h, w, c, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, extraBatch }): Window2D | null => {
    const oh = Math.floor((h + pt + pb - (kh - 1) * dh - 1) / sh) + 1, ow = Math.floor((w + pl + pr - (kw - 1) * dw - 1) / sw) + 1;
    const n = Math.ceil(256 / (h * w * c)) + extraBatch;
    return oh > 0 && ow > 0 ? { n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } : null;
  })
  .filter((g): g is Window2D => g !== null);

const SPECIAL = [NaN, Infinity, -Infinity, -0];

/** Seeded values from a few numbers (ties), or uniform; a few specials (NaN, ±Infinity, −0) when asked. */
function values(length: number, seed: number, ties: boolean, specials: boolean): Float32Array {
  const rng = new Random(seed), v = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = rng.uniform(0, 1);
    v[i] = specials && u < 0.05 ? SPECIAL[i % SPECIAL.length]! : ties ? Math.floor(rng.uniform(-2, 2)) : rng.uniform(-3, 3);
  }
  return v;
}

/** Element by element with Object.is: NaN equals NaN, −0 differs from +0. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const imageSize = (g: Window2D) => g.n * g.h * g.w * g.c;
const colsSize = (g: Window2D) => g.n * g.oh * g.ow * g.kh * g.kw * g.c;
const describeWindow = (g: Window2D) => JSON.stringify(g);

describe.skipIf(!hasWasm)("WebAssembly window, pooling and bias kernels against the JS reference", () => {
  test("im2col and col2im equal the JS kernels exactly (same values, same order of sums)", () => {
    fc.assert(
      fc.property(arbWindow, fc.integer({ min: 0, max: 1e6 }), (g, seed) => {
        const image = values(imageSize(g), seed, false, true);
        const expected = new Float32Array(colsSize(g)).fill(7), actual = new Float32Array(colsSize(g)).fill(7);
        jsKernels.im2col(expected, image, g);
        wasm.im2col(actual, image, g);
        expectSame(actual, expected, `im2col ${describeWindow(g)}`);
        const cols = values(colsSize(g), seed + 1, false, false);
        const back = new Float32Array(imageSize(g)).fill(7), backWasm = new Float32Array(imageSize(g)).fill(7);
        jsKernels.col2im(back, cols, g);
        wasm.col2im(backWasm, cols, g);
        expectSame(backWasm, back, `col2im ${describeWindow(g)}`);
      }),
      propertyOptions(150),
    );
  });

  test("max pooling: the same maxima and the same argmax (ties, NaN, windows in the padding), and its adjoint", () => {
    fc.assert(
      fc.property(arbWindow, fc.integer({ min: 0, max: 1e6 }), fc.boolean(), fc.boolean(), (g, seed, ties, specials) => {
        const image = values(imageSize(g), seed, ties, specials), size = g.n * g.oh * g.ow * g.c;
        const out = [new Float32Array(size), new Float32Array(size)], argmax = [new Int32Array(size), new Int32Array(size)];
        jsKernels.maxPool(out[0]!, argmax[0]!, image, g);
        wasm.maxPool(out[1]!, argmax[1]!, image, g);
        expectSame(argmax[1]!, argmax[0]!, `argmax ${describeWindow(g)}`);
        expectSame(out[1]!, out[0]!, `max ${describeWindow(g)}`);
        const dOut = values(size, seed + 2, true, false), dImage = [new Float32Array(imageSize(g)).fill(7), new Float32Array(imageSize(g)).fill(7)];
        jsKernels.maxPoolAdjoint(dImage[0]!, dOut, argmax[0]!);
        wasm.maxPoolAdjoint(dImage[1]!, dOut, argmax[0]!);
        expectSame(dImage[1]!, dImage[0]!, `maxPoolAdjoint ${describeWindow(g)}`);
      }),
      propertyOptions(150),
    );
  });

  test("all-equal windows: the first tap wins in both kernels", () => {
    const g: Window2D = { n: 2, h: 9, w: 9, c: 6, kh: 3, kw: 2, sh: 2, sw: 1, dh: 1, dw: 2, pt: 1, pl: 1, oh: 5, ow: 8 };
    const image = new Float32Array(imageSize(g)).fill(0.5), size = g.n * g.oh * g.ow * g.c;
    const argmax = [new Int32Array(size), new Int32Array(size)];
    jsKernels.maxPool(new Float32Array(size), argmax[0]!, image, g);
    wasm.maxPool(new Float32Array(size), argmax[1]!, image, g);
    expectSame(argmax[1]!, argmax[0]!, "argmax");
    // output (0, 0, 0), channel 0: the window's first row is padding, its first tap inside is pixel (0, 1)
    expect(argmax[1]![0]).toBe(1 * g.c);
  });

  test("bias + activation and its gradient (ReLU or identity): exactly the JS kernels' values and bias sums", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1000, max: 3000 })), fc.integer({ min: 1, max: 13 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1e6 }), (rows, C, relu, specials, seed) => {
        const n = Math.max(rows, Math.ceil(256 / C)) * C; // 1000 rows and more span several blocks
        const y = values(n, seed, false, specials), b = values(C, seed + 1, false, false), g = values(n, seed + 2, false, specials);
        const out = [new Float32Array(n), new Float32Array(n)];
        jsKernels.biasActivation(out[0]!, y, b, relu);
        wasm.biasActivation(out[1]!, y, b, relu);
        expectSame(out[1]!, out[0]!, `biasActivation ${n / C}×${C} relu=${relu}`);
        const gy = [new Float32Array(n), new Float32Array(n)], sums = [new Float64Array(C).fill(7), new Float64Array(C).fill(7)];
        jsKernels.biasActivationGrad(gy[0]!, sums[0]!, g, out[0]!, relu);
        wasm.biasActivationGrad(gy[1]!, sums[1]!, g, out[0]!, relu);
        expectSame(gy[1]!, gy[0]!, `biasActivationGrad gy ${n / C}×${C} relu=${relu}`);
        expectSame(sums[1]!, sums[0]!, `biasActivationGrad sums ${n / C}×${C} relu=${relu}`);
      }),
      propertyOptions(150),
    );
  });

  test("float64 arrays take the JS kernels", () => {
    const g: Window2D = { n: 3, h: 8, w: 8, c: 5, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, pt: 0, pl: 0, oh: 4, ow: 4 };
    const image = Float64Array.from(values(imageSize(g), 3, false, false)), size = g.n * g.oh * g.ow * g.c;
    const out = [new Float64Array(size), new Float64Array(size)], argmax = [new Int32Array(size), new Int32Array(size)];
    jsKernels.maxPool(out[0]!, argmax[0]!, image, g);
    wasm.maxPool(out[1]!, argmax[1]!, image, g);
    expectSame(out[1]!, out[0]!, "max");
    const y = Float64Array.from(values(400, 4, false, false)).map((v) => v / 3), b = new Float64Array([0.1, 0.2, 0.3, 0.4]);
    const act = [new Float64Array(400), new Float64Array(400)];
    jsKernels.biasActivation(act[0]!, y, b, true);
    wasm.biasActivation(act[1]!, y, b, true);
    expectSame(act[1]!, act[0]!, "biasActivation");
  });
});
