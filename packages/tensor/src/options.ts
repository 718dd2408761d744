/**
 * One declaration per options bag: the fields below give both the TypeScript type of the bag
 * (`OptionsOf<typeof schema>`) and its runtime check (`schema.parse(op, options)`), so the two
 * cannot drift apart. Every public options bag (losses, layers, optimizers, schedules, fit…)
 * is declared this way.
 *
 *   const ADAM = defineOptions({
 *     lr: number({ min: 0, default: 1e-3, aliases: ["learning_rate", "learningRate"] }),
 *     amsgrad: boolean({ default: false }),
 *   });
 *   type AdamOptions = OptionsOf<typeof ADAM>;       // { lr?: number; amsgrad?: boolean }
 *   const o = ADAM.parse("Adam", options);            // { lr: number; amsgrad: boolean }
 *
 * Unknown keys are a TypeError with a "did you mean …?" hint; a value of the wrong type is a
 * TypeError and one out of range a RangeError; both name the op and the option.
 */

/** One option: how to read it, its default, and what it is called elsewhere (for hints). */
export interface Field<T, HasDefault extends boolean = boolean> {
  /** Checks a given (non-undefined) value and returns it, or throws naming `op` and `key`. */
  readonly read: (op: string, key: string, value: unknown) => T;
  readonly default: HasDefault extends true ? T : undefined;
  /** Other spellings users type (`learning_rate`): an unknown key equal to one is pointed here. */
  readonly aliases: readonly string[];
}

type Fields = Record<string, Field<any, boolean>>;
/** The options bag a user writes: every field optional. */
export type OptionsOf<S extends OptionSchema<Fields>> = { [K in keyof S["fields"]]?: S["fields"][K] extends Field<infer T, any> ? T : never };
/** The bag after parse(): fields with a default are always present. */
export type ParsedOf<F extends Fields> = { [K in keyof F]: F[K] extends Field<infer T, infer D> ? (D extends true ? T : T | undefined) : never };

export interface OptionSchema<F extends Fields> {
  readonly fields: F;
  readonly keys: readonly string[];
  parse(op: string, options: unknown): ParsedOf<F>;
  /** The same schema with more (or replaced) fields. */
  extend<G extends Fields>(more: G): OptionSchema<Omit<F, keyof G> & G>;
}

export function defineOptions<F extends Fields>(fields: F): OptionSchema<F> {
  const keys = Object.keys(fields);
  return {
    fields,
    keys,
    parse(op, options) {
      if (options === undefined || options === null) options = {};
      if (typeof options !== "object" || Array.isArray(options)) throw new TypeError(`${op}: options must be an object, got ${describeValue(options)}`);
      const given = options as Record<string, unknown>;
      for (const key of Object.keys(given)) if (!Object.hasOwn(fields, key) && given[key] !== undefined) throw new TypeError(unknownKeyMessage(op, key, fields));
      const out: Record<string, unknown> = Object.create(null);
      for (const key of keys) {
        const value = Object.hasOwn(given, key) ? given[key] : undefined;
        out[key] = value === undefined ? fields[key]!.default : fields[key]!.read(op, key, value);
      }
      return out as ParsedOf<F>;
    },
    extend: (more) => defineOptions({ ...fields, ...more }) as never,
  };
}

interface Common<T> { default?: T; aliases?: readonly string[] }
type WithDefault<O, T> = O extends { default: T } ? true : false;

function field<T, O extends Common<T>>(o: O | undefined, read: (op: string, key: string, value: unknown) => T): Field<T, WithDefault<O, T>> {
  return { read, default: o?.default as never, aliases: o?.aliases ?? [] };
}

export interface NumberSpec extends Common<number> {
  min?: number; max?: number;
  /** The bounds themselves are excluded (e.g. `{ min: 0, minExclusive: true }` is "> 0"). */
  minExclusive?: boolean; maxExclusive?: boolean;
  integer?: boolean;
  /** ±Infinity accepted (default false: every number option is finite unless it says so). */
  infinite?: boolean;
}

/** A number, finite unless `infinite`, within optional bounds, optionally an integer. */
export function number<O extends NumberSpec>(spec?: O): Field<number, WithDefault<O, number>> {
  const s: NumberSpec = spec ?? {};
  const rule = numberRule(s);
  return field(spec, (op, key, v) => {
    if (typeof v !== "number") throw new TypeError(`${op}: ${key} must be ${rule}, got ${describeValue(v)}`);
    const ok = !Number.isNaN(v) && (s.infinite || Number.isFinite(v)) && (!s.integer || Number.isInteger(v))
      && (s.min === undefined || (s.minExclusive ? v > s.min : v >= s.min))
      && (s.max === undefined || (s.maxExclusive ? v < s.max : v <= s.max));
    if (!ok) throw new RangeError(`${op}: ${key} must be ${rule}, got ${describeValue(v)}`);
    return v;
  });
}

/** An integer (a shorthand for `number({ integer: true, … })`). */
export function integer<O extends NumberSpec>(spec?: O): Field<number, WithDefault<O, number>> {
  return number({ ...spec, integer: true } as O);
}

export function boolean<O extends Common<boolean>>(spec?: O): Field<boolean, WithDefault<O, boolean>> {
  return field(spec, (op, key, v) => {
    if (typeof v !== "boolean") throw new TypeError(`${op}: ${key} must be true or false, got ${describeValue(v)}`);
    return v;
  });
}

/** One of a few strings (or other primitives). */
export function oneOf<const V extends readonly (string | number | boolean)[], O extends Common<V[number]>>(values: V, spec?: O): Field<V[number], WithDefault<O, V[number]>> {
  return field(spec, (op, key, v) => {
    if (!values.includes(v as never)) throw new TypeError(`${op}: ${key} must be one of ${values.map(describeValue).join(", ")}, got ${describeValue(v)}`);
    return v as V[number];
  });
}

/**
 * Anything else (arrays, tensors, unions): `check` returns the value read, or throws an error
 * naming `op` and `key` (TypeError for a wrong kind of value, RangeError for one out of range).
 */
export function custom<T, O extends Common<T> = Common<T>>(check: (value: unknown, op: string, key: string) => T, spec?: O): Field<T, WithDefault<O, T>> {
  return field(spec, (op, key, v) => check(v, op, key));
}

/** A function option (callbacks, losses, formatters). */
export function func<F extends (...args: never[]) => unknown>(): Field<F, false> {
  return custom<F>((v, op, key) => {
    if (typeof v !== "function") throw new TypeError(`${op}: ${key} must be a function, got ${describeValue(v)}`);
    return v as F;
  }) as Field<F, false>;
}

function numberRule(s: NumberSpec): string {
  const what = s.integer ? "an integer" : s.infinite ? "a number" : "a finite number";
  if (s.min !== undefined && s.max !== undefined) {
    return `${s.integer ? "an integer " : ""}in ${s.minExclusive ? "(" : "["}${s.min}, ${s.max}${s.maxExclusive ? ")" : "]"}`;
  }
  if (s.min !== undefined) return `${what} ${s.minExclusive ? ">" : "≥"} ${s.min}`;
  if (s.max !== undefined) return `${what} ${s.maxExclusive ? "<" : "≤"} ${s.max}`;
  return what;
}

/** `learning_rate` → "learningrate": case and separators do not matter when looking for a match. */
const normalise = (key: string) => key.toLowerCase().replace(/[_\-\s]/g, "");

function unknownKeyMessage(op: string, key: string, fields: Fields): string {
  const known = Object.keys(fields);
  const hint = suggest(key, fields);
  return `${op}: unknown option ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}; known options: ${known.join(", ")}`;
}

/** The known key a typo most likely meant: an alias, a spelling variant, or one or two edits away. */
export function suggest(key: string, fields: Fields): string | undefined {
  const k = normalise(key);
  let best: string | undefined, bestDistance = Infinity;
  for (const [name, f] of Object.entries(fields)) {
    if (normalise(name) === k || f.aliases.some((a) => normalise(a) === k)) return name;
    const d = editDistance(k, normalise(name));
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return bestDistance <= Math.max(1, Math.floor(k.length / 3)) ? best : undefined;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** A value as it reads in an error message: strings quoted, arrays and objects by kind. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  if (typeof v === "function") return "a function";
  return String(v);
}
