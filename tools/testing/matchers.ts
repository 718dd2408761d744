/**
 * Numeric assertions for tests: `allclose` compares arrays element by element with NumPy's rule
 * |actual − expected| ≤ atol + rtol·|expected|, treating NaN as equal to NaN and an infinity as
 * equal only to itself. Importing this file also registers the `toBeAllclose` matcher on vitest's
 * `expect`.
 *
 * Values may be numbers, nested arrays, typed arrays, or anything with `shape` and `toArray()`
 * (an NDArray or a Tensor). Shapes must agree, except that a plain number is compared with every
 * element and a typed array is compared with the row-major elements whatever the shape.
 */
import { expect } from "vitest";

export interface AllcloseOptions {
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance, against |expected| (default 1e-5). */
  rtol?: number;
  /** Whether NaN equals NaN (default true). */
  equalNaN?: boolean;
}

export interface AllcloseResult {
  ok: boolean;
  message: string;
}

interface Flat {
  /** null when the shape should not be compared (a number to broadcast, a typed array). */
  shape: number[] | null;
  data: number[];
}

function nestedShape(x: unknown): number[] {
  const shape: number[] = [];
  for (let v = x; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

function flatten(x: unknown, out: number[]): void {
  if (Array.isArray(x)) for (const v of x) flatten(v, out);
  else if (typeof x === "number") out.push(x);
  else if (typeof x === "boolean") out.push(x ? 1 : 0);
  else throw new TypeError(`allclose: expected numbers, found ${typeof x} (${String(x)})`);
}

function hasToArray(x: unknown): x is { shape: readonly number[]; toArray(): unknown } {
  return typeof x === "object" && x !== null && "shape" in x && typeof (x as { toArray?: unknown }).toArray === "function";
}

function toFlat(x: unknown, role: "actual" | "expected"): Flat {
  if (typeof x === "number") return { shape: role === "expected" ? null : [], data: [x] };
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return { shape: null, data: Array.from(x as unknown as ArrayLike<number>, Number) };
  if (hasToArray(x)) {
    const data: number[] = [];
    flatten(x.toArray(), data);
    return { shape: [...x.shape], data };
  }
  if (Array.isArray(x)) {
    const data: number[] = [];
    flatten(x, data);
    return { shape: nestedShape(x), data };
  }
  throw new TypeError(`allclose: cannot compare ${role} value ${String(x)}`);
}

const fmt = (shape: readonly number[] | null) => (shape ? `[${shape.join(",")}]` : "(any)");

function close(a: number, e: number, atol: number, rtol: number, equalNaN: boolean): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return equalNaN && Number.isNaN(a) && Number.isNaN(e);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/** Compares two arrays element by element; on failure the message names the first bad element. */
export function allclose(actual: unknown, expected: unknown, options: AllcloseOptions = {}): AllcloseResult {
  const { atol = 1e-6, rtol = 1e-5, equalNaN = true } = options;
  const a = toFlat(actual, "actual"), e = toFlat(expected, "expected");
  if (a.shape && e.shape && (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape![i]))) {
    return { ok: false, message: `shapes differ: actual ${fmt(a.shape)}, expected ${fmt(e.shape)}` };
  }
  const broadcast = e.data.length === 1 && e.shape === null;
  if (!broadcast && a.data.length !== e.data.length) {
    return { ok: false, message: `sizes differ: actual has ${a.data.length} elements, expected ${e.data.length}` };
  }
  let bad = 0, first = -1, maxDiff = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!, y = broadcast ? e.data[0]! : e.data[i]!;
    if (!close(x, y, atol, rtol, equalNaN)) {
      bad++;
      if (first < 0) first = i;
    }
    if (Number.isFinite(x) && Number.isFinite(y)) maxDiff = Math.max(maxDiff, Math.abs(x - y));
  }
  if (bad === 0) return { ok: true, message: "" };
  const y = broadcast ? e.data[0]! : e.data[first]!;
  return {
    ok: false,
    message:
      `${bad} of ${a.data.length} elements differ (atol ${atol}, rtol ${rtol}); first at flat index ${first}: ` +
      `actual ${a.data[first]}, expected ${y}; max |diff| ${maxDiff}`,
  };
}

/** Throws (failing the test) unless `actual` and `expected` are allclose. */
export function expectAllclose(actual: unknown, expected: unknown, options: AllcloseOptions = {}): void {
  const r = allclose(actual, expected, options);
  if (!r.ok) throw new Error(`expected values to be allclose: ${r.message}`);
}

/** ⟨a, b⟩ = Σ aᵢ·bᵢ of two equally long lists, accumulated in float64. */
export function innerProduct(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`innerProduct: lengths differ: ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

expect.extend({
  toBeAllclose(received: unknown, expected: unknown, options?: AllcloseOptions) {
    const r = allclose(received, expected, options);
    return {
      pass: r.ok,
      message: () => (r.ok ? "expected values not to be allclose" : `expected values to be allclose: ${r.message}`),
    };
  },
});

declare module "vitest" {
  interface Matchers<T = any> {
    /** Element-wise |actual − expected| ≤ atol + rtol·|expected| (NaN equals NaN); shapes must agree. */
    toBeAllclose(expected: unknown, options?: AllcloseOptions): T;
  }
}
