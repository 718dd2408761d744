/** The branch-free comparison and where kernels against their one-line definitions, on special values too. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { jsKernels } from "@zerograd/tensor";
import { propertyOptions } from "../../../tools/testing/arbitraries.js";

const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 3.5e38, -1e-40];
const arbValue = fc.oneof(fc.constantFrom(...special), fc.float({ noNaN: false }));
const arbRow = (min: number, max: number) => fc.array(arbValue, { minLength: min, maxLength: max }).map((v) => Float32Array.from(v));

describe("branch-free kernels", () => {
  test("where on float32 rows (long enough for the bit select, with strides and broadcasts) copies a or b exactly", () => {
    fc.assert(
      fc.property(arbRow(16, 80), arbRow(16, 80), fc.array(fc.constantFrom(0, 1, NaN, -0, 2), { minLength: 16, maxLength: 80 }), fc.constantFrom(0, 1), (a, b, cond, sb) => {
        const n = Math.min(a.length, b.length, cond.length), c = Float32Array.from(cond);
        const out = new Float32Array(n + 2).fill(7);
        jsKernels.where(out, 1, c, 0, 1, a, 0, 1, b, 0, sb, n);
        expect(out[0]).toBe(7);
        expect(out[n + 1]).toBe(7);
        for (let i = 0; i < n; i++) expect(Object.is(out[1 + i], c[i] !== 0 ? a[i] : b[i * sb])).toBe(true);
      }),
      propertyOptions(100),
    );
  });

  test("comparisons and logical ops write 0/1 as their definitions", () => {
    const defs: Record<string, (x: number, y: number) => boolean> = {
      eq: (x, y) => x === y, ne: (x, y) => x !== y, lt: (x, y) => x < y, le: (x, y) => x <= y, gt: (x, y) => x > y, ge: (x, y) => x >= y,
      logicalAnd: (x, y) => x !== 0 && y !== 0, logicalOr: (x, y) => x !== 0 || y !== 0, logicalXor: (x, y) => (x !== 0) !== (y !== 0),
    };
    fc.assert(
      fc.property(arbRow(1, 40), arbRow(1, 40), (a, b) => {
        const n = Math.min(a.length, b.length);
        for (const [op, def] of Object.entries(defs)) {
          const out = new Float32Array(n);
          jsKernels.binary[op as keyof typeof jsKernels.binary](out, 0, a, 0, 1, b, 0, 1, n);
          for (let i = 0; i < n; i++) expect([op, a[i], b[i], out[i]]).toEqual([op, a[i], b[i], def(a[i]!, b[i]!) ? 1 : 0]);
        }
      }),
      propertyOptions(100),
    );
  });
});
