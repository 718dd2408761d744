import { Tensor, tensor } from "@zerograd/autograd";
import { expect } from "vitest";

/** A float64 leaf that requires grad (hand-computed expectations are float64 too). */
export const leaf = (values: unknown, shape?: number[]): Tensor => tensor(values as number[], { dtype: "float64", requiresGrad: true, shape });

/** value and the gradient with respect to `x` (backward on a fresh graph). */
export function valueAndGradOf(x: Tensor, f: (x: Tensor) => Tensor): { value: number; grad: number[] } {
  x.grad = null;
  const out = f(x);
  out.backward();
  return { value: out.item(), grad: Array.from(x.grad!.value.flat()) };
}

/** Elementwise closeness with a relative tolerance (1e-12 by default: float64 against float64). */
export function expectClose(actual: number | ArrayLike<number>, expected: number | ArrayLike<number>, tol = 1e-12): void {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : Array.from(expected);
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => {
    const ok = Math.abs(v - e[i]!) <= tol * (1 + Math.abs(e[i]!));
    if (!ok) expect.fail(`element ${i}: ${v} is not within ${tol} of ${e[i]} (actual ${JSON.stringify(a)}, expected ${JSON.stringify(e)})`);
  });
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const logSigmoid = (x: number): number => -Math.log1p(Math.exp(-x));
/** log softmax of a row, by the definition (x − log Σ eˣ), fine for moderate x. */
export const logSoftmaxRow = (row: number[]): number[] => {
  const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  return row.map((v) => v - lse);
};
export const sum = (xs: number[]): number => xs.reduce((s, v) => s + v, 0);
