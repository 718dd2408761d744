/**
 * Small additions to the option schema of @zerograd/tensor used by nn's options bags: a string
 * field, a field of a kind checked where it is used, and bags with required keys.
 */
import { type Field, type OptionSchema, type ParsedOf, custom, describeValue } from "@zerograd/tensor";

type Fields = Record<string, Field<any, boolean>>;

/** A value of a kind `ok` recognises, passed on as it is: deeper checks are done where it is used (makePlan, buildTable…). */
export function given<T>(kind: string, ok: (v: unknown) => boolean) {
  return custom<T>((v, op, key) => {
    if (!ok(v)) throw new TypeError(`${op}: ${key} must be ${kind}, got ${describeValue(v)}`);
    return v as T;
  });
}

/** A string option. */
export function text<O extends { default?: string }>(spec?: O) {
  return custom<string, O>((v, op, key) => {
    if (typeof v !== "string") throw new TypeError(`${op}: ${key} must be a string, got ${describeValue(v)}`);
    return v;
  }, spec);
}

export const isObject = (v: unknown) => typeof v === "object" && v !== null;

/** An options type with some keys required (the schema's bags have every key optional). */
export type Require<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };

/** Parses `options` and refuses a bag without one of the `required` keys. */
export function parseRequired<F extends Fields, K extends keyof F & string>(schema: OptionSchema<F>, op: string, options: unknown, required: readonly K[]): ParsedOf<F> & { [P in K]-?: NonNullable<ParsedOf<F>[P]> } {
  const o = schema.parse(op, options);
  for (const key of required) if (o[key] === undefined) throw new TypeError(`${op}: options.${key} is required`);
  return o as never;
}

