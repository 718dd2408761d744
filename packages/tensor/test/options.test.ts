import { describe, expect, expectTypeOf, test } from "vitest";
import { type OptionsOf, boolean, custom, defineOptions, func, integer, number, oneOf } from "@zerograd/tensor";

const ADAM = defineOptions({
  lr: number({ min: 0, default: 1e-3, aliases: ["learning_rate"] }),
  beta1: number({ min: 0, max: 1, maxExclusive: true, default: 0.9 }),
  epochs: integer({ min: 1 }),
  amsgrad: boolean({ default: false }),
  reduction: oneOf(["mean", "sum", "none"], { default: "mean" }),
  weights: custom((v, op, key) => {
    if (!Array.isArray(v)) throw new TypeError(`${op}: ${key} must be an array`);
    return v as number[];
  }),
  onEpoch: func<(epoch: number) => void>(),
});

describe("defineOptions", () => {
  test("defaults fill what is not given; given values are kept", () => {
    const o = ADAM.parse("Adam", { lr: 0.1, reduction: "sum" });
    expect({ ...o }).toEqual({ lr: 0.1, beta1: 0.9, epochs: undefined, amsgrad: false, reduction: "sum", weights: undefined, onEpoch: undefined });
    expect(ADAM.parse("Adam", undefined).lr).toBe(1e-3);
  });

  test("the TypeScript type comes from the same declaration", () => {
    type O = OptionsOf<typeof ADAM>;
    expectTypeOf<O["lr"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<O["reduction"]>().toEqualTypeOf<"mean" | "sum" | "none" | undefined>();
    const parsed = ADAM.parse("Adam", {});
    expectTypeOf(parsed.lr).toEqualTypeOf<number>();
    expectTypeOf(parsed.epochs).toEqualTypeOf<number | undefined>();
  });

  test("an unknown key is a TypeError with a did-you-mean hint", () => {
    expect(() => ADAM.parse("Adam", { learning_rate: 0.1 })).toThrow(TypeError);
    expect(() => ADAM.parse("Adam", { learning_rate: 0.1 })).toThrow(/^Adam: unknown option "learning_rate" \(did you mean "lr"\?\); known options: lr, beta1/);
    expect(() => ADAM.parse("Adam", { amsgard: true })).toThrow(/did you mean "amsgrad"/);
    expect(() => ADAM.parse("Adam", { Reduction: "sum" })).toThrow(/did you mean "reduction"/);
    expect(() => ADAM.parse("Adam", { zzz: 1 })).toThrow(/unknown option "zzz"; known/);
  });

  test("an undefined value counts as not given", () => {
    expect(ADAM.parse("Adam", { lr: undefined, typo: undefined }).lr).toBe(1e-3);
  });

  test("wrong kinds are TypeErrors, values out of range RangeErrors, both naming op and option", () => {
    expect(() => ADAM.parse("Adam", { lr: "0.1" })).toThrow(new TypeError('Adam: lr must be a finite number ≥ 0, got "0.1"'));
    expect(() => ADAM.parse("Adam", { lr: -1 })).toThrow(new RangeError("Adam: lr must be a finite number ≥ 0, got -1"));
    expect(() => ADAM.parse("Adam", { lr: Infinity })).toThrow(RangeError);
    expect(() => ADAM.parse("Adam", { lr: NaN })).toThrow(RangeError);
    expect(() => ADAM.parse("Adam", { beta1: 1 })).toThrow(new RangeError("Adam: beta1 must be in [0, 1), got 1"));
    expect(() => ADAM.parse("Adam", { epochs: 1.5 })).toThrow(new RangeError("Adam: epochs must be an integer ≥ 1, got 1.5"));
    expect(() => ADAM.parse("Adam", { amsgrad: 1 })).toThrow(new TypeError("Adam: amsgrad must be true or false, got 1"));
    expect(() => ADAM.parse("Adam", { reduction: "avg" })).toThrow(new TypeError('Adam: reduction must be one of "mean", "sum", "none", got "avg"'));
    expect(() => ADAM.parse("Adam", { weights: 3 })).toThrow(new TypeError("Adam: weights must be an array"));
    expect(() => ADAM.parse("Adam", { onEpoch: 3 })).toThrow(new TypeError("Adam: onEpoch must be a function, got 3"));
    expect(() => ADAM.parse("Adam", 5)).toThrow(new TypeError("Adam: options must be an object, got 5"));
    expect(() => ADAM.parse("Adam", [1])).toThrow(TypeError);
  });

  test("names are data: __proto__ and constructor are unknown keys, never special", () => {
    const bag = JSON.parse('{"__proto__": {"lr": 5}}');
    expect(() => ADAM.parse("Adam", bag)).toThrow(/unknown option "__proto__"/);
    expect(() => ADAM.parse("Adam", { constructor: 1 })).toThrow(/unknown option "constructor"/);
  });

  test("extend adds fields to a schema without changing it", () => {
    const more = ADAM.extend({ momentum: number({ min: 0, default: 0 }) });
    expect(more.parse("SGD", { momentum: 0.5 }).momentum).toBe(0.5);
    expect(() => ADAM.parse("Adam", { momentum: 0.5 })).toThrow(/unknown option "momentum"/);
  });
});
