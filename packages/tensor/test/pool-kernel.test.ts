import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { Random, jsKernels } from "@zerograd/tensor";

/**
 * The max-pool kernel against the plain reading of its definition (every window position, padding
 * never wins, the first maximum wins, a NaN wins over any number): random geometry with strides,
 * padding and dilation, ties (values on a coarse grid) and NaN.
 */
function reference(image: Float32Array, g: T.Window2D): { out: number[]; argmax: number[] } {
  const out: number[] = [], argmax: number[] = [];
  for (let b = 0; b < g.n; b++) for (let y = 0; y < g.oh; y++) for (let x = 0; x < g.ow; x++) for (let ch = 0; ch < g.c; ch++) {
    let best = -Infinity, at = -1;
    for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) {
      const iy = y * g.sh - g.pt + i * g.dh, ix = x * g.sw - g.pl + j * g.dw;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
      const src = ((b * g.h + iy) * g.w + ix) * g.c + ch, v = image[src]!;
      if (at === -1 || Number.isNaN(v) || (!Number.isNaN(best) && v > best)) { best = v; at = src; }
    }
    out.push(best);
    argmax.push(at);
  }
  return { out, argmax };
}

describe("maxPool kernel", () => {
  test("property: agrees with the definition (stride, padding, dilation, ties, NaN)", () => {
    const arb = fc.record({
      h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }), c: fc.integer({ min: 1, max: 3 }),
      k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), padding: fc.constantFrom<"same" | "valid">("same", "valid"), seed: fc.integer({ min: 0, max: 1e6 }),
    });
    let checked = 0;
    fc.assert(
      fc.property(arb, ({ h, w, c, k, s, d, padding, seed }) => {
        let g: T.Window2D;
        try {
          g = T.window2d("maxPool2d", [2, h, w, c], k[0], k[1], { strides: s, padding, dilations: d });
        } catch {
          return; // the window does not fit: refused before any kernel runs
        }
        const rng = new Random(seed), image = Float32Array.from({ length: 2 * h * w * c }, () => (rng.uniform(0, 1) < 0.05 ? NaN : Math.round(rng.uniform(-3, 3))));
        const out = new Float32Array(g.n * g.oh * g.ow * c), argmax = new Int32Array(out.length);
        jsKernels.maxPool(out, argmax, image, g);
        const want = reference(image, g);
        expect(Array.from(argmax)).toEqual(want.argmax);
        expect(Array.from(out)).toEqual(want.out.map((v) => Math.fround(v)));
        checked++;
      }),
      { seed: 20261130, numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(100);
  });
});
