import { Random } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { Conv2D, Dense, Dropout, Sequential, init, manualSeed } from "../src/index.js";

const stats = (xs: ArrayLike<number>) => {
  const a = Array.from(xs);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...a), max: Math.max(...a) };
};

describe("initialisers", () => {
  const ctx = (fanIn: number, fanOut: number) => ({ fanIn, fanOut, rng: new Random(1) });

  test("glorotUniform: U(−a, a) with a = √(6/(fanIn + fanOut)); variance a²/3", () => {
    const a = Math.sqrt(6 / (100 + 50));
    const s = stats(init.glorotUniform([50, 100], ctx(100, 50)).data);
    expect(s.min).toBeGreaterThanOrEqual(-a);
    expect(s.max).toBeLessThan(a);
    expect(s.min).toBeLessThan(-0.98 * a); // the range is used
    expect(s.std).toBeCloseTo(a / Math.sqrt(3), 2);
    expect(Math.abs(s.mean)).toBeLessThan(0.01);
  });

  test("heNormal: N(0, 2/fanIn); glorotNormal: N(0, 2/(fanIn + fanOut)); lecunNormal: N(0, 1/fanIn)", () => {
    expect(stats(init.heNormal([200, 100], ctx(100, 200)).data).std).toBeCloseTo(Math.sqrt(2 / 100), 2);
    expect(stats(init.glorotNormal([200, 100], ctx(100, 200)).data).std).toBeCloseTo(Math.sqrt(2 / 300), 2);
    expect(stats(init.lecunNormal([200, 100], ctx(100, 200)).data).std).toBeCloseTo(Math.sqrt(1 / 100), 2);
    const he = stats(init.heUniform([200, 100], ctx(100, 200)).data);
    expect(he.max).toBeLessThan(Math.sqrt(6 / 100));
    expect(he.max).toBeGreaterThan(0.98 * Math.sqrt(6 / 100));
  });

  test("constants, uniform, normal, and float64", () => {
    expect(Array.from(init.zeros([3], ctx(1, 1)).data)).toEqual([0, 0, 0]);
    expect(Array.from(init.constant(2.5)([2], ctx(1, 1)).data)).toEqual([2.5, 2.5]);
    const u = stats(init.uniform(2, 3)([1000], ctx(1, 1)).data);
    expect(u.min).toBeGreaterThanOrEqual(2);
    expect(u.max).toBeLessThan(3);
    expect(stats(init.normal(5, 0.5)([4000], ctx(1, 1)).data).mean).toBeCloseTo(5, 1);
    expect(init.heNormal([2, 2], { ...ctx(2, 2), dtype: "float64" }).dtype).toBe("float64");
    expect(() => init.uniform(3, 2)).toThrow(/low must be ≤ high/);
  });

  test("Conv2D fans count the window: fanIn = kh·kw·in", () => {
    const c = new Conv2D(4, 8, 3, { seed: 2, weightInitializer: "heUniform" });
    const limit = Math.sqrt(6 / (3 * 3 * 4));
    expect(stats(c.weight.data).max).toBeLessThan(limit);
    expect(stats(c.weight.data).max).toBeGreaterThan(0.9 * limit);
  });
});

describe("seeded construction", () => {
  const build = () => new Sequential([new Dense(8, 16), new Dropout(0.5), new Conv2D(1, 2, 3), new Dense(16, 4)]);
  const bits = (m: Sequential) => m.parameters().map((p) => Array.from(new Uint32Array(p.value.data.slice().buffer)));

  test("the same seed builds bitwise the same model; another seed does not", () => {
    manualSeed(42);
    const a = build();
    manualSeed(42);
    const b = build();
    manualSeed(43);
    const c = build();
    expect(bits(a)).toEqual(bits(b));
    expect(bits(a)).not.toEqual(bits(c));
    // and the dropout layers get the same streams
    expect((a.at(1) as Dropout).generator.getState()).toEqual((b.at(1) as Dropout).generator.getState());
  });

  test("a per-layer seed, or a shared generator", () => {
    expect(Array.from(new Dense(3, 3, { seed: 7 }).weight.data)).toEqual(Array.from(new Dense(3, 3, { seed: 7 }).weight.data));
    const rng = new Random(7);
    const first = new Dense(3, 3, { seed: rng }), second = new Dense(3, 3, { seed: rng });
    expect(Array.from(first.weight.data)).not.toEqual(Array.from(second.weight.data));
    expect(Array.from(first.weight.data)).toEqual(Array.from(new Dense(3, 3, { seed: 7 }).weight.data));
  });
});
