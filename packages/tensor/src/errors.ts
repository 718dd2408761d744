import { describeValue } from "./options.js";
import type { Shape } from "./shape.js";

/** Formats a shape the same way everywhere: `[2,3]`, and `[]` for a scalar. */
export function fmtShape(shape: Shape): string {
  // A bad shape may hold anything (objects without a prototype, symbols): describe what is not a number.
  return `[${shape.map((d) => (typeof d === "number" ? String(d) : describeValue(d))).join(",")}]`;
}

/**
 * A shape rule was broken. The message names the op, the rule and the shapes:
 * `matmul: inner dimensions differ: [2,3] x [4,5]`.
 */
export class ShapeError extends Error {
  override readonly name = "ShapeError";
  constructor(
    readonly op: string,
    readonly rule: string,
    readonly shapes: readonly Shape[] = [],
  ) {
    super(shapes.length ? `${op}: ${rule}: ${shapes.map(fmtShape).join(" x ")}` : `${op}: ${rule}`);
  }
}

/** Throws a TypeError naming the op unless `value` is a number (its range is checked after). */
export function checkNumberArg(op: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${op}: ${name} must be a number, got ${describeValue(value)}`);
}

/** Throws a TypeError naming the op unless `value` is an array (a shape, a list of axes or sizes). */
export function checkArrayArg(op: string, name: string, value: unknown): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${op}: ${name} must be an array, got ${describeValue(value)}`);
}

/** Throws a TypeError naming the op unless an options bag is an object (undefined is an empty bag). */
export function checkOptionsBag(op: string, options: unknown): void {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options))) {
    throw new TypeError(`${op}: options must be an object, got ${describeValue(options)}`);
  }
}

/** Throws a RangeError naming the op when `ok` is false (bad argument values, not shapes). */
export function checkArg(ok: boolean, op: string, rule: string): asserts ok {
  if (!ok) throw new RangeError(`${op}: ${rule}`);
}
