/**
 * The fuzz suite's shared parts: seeded arbitraries (shapes, values with NaN/±Infinity/±0/1e±38,
 * dtypes, option bags valid and invalid) and `probe`, which runs one public call and checks the
 * error contract:
 *
 *   - the call returns (and, when asked, every value it returns is finite), or
 *   - it throws a ShapeError, TypeError or RangeError (or the area's own error class) whose
 *     message names the op; never another exception;
 *   - either way, the inputs it was given (tensors, parameters, optimizer state) are unchanged.
 *
 * Each area keeps a Tally of its calls and outcomes and prints one summary line. With
 * FUZZ_DEBUG=1 every error message is printed too (to see what the generators reach).
 */
import * as A from "@zerograd/autograd";
import { Tensor, tensor } from "@zerograd/autograd";
import fc from "fast-check";
import { afterAll } from "vitest";

/** Every fuzz property runs with this seed (a different path per area comes from its generators). */
export const SEED = 11_2026;

/** The error classes the contract allows (by `name`, so that subclasses count as themselves). */
const CONTRACT_ERRORS = ["ShapeError", "TypeError", "RangeError"] as const;

/** The ops of @zerograd/autograd: a composed function (a layer, a metric) may report the check of one of them. */
export const OP_NAMES: readonly string[] = Object.keys(A).filter((k) => typeof (A as Record<string, unknown>)[k] === "function");

/** Counts one area's calls by outcome: "returned" or the error's class name. */
export class Tally {
  readonly counts = new Map<string, number>();
  constructor(readonly area: string) {
    afterAll(() => console.log(this.summary()));
  }
  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }
  get calls(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
  summary(): string {
    const parts = [...this.counts].sort(([a], [b]) => (a === "returned" ? -1 : b === "returned" ? 1 : a.localeCompare(b)));
    return `fuzz ${this.area}: ${this.calls} calls, ${parts.map(([k, v]) => `${k} ${v}`).join(", ")}`;
  }
}

/** What a probe watches and checks besides the error contract. */
export interface ProbeOptions {
  /** Tensors (inputs, parameters) that must hold the same values after the call, whatever happens. */
  watch?: readonly Tensor[];
  /** Other state that must not change after a throw (e.g. an optimizer's stateDict), as a snapshot function. */
  state?: () => unknown;
  /** Check that every number the call returns is finite (the inputs and the math allow it). */
  finite?: boolean;
  /** Error classes allowed besides ShapeError, TypeError and RangeError (e.g. "SafetensorsError"). */
  alsoAllowed?: readonly string[];
}

/** Asserts that `call` throws a ShapeError, TypeError or RangeError naming `op` (without the fuzz's bookkeeping). */
export function expectContractError(op: string, call: () => unknown): void {
  try {
    call();
  } catch (e) {
    if (e instanceof Error && (CONTRACT_ERRORS as readonly string[]).includes(e.name) && namesOp(e.message, op)) return;
    throw new Error(`${op}: expected a contract error naming the op, got ${String(e)}`, { cause: e });
  }
  throw new Error(`${op}: expected a contract error naming the op, but the call returned`);
}

/** A bit-exact copy of the values (NaN equals NaN, 0 differs from −0). */
const snapshot = (ts: readonly Tensor[]): number[][] => ts.map((t) => Array.from(t.data));
const sameValues = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/**
 * Runs `call` under the contract; returns its result, or undefined when it threw an allowed error.
 * A broken contract throws (so fast-check shrinks and reports the input).
 */
export function probe<R>(tally: Tally, op: string | readonly string[], call: () => R, options: ProbeOptions = {}): R | undefined {
  const names = typeof op === "string" ? [op] : op;
  const watched = options.watch ?? [];
  const before = snapshot(watched);
  const stateBefore = options.state ? JSON.stringify(options.state(), replacer) : "";
  let result: R;
  try {
    result = call();
  } catch (e) {
    const name = e instanceof Error ? e.name : typeof e;
    const allowed: readonly string[] = [...CONTRACT_ERRORS, ...(options.alsoAllowed ?? [])];
    const message = e instanceof Error ? e.message : String(e);
    const broken = !allowed.includes(name) ? `threw ${name} outside the contract: ${message}` : !names.some((n) => namesOp(message, n)) ? `the ${name} does not name the op: "${message}"` : null;
    if (broken !== null) throw new Error(`${names[0]}: ${broken}`, { cause: e });
    checkUnchanged(names[0]!, watched, before, "after a throw");
    if (options.state && JSON.stringify(options.state(), replacer) !== stateBefore) throw new Error(`${names[0]}: state changed after a throw (${message})`);
    tally.add(name);
    if (process.env.FUZZ_DEBUG) console.log(message);
    return undefined;
  }
  tally.add("returned");
  checkUnchanged(names[0]!, watched, before, "by a call that returned");
  if (options.finite) checkFinite(names[0]!, result);
  return result;
}

/** The message starts with the op's name, as `op: rule`, `op.method: rule` or `op (backward): rule`. */
const namesOp = (message: string, op: string): boolean => message.startsWith(op) && /^[:.( ]/.test(message.slice(op.length));

function checkUnchanged(op: string, watched: readonly Tensor[], before: number[][], when: string): void {
  const after = snapshot(watched);
  watched.forEach((t, i) => {
    if (!sameValues(before[i]!, after[i]!)) throw new Error(`${op}: input ${i} ${JSON.stringify(t.shape)} was changed ${when}`);
  });
}

/** Every number in a result (a Tensor, a number, or arrays/records of them) is finite. */
export function checkFinite(op: string, result: unknown): void {
  const bad = firstNonFinite(result);
  if (bad !== null) throw new Error(`${op}: returned a non-finite value (${bad}) from finite inputs`);
}

function firstNonFinite(x: unknown): number | null {
  if (typeof x === "number") return Number.isFinite(x) ? null : x;
  if (x instanceof Tensor) return firstNonFinite(Array.from(x.data));
  if (Array.isArray(x)) {
    for (const v of x) {
      const b = firstNonFinite(v);
      if (b !== null) return b;
    }
  }
  return null;
}

/** JSON for snapshots: typed arrays as plain arrays, NaN and ±Infinity as strings. */
function replacer(_key: string, v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as Float32Array, (x) => (Number.isFinite(x) ? x : String(x)));
  return typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Values in which floating point misbehaves. */
export const SPECIAL_VALUES = [Number.NaN, Infinity, -Infinity, 0, -0, 1e38, -1e38, 1e-38, -1e-38, 3.4e38, -3.4e38] as const;

/** Small finite float32 values: every op defined on them returns finite numbers. */
export const tame = fc.float({ min: Math.fround(-3), max: Math.fround(3), noNaN: true, noDefaultInfinity: true });
/** Any value, special ones often. */
export const wild = fc.oneof({ weight: 2, arbitrary: tame }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_VALUES) });

export const dtypeArb = fc.constantFrom("float32" as const, "float64" as const);

/** A shape of rank ≤ maxRank with dimensions ≤ maxDim (0 allowed when `empty`). */
export const shapeArb = ({ maxRank = 3, maxDim = 3, minRank = 0, empty = true } = {}): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: empty ? 0 : 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** What a tensor is built from; `make` builds a fresh one each time (so no run sees another's). */
export interface TensorSpec {
  shape: number[];
  values: number[];
  dtype: "float32" | "float64";
  requiresGrad: boolean;
  /** All values are tame: ops defined everywhere must return finite values. */
  tame: boolean;
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Values for a given shape: tame ones, or wild ones (specials included) a third of the time. */
export function tensorSpecArb(shape: readonly number[]): fc.Arbitrary<TensorSpec> {
  const n = sizeOf(shape);
  return fc.record({
    tame: fc.boolean(),
    dtype: dtypeArb,
    requiresGrad: fc.boolean(),
    tameValues: fc.array(tame, { minLength: n, maxLength: n }),
    wildValues: fc.array(wild, { minLength: n, maxLength: n }),
  }).map(({ tame: isTame, dtype, requiresGrad, tameValues, wildValues }) => ({
    shape: [...shape],
    values: isTame ? tameValues : wildValues,
    dtype,
    requiresGrad,
    tame: isTame && tameValues.every((v) => Math.abs(v) <= 3),
  }));
}

export const tensorArb = (shapeOptions?: Parameters<typeof shapeArb>[0]) => shapeArb(shapeOptions).chain(tensorSpecArb);

export const make = (s: TensorSpec): Tensor => tensor(s.values, { shape: s.shape, dtype: s.dtype, requiresGrad: s.requiresGrad });

/**
 * A second shape against `shape`: often broadcast-compatible (each trailing dimension kept,
 * set to 1 or dropped), sometimes not (a random dimension).
 */
export function partnerShapeArb(shape: readonly number[]): fc.Arbitrary<number[]> {
  const dims = shape.map((d) => fc.oneof({ weight: 4, arbitrary: fc.constant(d) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }));
  return fc.tuple(fc.tuple(...dims), fc.nat({ max: shape.length }), fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }))
    .map(([kept, drop, extra]) => [...extra, ...kept.slice(drop)]);
}

/** Wrong-typed or out-of-range values for any option or argument. */
export const junk: fc.Arbitrary<unknown> = fc.constantFrom(
  // (No 1e9: a layer of 1e9 features would really allocate gigabytes; 2⁵³ fails at once.)
  "nope", "", null, {}, [], [1, "a"], true, -1, 0.5, -1e9, Number.NaN, Infinity, -Infinity, 2 ** 53, () => 1, Symbol.for("x"), 10n,
);

/** An axis argument: valid, out of range, or not an axis at all. */
export function axisArb(rank: number): fc.Arbitrary<unknown> {
  const one = fc.integer({ min: -rank - 1, max: rank });
  return fc.oneof({ weight: 4, arbitrary: one }, { weight: 2, arbitrary: fc.array(one, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: junk });
}

/** Keys that no options bag knows: typos of real keys, other frameworks' names, prototype names. */
const unknownKeys = fc.constantFrom("axes", "keepdims", "keep_dims", "learning_rate", "reduce", "from_logits", "lr_", "constructor", "toString", "__proto__");

/**
 * Option bags over `fields` (each an arbitrary of valid values): mostly valid, each field
 * sometimes junk, sometimes with an unknown key, and sometimes not an object at all.
 */
export function optionsArb(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const entry = (a: fc.Arbitrary<unknown>) => fc.oneof({ weight: 10, arbitrary: a }, { weight: 1, arbitrary: junk });
  const bag = fc.record(Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, entry(a)])), { requiredKeys: [] });
  const withUnknown = fc.tuple(bag, unknownKeys, junk).map(([b, k, v]) => {
    const o: Record<string, unknown> = { ...b };
    Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
    return o;
  });
  return fc.oneof(
    { weight: 8, arbitrary: bag },
    { weight: 1, arbitrary: withUnknown },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null, 3, "mean", [], true) },
  );
}

/** `make` printed as `new Name(args)` in fast-check's counterexamples. */
export function labelled<F extends (...a: never[]) => unknown>(label: string, args: readonly unknown[], make: F): F {
  return Object.assign(make, { [fc.toStringMethod]: () => `${label}(${args.map((a) => fc.stringify(a)).join(", ")})` });
}

/** The run parameters of every fuzz property: seeded and bounded. */
export const runs = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: true });
