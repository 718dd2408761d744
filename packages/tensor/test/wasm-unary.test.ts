/**
 * The WebAssembly exp, relu, softmax and log-softmax kernels against the plain-JS reference kernels
 * (Math.exp in double): random lengths and row sizes (tails past a multiple of 4, rows crossing a
 * staging chunk), values across the whole float32 range of exp (overflow, subnormal results,
 * underflow to 0), and rows holding NaN, ±Infinity or only −Infinity. Float32 tolerance.
 * Skipped where the runtime has no WebAssembly SIMD.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Random, jsKernels, wasmKernels, wasmSimdSupported } from "@zerograd/tensor";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";

const F32_EPS = 2 ** -23, MIN_SUBNORMAL = 2 ** -149;

/** Equal NaN/∞ positions; elsewhere |a − b| ≤ ulps·ε·(|b| + scale) + 2 subnormal steps. */
function firstMismatch(a: Float32Array, b: Float32Array, ulps: number, scale: number): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(y) || !Number.isFinite(y) ? !Object.is(x, y) : !(Math.abs(x - y) <= ulps * F32_EPS * (Math.abs(y) + scale) + 2 * MIN_SUBNORMAL)) return i;
  }
  return -1;
}

describe.skipIf(!wasmSimdSupported())("WebAssembly exp and softmax against the JS kernels", () => {
  test("property: exp over the whole range agrees within 2 ulps (∞, 0, NaN and subnormals included)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 1_000_000 }), (n, seed) => {
        const rng = new Random(seed), special = [NaN, Infinity, -Infinity, 0, -0, 88.7, 88.8, 89, -87.3, -103, -103.9, -104, -150];
        const x = Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? special[(i / 7) % special.length]! : rng.uniform(-110, 95)));
        const js = new Float32Array(n), wasm = new Float32Array(n);
        jsKernels.unary.exp(js, x);
        wasmKernels.unary!.exp(wasm, x);
        const at = firstMismatch(wasm, js, 2, 0);
        if (at >= 0) throw new Error(`exp(${x[at]}): wasm ${wasm[at]} vs js ${js[at]}`);
      }),
      propertyOptions(100),
    );
  });

  test("relu: the same bits as the JS kernel (−0 and NaNs with the sign bit set become +0, as there)", () => {
    const rng = new Random(11), n = 1000 + 3;
    const bits = Uint32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? [0x80000000, 0x7fc00000, 0xffc00000, 0x7f800000, 0xff800000][(i / 5) % 5]! : (rng.uniform(0, 1) * 2 ** 32) >>> 0));
    const x = new Float32Array(bits.buffer), js = new Float32Array(n), wasm = new Float32Array(n);
    jsKernels.unary.relu(js, x);
    wasmKernels.unary!.relu(wasm, x);
    expect(Array.from(new Uint32Array(wasm.buffer))).toEqual(Array.from(new Uint32Array(js.buffer)));
  });

  test("property: softmax and log-softmax rows agree within float32 tolerance; NaN rows stay NaN", () => {
    const arb = fc.record({ rows: fc.integer({ min: 1, max: 40 }), k: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constant(1000)), log: fc.boolean(), seed: fc.integer({ min: 0, max: 1_000_000 }) });
    fc.assert(
      fc.property(arb, ({ rows, k, log, seed }) => {
        const rng = new Random(seed), n = rows * k;
        const x = Float32Array.from({ length: n }, () => rng.normal() * 10 ** Math.round(rng.uniform(-1, 2)));
        if (rows > 3) { x[k] = NaN; x[2 * k] = Infinity; x.fill(-Infinity, 3 * k, 4 * k); } // rows 1–3: NaN, +∞, only −∞
        const js = new Float32Array(n), wasm = new Float32Array(n);
        jsKernels.softmax(js, x, rows, k, 1, log);
        wasmKernels.softmax!(wasm, x, rows, k, 1, log);
        const at = firstMismatch(wasm, js, 8, log ? 1 : 1 / k);
        if (at >= 0) throw new Error(`rows=${rows} k=${k} log=${log}: at ${at} (x ${x[at]}) wasm ${wasm[at]} vs js ${js[at]}`);
      }),
      propertyOptions(100),
    );
  });

  test("a softmax row sums to 1 within float32 rounding; an axis other than the last goes to the JS kernel unchanged", () => {
    const rng = new Random(5), k = 333, x = Float32Array.from({ length: 2 * k }, () => rng.normal() * 5), out = new Float32Array(2 * k);
    wasmKernels.softmax!(out, x, 2, k, 1, false);
    for (const row of [0, 1]) expect(Math.abs(out.subarray(row * k, row * k + k).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-5);
    const js = new Float32Array(2 * k), wasm = new Float32Array(2 * k);
    jsKernels.softmax(js, x, 1, 2, k, true);
    wasmKernels.softmax!(wasm, x, 1, 2, k, true);
    expect(Array.from(wasm)).toEqual(Array.from(js));
  });
});
