/**
 * The WebAssembly binary row kernels against the plain-JS reference kernels, bit for bit: random
 * lengths (tails past a multiple of 4, one past a staging chunk), each operand a contiguous row or
 * one broadcast value, offsets into larger arrays, and values with NaN, ±Infinity, ±0 and ties.
 * Skipped where the runtime has no WebAssembly SIMD.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Random, jsKernels, wasmKernels, wasmSimdSupported } from "@zerograd/tensor";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5];
const OPS = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"] as const;

function values(n: number, rng: Random): Float32Array {
  // a fifth special values, a fifth repeats of a few numbers (ties), the rest spread widely
  return Float32Array.from({ length: n }, (_, i) => {
    const u = rng.uniform(0, 1);
    if (u < 0.2) return SPECIAL[i % SPECIAL.length]!;
    if (u < 0.4) return Math.round(rng.uniform(-2, 2));
    return rng.normal() * 10 ** Math.round(rng.uniform(-3, 3));
  });
}

/** Same bits, NaN as NaN (payloads aside). */
function sameFloats(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe.skipIf(!wasmSimdSupported())("WebAssembly binary row kernels against the JS kernels", () => {
  const arbCase = fc.record({
    op: fc.constantFrom(...OPS),
    n: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constant((1 << 14) + 5)),
    sa: fc.constantFrom(0, 1),
    sb: fc.constantFrom(0, 1),
    offsets: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
  });

  test("property: every op, every operand layout: the same bits as the JS kernel", () => {
    fc.assert(
      fc.property(arbCase, ({ op, n, sa, sb, offsets: [o, ia, ib], seed }) => {
        const rng = new Random(seed);
        const a = values(ia + n, rng), b = values(ib + n, rng);
        const js = new Float32Array(o + n).fill(7), wasm = new Float32Array(o + n).fill(7);
        jsKernels.binary[op](js, o, a, ia, sa, b, ib, sb, n);
        wasmKernels.binary![op](wasm, o, a, ia, sa, b, ib, sb, n);
        const at = sameFloats(wasm, js);
        if (at >= 0) throw new Error(`${op} n=${n} sa=${sa} sb=${sb} o=${o}: at ${at} wasm ${wasm[at]} vs js ${js[at]} (a ${a[ia + (at - o) * sa]}, b ${b[ib + (at - o) * sb]})`);
      }),
      propertyOptions(200),
    );
  });

  test("in place (out is an operand) and float64 rows (handed to the JS kernel) give the JS result", () => {
    const rng = new Random(3), n = 101;
    const a = values(n, rng), b = values(n, rng), expected = new Float32Array(n);
    jsKernels.binary.mul(expected, 0, a, 0, 1, b, 0, 1, n);
    wasmKernels.binary!.mul(a, 0, a, 0, 1, b, 0, 1, n);
    expect(sameFloats(a, expected)).toBe(-1);
    const x = Float64Array.from(b), out = new Float64Array(n), ref = new Float64Array(n);
    wasmKernels.binary!.sub(out, 0, x, 0, 1, x, 0, 0, n);
    jsKernels.binary.sub(ref, 0, x, 0, 1, x, 0, 0, n);
    expect(Array.from(out)).toEqual(Array.from(ref));
  });
});
