import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { NDArray, array } from "@zerograd/tensor";
import { arbBroadcastPair, arbData, arbPermutation, arbShape, propertyOptions } from "../../../tools/testing/arbitraries.js";
import "../../../tools/testing/matchers.js";

const f64 = (values: T.NestedArray) => array(values, { dtype: "float64" });
const E = Math.E, LN2 = Math.LN2, LN3 = Math.log(3);

describe("unary ops: worked examples", () => {
  // Each row: op, inputs, expected outputs computed by hand (exact values or textbook constants).
  const cases: [string, (x: NDArray) => NDArray, number[], number[]][] = [
    ["neg", T.neg, [1, -2, 0], [-1, 2, 0]],
    ["abs", T.abs, [-3, 2.5, 0], [3, 2.5, 0]],
    ["sign", T.sign, [-3, 0, 2, NaN], [-1, 0, 1, NaN]],
    ["exp", T.exp, [0, 1, -1, -Infinity], [1, E, 1 / E, 0]],
    ["expm1", T.expm1, [0, 1, 1e-10], [0, E - 1, 1e-10]], // e^x − 1 ≈ x + x²/2 for tiny x
    ["log", T.log, [1, E, 0, -1], [0, 1, -Infinity, NaN]],
    ["log1p", T.log1p, [0, E - 1, -1, 1e-10], [0, 1, -Infinity, 1e-10]],
    ["sqrt", T.sqrt, [4, 0.25, 0, -1], [2, 0.5, 0, NaN]],
    ["rsqrt", T.rsqrt, [4, 0.25, 0], [0.5, 2, Infinity]],
    ["square", T.square, [-3, 0.5], [9, 0.25]],
    ["reciprocal", T.reciprocal, [4, -0.5, 0], [0.25, -2, Infinity]],
    ["sin", T.sin, [0, Math.PI / 2, Math.PI / 6], [0, 1, 0.5]],
    ["cos", T.cos, [0, Math.PI, Math.PI / 3], [1, -1, 0.5]],
    // tanh(ln 3) = (3 − 1/3)/(3 + 1/3) = 0.8
    ["tanh", T.tanh, [0, LN3, -LN3, 30], [0, 0.8, -0.8, 1]],
    // σ(ln 3) = 3/(3 + 1) = 0.75; no overflow at ±1000
    ["sigmoid", T.sigmoid, [0, LN3, -LN3, 1000, -1000], [0.5, 0.75, 0.25, 1, 0]],
    // Both paths (float64 with Math.max, float32 on the bits) give +0 for −0 and −∞, keep ∞ and NaN.
    ["relu", T.relu, [-1, 0, 2, -0, -Infinity, Infinity, NaN, 1e-40], [0, 0, 2, 0, 0, Infinity, NaN, 1e-40]],
    // Φ(1) = 0.8413447460685429 (normal table): gelu(±1) = ±Φ(±1)
    ["gelu", T.gelu, [0, 1, -1], [0, 0.8413447460685429, -0.15865525393145707]],
    // softplus(ln 3) = ln 4; stable at ±100
    ["softplus", T.softplus, [0, LN3, 100, -100], [LN2, 2 * LN2, 100, Math.exp(-100)]],
    // erf(1) = 0.8427007929497149, erf(0.5) = 0.5204998778130465, erf(3.5) = 0.9999992569016276 (tables)
    ["erf", T.erf, [0, 1, -0.5, 3.5, 7], [0, 0.8427007929497149, -0.5204998778130465, 0.9999992569016276, 1]],
    ["isNaN", T.isNaN, [NaN, 1, Infinity], [1, 0, 0]],
    ["isFinite", T.isFinite, [NaN, 1, Infinity, -Infinity], [0, 1, 0, 0]],
    ["logicalNot", T.logicalNot, [0, 2, -1], [1, 0, 0]],
  ];

  test.each(cases)("%s", (_, f, x, y) => {
    const out = f(f64(x));
    expect(out.dtype).toBe("float64");
    expect(out).toBeAllclose(y, { atol: 1e-14, rtol: 1e-13 });
    // float32 keeps float32 and agrees to float32 precision.
    const out32 = f(array(x));
    expect(out32.dtype).toBe("float32");
    expect(out32).toBeAllclose(y, { atol: 1e-7, rtol: 1e-6 });
  });

  test("relu on float32 agrees with max(x, 0) on a strided view and on values of random sign", () => {
    const x = T.randomNormal([64, 33], 0, 1, { seed: 5 });
    const view = T.slice(x, [{ step: 2 }, { start: 1 }]);
    const expected = Array.from(view.flat(), (v) => Math.max(v, 0));
    expect(Array.from(T.relu(view).flat())).toEqual(expected);
    expect(Object.is(T.relu(array([-0])).flat()[0], 0)).toBe(true);
  });

  test("ops with parameters: leakyRelu, elu, clip", () => {
    expect(T.leakyRelu(f64([-2, 3]), 0.1)).toBeAllclose([-0.2, 3], { atol: 1e-15 });
    expect(T.leakyRelu(f64([-1]))).toBeAllclose([-0.2], { atol: 1e-15 }); // default slope 0.2
    // elu(−ln 2) = α(e^(−ln 2) − 1) = 2·(½ − 1) = −1
    expect(T.elu(f64([-LN2, 1]), 2)).toBeAllclose([-1, 1], { atol: 1e-15 });
    expect(T.clip(f64([-2, 0.5, 3, 0, 1]), 0, 1)).toBeAllclose([0, 0.5, 1, 0, 1]);
    expect(T.clip(f64([-2, 5]), -Infinity, 1)).toBeAllclose([-2, 1]);
  });

  test("unary ops read strided views (transposes, negative steps)", () => {
    const x = array([[1, 2, 3], [4, 5, 6]]);
    expect(T.square(T.transpose(x))).toBeAllclose([[1, 16], [4, 25], [9, 36]]);
    expect(T.neg(T.slice(x, [undefined, { step: -1 }]))).toBeAllclose([[-3, -2, -1], [-6, -5, -4]]);
  });

  test("0-size inputs give 0-size outputs", () => {
    expect(T.exp(T.zeros([0, 3])).shape).toEqual([0, 3]);
  });
});

describe("binary ops with broadcasting: worked examples", () => {
  const a = array([[1], [2]]); // [2,1]
  const b = array([10, 20, 30]); // [3]
  test("arithmetic broadcasts [2,1] with [3] to [2,3]", () => {
    expect(T.add(a, b)).toBeAllclose([[11, 21, 31], [12, 22, 32]]);
    expect(T.sub(a, b)).toBeAllclose([[-9, -19, -29], [-8, -18, -28]]);
    expect(T.mul(a, b)).toBeAllclose([[10, 20, 30], [20, 40, 60]]);
    expect(T.div(b, a)).toBeAllclose([[10, 20, 30], [5, 10, 15]]);
    expect(T.pow(array([[2], [3]]), array([0, 1, 2]))).toBeAllclose([[1, 2, 4], [1, 3, 9]]);
    expect(T.maximum(array([[15], [25]]), b)).toBeAllclose([[15, 20, 30], [25, 25, 30]]);
    expect(T.minimum(array([[15], [25]]), b)).toBeAllclose([[10, 15, 15], [10, 20, 25]]);
  });

  test("numbers act as scalars and take the other operand's dtype", () => {
    const x = f64([1, 2]);
    expect(T.add(x, 0.1).dtype).toBe("float64");
    expect(T.add(x, 0.1)).toBeAllclose([1.1, 2.1], { atol: 1e-15 });
    expect(T.sub(1, x)).toBeAllclose([0, -1]);
    expect(T.div(1, array([4]))).toBeAllclose([0.25]);
  });

  test("comparisons and logic write 0/1", () => {
    const x = array([1, 2, 3]), y = array([2, 2, 2]);
    expect(T.eq(x, y)).toBeAllclose([0, 1, 0]);
    expect(T.ne(x, y)).toBeAllclose([1, 0, 1]);
    expect(T.lt(x, y)).toBeAllclose([1, 0, 0]);
    expect(T.le(x, y)).toBeAllclose([1, 1, 0]);
    expect(T.gt(x, y)).toBeAllclose([0, 0, 1]);
    expect(T.ge(x, y)).toBeAllclose([0, 1, 1]);
    const p = array([0, 0, 1, 1]), q = array([0, 1, 0, 5]);
    expect(T.logicalAnd(p, q)).toBeAllclose([0, 0, 0, 1]);
    expect(T.logicalOr(p, q)).toBeAllclose([0, 1, 1, 1]);
    expect(T.logicalXor(p, q)).toBeAllclose([0, 1, 1, 0]);
    // NaN compares unequal to everything, itself included.
    expect(T.eq(array([NaN]), array([NaN]))).toBeAllclose([0]);
    expect(T.ne(array([NaN]), array([NaN]))).toBeAllclose([1]);
  });

  test("where picks a where cond ≠ 0, with three-way broadcasting", () => {
    const cond = array([[1], [0]]); // [2,1]
    expect(T.where(cond, array([1, 2, 3]), -1)).toBeAllclose([[1, 2, 3], [-1, -1, -1]]);
    expect(T.where(array([1, 0, 1]), 5, array([[7], [8]]))).toBeAllclose([[5, 7, 5], [5, 8, 5]]);
    expect(T.where(array([NaN]), 1, 2)).toBeAllclose([1]); // NaN counts as true, as in NumPy
    expect(T.where(array([1]), f64([1]), 0).dtype).toBe("float64");
  });

  test("maximum and minimum propagate NaN from either side", () => {
    expect(T.maximum(array([1, NaN, NaN]), array([NaN, 2, NaN]))).toBeAllclose([NaN, NaN, NaN]);
    expect(T.minimum(array([1, NaN]), array([NaN, 2]))).toBeAllclose([NaN, NaN]);
    expect(T.maximum(array([-Infinity]), array([3]))).toBeAllclose([3]);
  });

  test("float64 with float32 computes in float64", () => {
    expect(T.mul(array([1]), f64([2])).dtype).toBe("float64");
    expect(T.mul(f64([1]), array([2])).dtype).toBe("float64");
    expect(T.add(array([1]), array([2])).dtype).toBe("float32");
  });

  test("0-size operands broadcast to a 0-size result", () => {
    const out = T.add(T.zeros([0, 3]), array([1, 2, 3]));
    expect(out.shape).toEqual([0, 3]);
    expect(T.mul(T.zeros([4, 0]), T.zeros([1, 1])).shape).toEqual([4, 0]);
  });

  test("broadcasting failures name the op and both shapes", () => {
    expect(() => T.add(T.zeros([2, 3]), T.zeros([4]))).toThrow("add: shapes cannot be broadcast: [2,3] x [4]");
    expect(() => T.mul(T.zeros([16, 1, 5]), T.zeros([4, 6]))).toThrow("mul: shapes cannot be broadcast: [16,1,5] x [4,6]");
    expect(() => T.where(T.zeros([2]), T.zeros([3]), 0)).toThrow("where: shapes cannot be broadcast: [2] x [3] x []");
  });
});

describe("elementwise properties", () => {
  /** Reads element `index` (of the broadcast shape `out`) from a row-major array of `shape`. */
  function readBroadcast(data: number[], shape: number[], out: number[], index: number[]): number {
    let at = 0;
    for (let i = 0; i < shape.length; i++) {
      const k = index[out.length - shape.length + i]!;
      at = at * shape[i]! + (shape[i] === 1 ? 0 : k);
    }
    return data[at]!;
  }
  function indices(shape: number[]): number[][] {
    const all: number[][] = [[]];
    for (const d of shape) {
      const next: number[][] = [];
      for (const prefix of all) for (let i = 0; i < d; i++) next.push([...prefix, i]);
      all.splice(0, all.length, ...next);
    }
    return all;
  }
  const scalarOps: [string, (a: T.NDArray, b: T.NDArray) => T.NDArray, (x: number, y: number) => number][] = [
    ["add", T.add, (x, y) => x + y],
    ["sub", T.sub, (x, y) => x - y],
    ["mul", T.mul, (x, y) => x * y],
    ["div", T.div, (x, y) => x / y],
    ["maximum", T.maximum, (x, y) => (x > y ? x : y)],
    ["lt", T.lt, (x, y) => (x < y ? 1 : 0)],
  ];

  test.each(scalarOps)("%s broadcasts like an index-by-index loop", (_, op, ref) => {
    const arb = arbBroadcastPair({ maxRank: 4, maxSize: 96 }).chain(({ a, b, out }) =>
      fc.tuple(fc.constant({ a, b, out }), arbData(a.reduce((n, d) => n * d, 1)), arbData(b.reduce((n, d) => n * d, 1), 0.5, 4)),
    );
    fc.assert(
      fc.property(arb, ([{ a, b, out }, da, db]) => {
        const x = new NDArray(Float64Array.from(da), a), y = new NDArray(Float64Array.from(db), b);
        const expected = indices(out).map((idx) => ref(readBroadcast(da, a, out, idx), readBroadcast(db, b, out, idx)));
        const got = op(x, y);
        expect(got.shape).toEqual(out);
        expect(got.data).toBeAllclose(Float64Array.from(expected), { atol: 0, rtol: 0 });
      }),
      propertyOptions(60),
    );
  });

  test("a binary op on a permuted view equals the op on a contiguous copy", () => {
    const arb = arbShape({ minRank: 1, maxRank: 4, maxSize: 120 }).chain((shape) =>
      fc.tuple(fc.constant(shape), arbPermutation(shape.length), arbData(shape.reduce((n, d) => n * d, 1))),
    );
    fc.assert(
      fc.property(arb, ([shape, perm, data]) => {
        const x = T.transpose(new NDArray(Float32Array.from(data), shape), perm);
        const copy = x.contiguous();
        const y = T.exp(T.neg(copy)); // any contiguous array of the same shape
        expect(T.mul(x, y).data).toBeAllclose(T.mul(copy, y).data, { atol: 0, rtol: 0 });
        expect(T.sub(y, x).data).toBeAllclose(T.sub(y, copy).data, { atol: 0, rtol: 0 });
      }),
      propertyOptions(80),
    );
  });
});

describe("elementwise argument errors", () => {
  test("clip needs min ≤ max and no NaN bound", () => {
    expect(() => T.clip(array([1]), 2, 1)).toThrow(new RangeError("clip: min must be ≤ max, got min=2, max=1"));
    expect(() => T.clip(array([1]), NaN, 1)).toThrow(RangeError);
  });
  test("leakyRelu and elu need finite parameters", () => {
    expect(() => T.leakyRelu(array([1]), Infinity)).toThrow(new RangeError("leakyRelu: slope must be finite, got Infinity"));
    expect(() => T.elu(array([1]), NaN)).toThrow(new RangeError("elu: alpha must be finite, got NaN"));
  });
});

describe("every elementwise kernel has a function of its name", () => {
  test("T[name](…) runs the kernel of that name", () => {
    const x = T.array([0.5, -1.5, 2], { dtype: "float64" }), y = T.array([1.5, 2, -0.5], { dtype: "float64" });
    const fns = T as unknown as Record<string, (...args: unknown[]) => T.NDArray>;
    for (const name of Object.keys(T.jsKernels.unary) as T.UnaryOp[]) {
      const p = name === "clip" ? [-1, 1] : name === "leakyRelu" || name === "elu" ? [0.3] : [];
      expect(fns[name], name).toBeTypeOf("function");
      expect(fns[name]!(x, ...p)).toBeAllclose(T.unary(name, x, p[0], p[1]), { atol: 0 });
    }
    for (const name of Object.keys(T.jsKernels.binary) as T.BinaryOp[]) {
      expect(fns[name], name).toBeTypeOf("function");
      expect(fns[name]!(x, y)).toBeAllclose(T.binary(name, x, y), { atol: 0 });
    }
  });

  test("parameters are checked by the kernel's rule, naming the op", () => {
    expect(() => T.unary("clip", T.array([1]), 2, 1)).toThrow(new RangeError("clip: min must be ≤ max, got min=2, max=1"));
    expect(() => T.unary("leakyRelu", T.array([1]), NaN)).toThrow(new RangeError("leakyRelu: slope must be finite, got NaN"));
  });
});
