import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import {
  AnomalyError, type OpDef, apply, detectAnomaly, isAnomalyEnabled, isGradEnabled, log, mul, noGrad, setDetectAnomaly, sqrt, sum, withGradMode,
} from "@zerograd/autograd";
import { t64 } from "./helpers.js";

describe("detectAnomaly", () => {
  test("forward: names the op, the input shapes and ranges, and the creating frame (this file)", () => {
    const x = t64([[1, -2, 3]]);
    expect(log(x).toArray()).toEqual([[0, NaN, Math.log(3)]]); // off: silent, as before
    let error: unknown;
    try {
      detectAnomaly(() => log(x));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AnomalyError);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as AnomalyError).op).toBe("log");
    expect((error as Error).message).toMatch(/^detectAnomaly: log \(forward\) produced NaN in its output from inputs without NaN: input 0 \[1,3\] float64 values in \[-2, 3\]; the op was created at .*anomaly\.test\.ts/);
  });

  test("forward: a NaN already in the inputs is not an anomaly; a new ±Infinity is", () => {
    expect(() => detectAnomaly(() => mul(t64([NaN, 1]), 2))).not.toThrow();
    expect(() => detectAnomaly(() => log(t64([0, 1])))).toThrow(/log \(forward\) produced ±Infinity in its output from inputs without ±Infinity: input 0 \[2\] float64 values in \[0, 1\]/);
  });

  test("backward: names the op whose vjp made the non-finite gradient and where it was created", () => {
    const x = t64([0, 4], true);
    const y = detectAnomaly(() => sum(sqrt(x))); // forward is finite; d√x = 1/(2√x) is ∞ at 0
    expect(() => detectAnomaly(() => y.backward({ retainGraph: true }))).toThrow(
      /^detectAnomaly: sqrt \(backward\) produced ±Infinity in the gradient for input 0 from inputs without ±Infinity: incoming gradient \[2\] float64 values in \[1, 1\]; input 0 \[2\] float64 values in \[0, 4\]; output \[2\] float64 values in \[0, 2\]; the op was created at .*anomaly\.test\.ts/,
    );
    expect(x.grad).toBeNull(); // nothing written
    y.backward(); // off: silent, as before
    expect(Array.from(x.grad!.data)).toEqual([Infinity, 0.25]);
  });

  test("the global switch and the scope restore the previous setting, also after a throw", () => {
    expect(isAnomalyEnabled()).toBe(false);
    expect(setDetectAnomaly(true)).toBe(false);
    try {
      expect(isAnomalyEnabled()).toBe(true);
      expect(() => log(t64([-1]))).toThrow(AnomalyError);
      expect(detectAnomaly(() => isAnomalyEnabled())).toBe(true);
      expect(isAnomalyEnabled()).toBe(true);
    } finally {
      expect(setDetectAnomaly(false)).toBe(true);
    }
    expect(() => detectAnomaly(() => log(t64([-1])))).toThrow(AnomalyError);
    expect(isAnomalyEnabled()).toBe(false);
  });

  test("the creation site is recorded only when the mode is on", () => {
    const x = t64([1], true);
    expect(mul(x, 2).node!.site).toBeUndefined();
    expect(detectAnomaly(() => mul(x, 2)).node!.site).toMatch(/anomaly\.test\.ts/);
  });

  test("an op inside a vjp is checked as part of that vjp, not as a forward op", () => {
    // This vjp divides by x: at 0 that makes ∞ inside the vjp; the error names the op, not div.
    const inverse: OpDef = { name: "scaledCopy", forward: ([x]) => x!, vjp: (g, c) => [mul(g, T.reciprocal(c.inputs[0]!.value).data[0]!)] };
    const x = t64([0], true);
    const y = detectAnomaly(() => sum(apply(inverse, [x], undefined)));
    expect(() => detectAnomaly(() => y.backward())).toThrow(/^detectAnomaly: scaledCopy \(backward\)/);
  });
});

describe("scopes are synchronous: a function returning a promise is refused", () => {
  test.each([
    ["noGrad", (f: () => unknown) => noGrad(f)],
    ["withGradMode", (f: () => unknown) => withGradMode(false, f)],
    ["detectAnomaly", (f: () => unknown) => detectAnomaly(f)],
  ])("%s", (name, scope) => {
    expect(() => scope(async () => 1)).toThrow(new TypeError(`${name}: the function returned a promise; ${name} is synchronous and would stop applying at the first await. Call it inside the async function around each synchronous part instead`));
    expect(() => scope(() => ({ then: () => undefined }))).toThrow(TypeError);
    expect(isGradEnabled()).toBe(true);
    expect(isAnomalyEnabled()).toBe(false);
    expect(scope(() => 5)).toBe(5);
  });
});
