import type { Shape } from "./shape.js";

/** Formats a shape the same way everywhere: `[2,3]`, and `[]` for a scalar. */
export function fmtShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
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

/** Throws a RangeError naming the op when `ok` is false (bad argument values, not shapes). */
export function checkArg(ok: boolean, op: string, rule: string): asserts ok {
  if (!ok) throw new RangeError(`${op}: ${rule}`);
}
