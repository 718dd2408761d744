import { inverseLossWeights } from "@zerograd/losses";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { expectClose } from "./helpers.js";

describe("inverseLossWeights", () => {
  test("weights ∝ base / loss, normalised to sum 1", () => {
    expectClose(inverseLossWeights([0.5, 2]), [0.8, 0.2]);
    expectClose(inverseLossWeights([0.5, 2], [1, 3]), [4 / 7, 3 / 7]);
    expectClose(inverseLossWeights([3]), [1]);
  });

  test("documented edge cases: zero, NaN and Infinity losses never give NaN", () => {
    // a zero loss is weighted like the smallest positive loss; non-finite losses get 0
    expectClose(inverseLossWeights([0, 1, NaN]), [0.5, 0.5, 0]);
    expectClose(inverseLossWeights([0, 2, 4]), [2 / 5, 2 / 5, 1 / 5]);
    expectClose(inverseLossWeights([Infinity, 1]), [0, 1]);
    // nothing usable: the base weights, normalised
    expectClose(inverseLossWeights([0, 0], [1, 3]), [0.25, 0.75]);
    expectClose(inverseLossWeights([NaN, Infinity], [2, 2]), [0.5, 0.5]);
    // tiny losses do not overflow
    expectClose(inverseLossWeights([1e-320, 1e-300]), [1 / (1 + 1e-20), 1e-20 / (1 + 1e-20)]);
  });

  test("invalid input throws", () => {
    expect(() => inverseLossWeights([])).toThrow(RangeError);
    expect(() => inverseLossWeights([1, -0.5])).toThrow(/losses must be ≥ 0/);
    expect(() => inverseLossWeights([1, 2], [1])).toThrow(/2 losses but 1 base weights/);
    expect(() => inverseLossWeights([1, 2], [0, 0])).toThrow(/sum to 0/);
    expect(() => inverseLossWeights([1, 2], [1, NaN])).toThrow(RangeError);
  });

  test("property: finite, non-negative, sums to 1, and w·loss is equal across groups with positive finite losses", () => {
    const loss = fc.oneof(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.constantFrom(0, NaN, Infinity));
    fc.assert(
      fc.property(fc.array(fc.tuple(loss, fc.double({ min: 0.01, max: 10, noNaN: true })), { minLength: 1, maxLength: 6 }), (pairs) => {
        const losses = pairs.map(([l]) => l), base = pairs.map(([, b]) => b);
        const w = inverseLossWeights(losses, base);
        expect(w.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
        expectClose(w.reduce((s, v) => s + v, 0), 1, 1e-12);
        const usable = losses.map((l, i) => i).filter((i) => losses[i]! > 0 && losses[i]! < Infinity);
        if (usable.length === losses.length) {
          const scaled = usable.map((i) => (w[i]! * losses[i]!) / base[i]!);
          for (const s of scaled) expectClose(s, scaled[0]!, 1e-9);
        }
      }),
      { seed: 77, numRuns: 300 },
    );
  });
});
