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

/** The kinds an argument may be asked to have, as the error names them; undefined is an empty options bag. */
const KINDS = { "a number": (v: unknown) => typeof v === "number", "an array": Array.isArray, "an object": (v: unknown) => v === undefined || (typeof v === "object" && v !== null && !Array.isArray(v)) };

/** Throws a TypeError naming the op unless `value` is of the kind asked (its range is checked after). */
export function checkKind(op: string, name: string, value: unknown, kind: keyof typeof KINDS): void {
  if (!KINDS[kind](value)) throw new TypeError(`${op}: ${name} must be ${kind}, got ${describeValue(value)}`);
}

/** Throws a RangeError naming the op when `ok` is false (bad argument values, not shapes). */
export function checkArg(ok: boolean, op: string, rule: string): asserts ok {
  if (!ok) throw new RangeError(`${op}: ${rule}`);
}
