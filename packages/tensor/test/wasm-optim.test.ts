/**
 * The WebAssembly optimizer kernels against the plain-JS reference kernels: Adam/AdamW updates of
 * random sizes (odd, tails past a multiple of 4, one crossing a chunk), gradients contiguous,
 * transposed (as Dense's), offset into a larger array, with padded rows, strided with gaps or with negative strides, with and without
 * weight decay (L2 and decoupled), at step 1 from zero moments and at later steps from moments
 * that earlier steps produced; and the non-finite scan over the same views, with NaN and
 * ±Infinity inside the view and in the gaps outside it. Skipped where the runtime has no
 * WebAssembly SIMD.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type AdamArgs, Random, jsKernels, wasmKernels, wasmSimdSupported } from "@zerograd/tensor";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";

type Layout = "contiguous" | "transposed" | "offset" | "padded" | "gaps" | "reversed";

/** A rows×cols gradient laid out as `layout` (element (r, c) holds value(r, c)); returns its view. */
function layoutView(rows: number, cols: number, layout: Layout, value: (r: number, c: number) => number, gap = 0): AdamArgs["g"] {
  const [rs, cs, off, size] =
    layout === "contiguous" ? [cols, 1, 0, rows * cols]
    : layout === "transposed" ? [1, rows, 0, rows * cols]
    : layout === "offset" ? [cols, 1, 5, rows * cols + 9]
    : layout === "padded" ? [cols + 3, 1, 2, rows * (cols + 3) + 4] // three elements of padding after each row
    : layout === "reversed" ? [-1, -rows, rows * cols - 1, rows * cols] // a transposed view read backwards (negative strides)
    : [2 * cols + 3, 2, 1, rows * (2 * cols + 3) + 2]; // every other element of each row, rows 3 apart
  const data = new Float32Array(size).fill(gap);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[off + r * rs + c * cs] = value(r, c);
  return { data, off, rs, cs };
}

interface AdamCase {
  rows: number;
  cols: number;
  layout: Layout;
  seed: number;
  /** Steps taken (by the JS kernel) before the one compared: 0 is step 1 from zero moments. */
  before: number;
  /** Added to the update count, so that the bias corrections are those of a late step. */
  late: number;
  decay: "none" | "l2" | "decoupled";
  lr: number;
  gradScale: number;
}

/** The arguments of the compared step, and the state (p, m, v) it starts from. */
function adamCase(k: AdamCase): AdamArgs {
  const rng = new Random(k.seed), n = k.rows * k.cols;
  const [beta1, beta2, eps, wd] = [0.9, 0.999, 1e-8, 0.05];
  const grad = () => layoutView(k.rows, k.cols, k.layout, () => rng.normal() * k.gradScale, NaN);
  const args = (t: number, g: AdamArgs["g"], p: Float32Array, m: Float32Array, v: Float32Array): AdamArgs => ({
    p, m, v, g, rows: k.rows, cols: k.cols, lr: k.lr, beta1, beta2, eps,
    l2: k.decay === "l2" ? wd : 0, shrink: k.decay === "decoupled" ? 1 - k.lr * wd : 1, c1: 1 - beta1 ** t, c2: 1 - beta2 ** t,
  });
  const p = Float32Array.from({ length: n }, () => rng.normal()), m = new Float32Array(n), v = new Float32Array(n);
  for (let t = 1; t <= k.before; t++) jsKernels.adam(args(t + k.late, grad(), p, m, v));
  return args(k.before + 1 + k.late, grad(), p, m, v);
}

const copy = (a: AdamArgs): AdamArgs => ({ ...a, p: a.p.slice(), m: a.m.slice(), v: a.v.slice() });

/** Where the WebAssembly step (float32 arithmetic) strays from the JS one (float64, rounded on store) past float32 tolerance. */
function mismatch(start: AdamArgs, js: AdamArgs, wasm: AdamArgs): string | null {
  const { beta1, c1, c2, eps, lr } = start;
  // Each tolerance is float32's rounding relative to the size of the terms summed (g + λ·p, then m and v).
  for (let k = 0, r = 0, c = 0; k < start.p.length; k++, c = c + 1 === start.cols ? 0 : c + 1, r += c === 0 ? 1 : 0) {
    const g = Math.abs(start.g.data[start.g.off + r * start.g.rs + c * start.g.cs]!) + start.l2 * Math.abs(start.p[k]!);
    const mTol = 1e-6 * (beta1 * Math.abs(start.m[k]!) + (1 - beta1) * g) + 1e-37;
    const vTol = 1e-6 * (start.beta2 * start.v[k]! + (1 - start.beta2) * g * g) + 1e-37; // g + λ·p may cancel too
    // The update lr·m̂/(√v̂ + ε) to 1e-5 of its size, plus what m's own tolerance moves it by (m may cancel to far below its terms).
    const pTol = 2e-7 * Math.abs(js.p[k]!) + (lr * (1e-5 * Math.abs(js.m[k]!) + 2 * mTol)) / c1 / (Math.sqrt(js.v[k]! / c2) + eps) + 1e-37;
    if (!(Math.abs(wasm.m[k]! - js.m[k]!) <= mTol)) return `m at ${k}: ${wasm.m[k]} vs ${js.m[k]}`;
    if (!(Math.abs(wasm.v[k]! - js.v[k]!) <= vTol)) return `v at ${k}: ${wasm.v[k]} vs ${js.v[k]}`;
    if (!(Math.abs(wasm.p[k]! - js.p[k]!) <= pTol)) return `p at ${k}: ${wasm.p[k]} vs ${js.p[k]} (from ${start.p[k]})`;
  }
  return null;
}

describe.skipIf(!wasmSimdSupported())("WebAssembly optimizer kernels against the JS kernels", () => {
  const size = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 60, max: 130 }));
  const arbAdam = fc.record({
    rows: size,
    cols: size,
    layout: fc.constantFrom<Layout>("contiguous", "transposed", "offset", "padded", "gaps", "reversed"),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    before: fc.integer({ min: 0, max: 3 }),
    late: fc.constantFrom(0, 0, 50, 5000),
    decay: fc.constantFrom<AdamCase["decay"]>("none", "l2", "decoupled"),
    lr: fc.constantFrom(1e-3, 0.1),
    gradScale: fc.constantFrom(1e-7, 1, 1000),
  });

  test("property: one Adam/AdamW step gives p, m and v within float32 tolerance of the JS kernel", () => {
    fc.assert(
      fc.property(arbAdam, (k) => {
        const start = adamCase(k), js = copy(start), wasm = copy(start);
        jsKernels.adam(js);
        wasmKernels.adam!(wasm);
        const info = JSON.stringify(k);
        expect(mismatch(start, js, wasm), info).toBeNull();
        expect(wasm.p, info).not.toEqual(start.p); // it did update
      }),
      propertyOptions(80),
    );
  });

  test.each<[Layout, number, number]>([["contiguous", 1, 3 * 16384 + 7], ["transposed", 300, 301], ["gaps", 2, 40000]])(
    "%s %i×%i: several chunks, each chunk's tail included",
    (layout, rows, cols) => {
      const k: AdamCase = { rows, cols, layout, seed: 11, before: 2, late: 0, decay: "l2", lr: 0.01, gradScale: 1 };
      const start = adamCase(k), js = copy(start), wasm = copy(start);
      jsKernels.adam(js);
      wasmKernels.adam!(wasm);
      expect(mismatch(start, js, wasm)).toBeNull();
    },
  );

  test("a wrong update does not pass the tolerance (no bias correction of m)", () => {
    const k: AdamCase = { rows: 20, cols: 30, layout: "transposed", seed: 3, before: 0, late: 0, decay: "none", lr: 0.01, gradScale: 1 };
    const start = adamCase(k), js = copy(start), wrong = copy(start);
    jsKernels.adam(js);
    wasmKernels.adam!({ ...wrong, c1: 1 });
    expect(mismatch(start, js, wrong)).toMatch(/^p at/);
  });

  test("an ε that float32 rounds to 0 (1e-46) or a step size it cannot hold: still the JS kernel's result, no 0/0", () => {
    for (const change of [{ eps: 1e-46 }, { lr: 1e39 }]) {
      const k: AdamCase = { rows: 17, cols: 31, layout: "transposed", seed: 5, before: 1, late: 0, decay: "none", lr: 0.01, gradScale: 1 };
      const start = { ...adamCase(k), ...change };
      start.g.data.fill(0, 0, 40); // a zero gradient over zero moments: m̂/(√v̂ + ε) is 0/ε
      start.m.fill(0, 0, 40);
      start.v.fill(0, 0, 40);
      const js = copy(start), wasm = copy(start);
      jsKernels.adam(js);
      wasmKernels.adam!(wasm);
      expect([wasm.p, wasm.m, wasm.v]).toEqual([js.p, js.m, js.v]);
    }
  });

  const arbScan = fc.record({
    rows: size,
    cols: size,
    layout: fc.constantFrom<Layout>("contiguous", "transposed", "offset", "padded", "gaps", "reversed"),
    bad: fc.option(fc.record({ at: fc.nat(), value: fc.constantFrom(NaN, Infinity, -Infinity) }), { nil: undefined }),
    gap: fc.constantFrom(0, NaN, Infinity),
  });

  test("property: the first non-finite element, in row-major order, as the JS kernel finds it (gaps outside the view ignored)", () => {
    fc.assert(
      fc.property(arbScan, ({ rows, cols, layout, bad, gap }) => {
        const n = rows * cols, badAt = bad && bad.at % n;
        const g = layoutView(rows, cols, layout, (r, c) => (r * cols + c === badAt ? bad!.value : (r - c) * 0.25), gap);
        const expected = jsKernels.firstNonFinite(g, rows, cols);
        expect(expected).toBe(badAt ?? -1);
        expect(wasmKernels.firstNonFinite!(g, rows, cols)).toBe(expected);
      }),
      propertyOptions(150),
    );
  });
});
