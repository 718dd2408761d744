/** Helpers for the autograd tests: float64 tensors and gradcheck at the project's tolerances. */
import { expect } from "vitest";
import { type GradcheckOptions, type Tensor, gradcheck, randomUniform, randn, tensor } from "@zerograd/autograd";
import type { NestedArray, Shape } from "@zerograd/tensor";

/** Central differences in float64: eps 1e-6, atol 1e-5, rtol 1e-3 (as torch.autograd.gradcheck). */
export const GRADCHECK = { eps: 1e-6, atol: 1e-5, rtol: 1e-3 } as const;

/** A float64 tensor from nested numbers. */
export const t64 = (values: NestedArray, requiresGrad = false): Tensor => tensor(values, { dtype: "float64", requiresGrad });

/** Seeded standard normal float64 samples. */
export const randn64 = (shape: Shape, seed: number): Tensor => randn(shape, { seed, dtype: "float64" });

/** Seeded uniform float64 samples in [low, high). */
export const uniform64 = (shape: Shape, low: number, high: number, seed: number): Tensor => randomUniform(shape, low, high, { seed, dtype: "float64" });

/** Asserts that gradcheck passes; on failure vitest shows gradcheck's message (output, input, element, both values). */
export function expectGradcheck(f: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const result = gradcheck(f, inputs, { ...GRADCHECK, ...options });
  expect(result.message).toBe("");
  expect(result.ok).toBe(true);
}

/**
 * Asserts that no two elements are closer than `gap`, so that finite differences of max-like ops
 * never cross a tie (gradcheck's step is 1e-6).
 */
export function expectNoNearTies(x: Tensor, gap = 1e-5): void {
  const sorted = Array.from(x.value.flat()).sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThan(gap);
}
