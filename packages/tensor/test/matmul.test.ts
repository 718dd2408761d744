import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import { NDArray, array } from "@zerograd/tensor";
import { arbBroadcastPair, propertyOptions } from "../../../tools/testing/arbitraries.js";
import "../../../tools/testing/matchers.js";

describe("matmul: worked examples", () => {
  test("2-D products", () => {
    // [1 2; 3 4]·[5 6; 7 8] = [1·5+2·7, 1·6+2·8; 3·5+4·7, 3·6+4·8]
    expect(T.matmul(array([[1, 2], [3, 4]]), array([[5, 6], [7, 8]]))).toBeAllclose([[19, 22], [43, 50]]);
    expect(T.matmul(array([[1, 2, 3], [4, 5, 6]]), array([[7, 8], [9, 10], [11, 12]]))).toBeAllclose([[58, 64], [139, 154]]);
    expect(T.matmul(array([[1, 2, 3]]), array([[1], [1], [1]]))).toBeAllclose([[6]]);
  });

  test("1-D operands: dot product, matrix·vector, vector·matrix", () => {
    const v = T.matmul(array([1, 2, 3]), array([4, 5, 6]));
    expect(v.shape).toEqual([]);
    expect(v).toBeAllclose(32);
    expect(T.matmul(array([[1, 2, 3], [4, 5, 6]]), array([1, 0, -1]))).toBeAllclose([-2, -2]);
    expect(T.matmul(array([1, 1]), array([[1, 2, 3], [4, 5, 6]]))).toBeAllclose([5, 7, 9]);
    expect(T.matmul(array([1, 2]), T.reshape(T.arange(12), [3, 2, 2])).toArray()).toEqual([[4, 7], [16, 19], [28, 31]]); // [1,2]·[[0,1],[2,3]] = [4,7], …
    expect(T.dot(array([1, 2]), array([3, 4]))).toBeAllclose(11);
  });

  test("batched, and batch axes broadcast", () => {
    const a = array([[[1, 0], [0, 1]], [[2, 0], [0, 2]]]); // I and 2I
    const b = array([[1, 2], [3, 4]]);
    expect(T.matmul(a, b)).toBeAllclose([[[1, 2], [3, 4]], [[2, 4], [6, 8]]]);
    expect(T.matmul(T.ones([2, 1, 2, 3]), T.ones([4, 3, 5])).shape).toEqual([2, 4, 2, 5]);
    expect(T.matmul(T.ones([2, 1, 2, 3]), T.ones([4, 3, 5]))).toBeAllclose(3);
  });

  test("transposed operands are read in place", () => {
    const m = array([[1, 2], [3, 4], [5, 6]]); // [3,2]
    // mᵀ·m = [1·1+3·3+5·5, 1·2+3·4+5·6; …] = [35, 44; 44, 56]
    expect(T.matmul(T.transpose(m), m)).toBeAllclose([[35, 44], [44, 56]]);
    // m·mᵀ [3,3]
    expect(T.matmul(m, T.transpose(m))).toBeAllclose([[5, 11, 17], [11, 25, 39], [17, 39, 61]]);
    expect(T.matmul(T.transpose(T.transpose(m)), T.transpose(m))).toBeAllclose([[5, 11, 17], [11, 25, 39], [17, 39, 61]]);
  });

  test("empty inner axis gives zeros; empty outer axes give empty results", () => {
    expect(T.matmul(T.zeros([2, 0]), T.zeros([0, 3]))).toBeAllclose([[0, 0, 0], [0, 0, 0]]);
    expect(T.matmul(T.zeros([0, 3]), T.zeros([3, 2])).shape).toEqual([0, 2]);
    expect(T.matmul(T.zeros([0, 2, 3]), T.zeros([3, 2])).shape).toEqual([0, 2, 2]);
  });

  test("float64 operands give float64; mixed gives float64", () => {
    expect(T.matmul(array([[1]], { dtype: "float64" }), array([[2]])).dtype).toBe("float64");
    expect(T.matmul(array([[1]]), array([[2]])).dtype).toBe("float32");
  });

  test("errors name both shapes", () => {
    expect(() => T.matmul(T.zeros([2, 3]), T.zeros([4, 5]))).toThrow("matmul: inner dimensions differ: [2,3] x [4,5]");
    expect(() => T.matmul(T.zeros([3]), T.zeros([4]))).toThrow("matmul: inner dimensions differ: [3] x [4]");
    expect(() => T.matmul(T.zeros([]), T.zeros([3]))).toThrow("matmul: operands must have at least one axis: [] x [3]");
    expect(() => T.matmul(T.zeros([2, 4, 5]), T.zeros([3, 5, 6]))).toThrow("matmul: batch dimensions cannot be broadcast: [2,4,5] x [3,5,6]");
  });
});

describe("matmul properties", () => {
  type Layout = "contiguous" | "transposed" | "stepped" | "reversed";
  const sizeOf = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

  /**
   * An NDArray with the given logical (row-major) contents, stored in one of several layouts:
   * as is, as the transpose of a contiguous matrix, every other column of a wider matrix whose
   * other columns are NaN, or a row-reversed view. Reading the wrong element shows up as NaN.
   */
  function build(logical: number[], shape: number[], layout: Layout): NDArray {
    const rank = shape.length;
    if (rank < 2 || layout === "contiguous") return new NDArray(Float64Array.from(logical), shape);
    const [r, c] = [shape[rank - 2]!, shape[rank - 1]!];
    const batch = sizeOf(shape.slice(0, -2));
    if (layout === "transposed") {
      const phys = new Float64Array(logical.length);
      for (let b = 0; b < batch; b++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) phys[b * r * c + j * r + i] = logical[b * r * c + i * c + j]!;
      const perm = shape.map((_, i) => i);
      [perm[rank - 2], perm[rank - 1]] = [rank - 1, rank - 2];
      return T.transpose(new NDArray(phys, [...shape.slice(0, -2), c, r]), perm);
    }
    if (layout === "stepped") {
      const phys = new Float64Array(batch * r * 2 * c).fill(NaN);
      for (let b = 0; b < batch; b++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) phys[(b * r + i) * 2 * c + 2 * j] = logical[b * r * c + i * c + j]!;
      return T.slice(new NDArray(phys, [...shape.slice(0, -1), 2 * c]), [...shape.slice(0, -1).map(() => undefined), { step: 2 }]);
    }
    const phys = new Float64Array(logical.length);
    for (let b = 0; b < batch; b++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) phys[b * r * c + (r - 1 - i) * c + j] = logical[b * r * c + i * c + j]!;
    return T.slice(new NDArray(phys, shape), [...shape.slice(0, -2).map(() => undefined), { step: -1 }]);
  }

  /** The test's own batched product: a triple loop per batch element, batch indices broadcast. */
  function naiveMatmul(a: number[], aBatch: number[], b: number[], bBatch: number[], M: number, K: number, N: number): { shape: number[]; data: number[] } {
    const rank = Math.max(aBatch.length, bBatch.length);
    const pa = [...new Array<number>(rank - aBatch.length).fill(1), ...aBatch], pb = [...new Array<number>(rank - bBatch.length).fill(1), ...bBatch];
    const batch = pa.map((d, i) => Math.max(d, pb[i]!));
    const data: number[] = [];
    for (let flat = 0; flat < sizeOf(batch); flat++) {
      let rest = flat, ia = 0, ib = 0, sa = 1, sb = 1;
      for (let ax = rank - 1; ax >= 0; ax--) {
        const k = rest % batch[ax]!;
        rest = Math.floor(rest / batch[ax]!);
        ia += (pa[ax] === 1 ? 0 : k) * sa;
        ib += (pb[ax] === 1 ? 0 : k) * sb;
        sa *= pa[ax]!;
        sb *= pb[ax]!;
      }
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[ia * M * K + i * K + k]! * b[ib * K * N + k * N + j]!;
          data.push(s);
        }
      }
    }
    return { shape: [...batch, M, N], data };
  }

  const layout = fc.constantFrom<Layout>("contiguous", "transposed", "stepped", "reversed");
  const dim = fc.integer({ min: 1, max: 7 });
  const values = (n: number) => fc.array(fc.integer({ min: -9, max: 9 }), { minLength: n, maxLength: n });

  test("batched matmul of strided views equals a naive triple loop", () => {
    const arb = fc
      .tuple(arbBroadcastPair({ maxRank: 3, maxDim: 3, maxSize: 12 }), dim, dim, dim, layout, layout)
      .chain(([pair, M, K, N, la, lb]) =>
        fc.tuple(fc.constant({ pair, M, K, N, la, lb }), values(sizeOf(pair.a) * M * K), values(sizeOf(pair.b) * K * N)),
      );
    fc.assert(
      fc.property(arb, ([{ pair, M, K, N, la, lb }, da, db]) => {
        const A = build(da, [...pair.a, M, K], la), B = build(db, [...pair.b, K, N], lb);
        const expected = naiveMatmul(da, pair.a, db, pair.b, M, K, N);
        const got = T.matmul(A, B);
        expect(got.shape).toEqual(expected.shape);
        // Small integers: every product and sum is exact in float64.
        expect(got.data).toBeAllclose(Float64Array.from(expected.data), { atol: 0, rtol: 0 });
      }),
      propertyOptions(200),
    );
  });

  test("1-D operands: promoted to a row or a column and the axis dropped", () => {
    const arb = fc.tuple(dim, dim, fc.boolean()).chain(([K, N, vectorFirst]) => fc.tuple(fc.constant({ K, N, vectorFirst }), values(K), values(K * N)));
    fc.assert(
      fc.property(arb, ([{ K, N, vectorFirst }, v, m]) => {
        const vec = new NDArray(Float64Array.from(v), [K]);
        if (vectorFirst) {
          const got = T.matmul(vec, new NDArray(Float64Array.from(m), [K, N]));
          expect(got.shape).toEqual([N]);
          expect(got.data).toBeAllclose(Float64Array.from(naiveMatmul(v, [], m, [], 1, K, N).data), { atol: 0 });
        } else {
          // m read as [N, K] times a column vector
          const got = T.matmul(new NDArray(Float64Array.from(m), [N, K]), T.slice(new NDArray(Float64Array.from([...v].reverse()), [K]), [{ step: -1 }]));
          expect(got.shape).toEqual([N]);
          expect(got.data).toBeAllclose(Float64Array.from(naiveMatmul(m, [], v, [], N, K, 1).data), { atol: 0 });
        }
      }),
      propertyOptions(100),
    );
  });

  test("blocked kernel: sizes across the block boundaries agree with the naive loop", () => {
    // Block sizes are 64 along K and 256 along N; cross both with a few rows.
    const M = 3, K = 70, N = 260;
    const da = Array.from({ length: M * K }, (_, i) => ((i * 7) % 11) - 5);
    const db = Array.from({ length: K * N }, (_, i) => ((i * 5) % 13) - 6);
    const expected = naiveMatmul(da, [], db, [], M, K, N);
    for (const [la, lb] of [["contiguous", "contiguous"], ["transposed", "transposed"], ["contiguous", "transposed"], ["stepped", "reversed"]] as [Layout, Layout][]) {
      expect(T.matmul(build(da, [M, K], la), build(db, [K, N], lb)).data).toBeAllclose(Float64Array.from(expected.data), { atol: 0, rtol: 0 });
    }
    const f32 = T.matmul(new NDArray(Float32Array.from(da), [M, K]), new NDArray(Float32Array.from(db), [K, N]));
    expect(f32.data).toBeAllclose(Float64Array.from(expected.data), { atol: 0, rtol: 0 });
  });
});
