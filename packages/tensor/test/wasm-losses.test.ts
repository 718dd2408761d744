/**
 * The WebAssembly fused BCE-from-logits kernel against the plain-JS reference kernel: random sizes
 * (odd, tails past a multiple of 4, one crossing a chunk), masks with poison (NaN, ±Infinity,
 * 1e30) at masked positions, logits out to ±100, posWeight as a number or per element, label
 * smoothing, with and without per-element values. Skipped where the runtime has no WebAssembly SIMD.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type BceLogitsArgs, Random, jsKernels, wasmKernels, wasmSimdSupported } from "@zerograd/tensor";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";

const POISON = [NaN, Infinity, -Infinity, 1e30];

function bceCase(n: number, seed: number, perElementPw: boolean, alpha: number, withValues: boolean, uniform = false): BceLogitsArgs {
  const rng = new Random(seed);
  const x = new Float32Array(n), z = new Float32Array(n), mask = new Float32Array(n), c = new Float64Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    mask[i] = rng.uniform(0, 1) < 0.7 ? 1 : 0;
    const wide = rng.uniform(0, 1) < 0.1; // a few logits far out, where exp underflows
    x[i] = mask[i] ? rng.uniform(-1, 1) * (wide ? 100 : 6) : POISON[i % POISON.length]!;
    z[i] = mask[i] ? (rng.uniform(0, 1) < 0.3 ? rng.uniform(0, 1) : Math.round(rng.uniform(0, 1))) : POISON[(i + 1) % POISON.length]!;
    kept += mask[i]!;
  }
  for (let i = 0; i < n; i++) c[i] = mask[i]! / Math.max(1, kept);
  const pwAll = perElementPw ? Float32Array.from({ length: n }, () => rng.uniform(0.2, 3)) : null;
  const bits = (a: Float32Array) => new Uint32Array(a.buffer);
  return { x: bits(x), z: bits(z), mask, c: uniform ? 1 / Math.max(1, kept) : c, pwAll, pw: 1.5, alpha, grad: new Float32Array(n), values: withValues ? new Float32Array(n) : null };
}

/** A copy of the case with fresh outputs. */
const fresh = (a: BceLogitsArgs): BceLogitsArgs => ({ ...a, grad: new Float32Array(a.grad.length), values: a.values && new Float32Array(a.values.length) });

/**
 * |a − b| ≤ tol·(|b| + scale), scale = the largest |b|: float32 tolerance relative to the size of the
 * values involved ((1 − z)·s − pw·z·s̄ may cancel to far below its terms).
 */
function expectNear(a: Float32Array, b: Float32Array, tol: number, info: string): void {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tol * (Math.abs(b[i]!) + scale))) throw new Error(`${info}: at ${i} ${a[i]} vs ${b[i]}`);
  }
}

describe.skipIf(!wasmSimdSupported())("WebAssembly fused BCE from logits against the JS kernel", () => {
  const arbCase = fc.record({
    n: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 60, max: 70 }), fc.constant(65536 + 7)),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    perElementPw: fc.boolean(),
    alpha: fc.constantFrom(0, 0.1),
    withValues: fc.boolean(),
    uniform: fc.boolean(),
  });

  test("property: same total, values and gradients within float32 tolerance; exact zeros where masked", () => {
    fc.assert(
      fc.property(arbCase, ({ n, seed, perElementPw, alpha, withValues, uniform }) => {
        const base = bceCase(n, seed, perElementPw, alpha, withValues, uniform);
        const js = fresh(base), wasm = fresh(base);
        const totalJs = jsKernels.bceLogits(js), totalWasm = wasmKernels.bceLogits!(wasm);
        const info = `n=${n} seed=${seed} pw=${perElementPw} α=${alpha} uniform=${uniform}`;
        expect(Number.isFinite(totalWasm), info).toBe(true);
        expect(Math.abs(totalWasm - totalJs), info).toBeLessThanOrEqual(2e-6 * (Math.abs(totalJs) + 1e-6));
        expectNear(wasm.grad, js.grad, 2e-6, `${info} gradient`);
        if (withValues) expectNear(wasm.values!, js.values!, 2e-6, `${info} values`);
        for (let i = 0; i < n; i++) {
          if (base.mask[i]) continue;
          if (wasm.grad[i] !== 0 || (withValues && wasm.values![i] !== 0)) throw new Error(`${info}: masked element ${i} is ${wasm.grad[i]}`);
        }
      }),
      propertyOptions(60),
    );
  });

  test("all masked: total, values and gradients exactly 0", () => {
    const a = bceCase(131, 7, true, 0.1, true);
    a.mask.fill(0);
    (a.c as Float64Array).fill(0);
    expect(wasmKernels.bceLogits!(a)).toBe(0);
    expect(a.grad.every((g) => g === 0) && a.values!.every((v) => v === 0)).toBe(true);
  });

  test("a kept target outside [0, 1] (NaN included) makes the total NaN in both kernels; masked ones never do", () => {
    for (const bad of [1.5, -0.25, NaN, Infinity]) {
      for (const at of [0, 70, 65536 + 3]) {
        const a = bceCase(65536 + 7, 3, false, 0, false, true);
        a.mask[at] = 1;
        new Float32Array(a.z.buffer)[at] = bad;
        expect(jsKernels.bceLogits(fresh(a)), `js ${bad} at ${at}`).toBeNaN();
        expect(wasmKernels.bceLogits!(fresh(a)), `wasm ${bad} at ${at}`).toBeNaN();
        a.mask[at] = 0;
        expect(Number.isFinite(wasmKernels.bceLogits!(fresh(a))), `masked ${bad} at ${at}`).toBe(true);
      }
    }
  });
});
