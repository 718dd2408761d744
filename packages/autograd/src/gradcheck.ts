import { NDArray, type Storage, fmtShape, zeros } from "@zerograd/tensor";
import { gradients } from "./engine.js";
import { noGrad } from "./mode.js";
import { Tensor } from "./tensor.js";

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6, for float64). */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Which inputs to check (default: all). The others are passed as constants. */
  wrt?: readonly number[];
}

export interface GradcheckResult {
  ok: boolean;
  /** The largest |analytic − numeric| seen. */
  maxAbsError: number;
  /** On failure: which output, input and element disagreed, and both values. */
  message: string;
}

/**
 * Compares the analytic Jacobian (from backward) with central finite differences
 * (f(x + ε) − f(x − ε)) / 2ε, element by element, in float64 — as torch.autograd.gradcheck does.
 * Also checks that backward is reentrant (two runs give bitwise the same gradients).
 * Expanded (stride-0) inputs are rejected: a perturbation there would move many elements at once.
 */
export function gradcheck(f: (...inputs: Tensor[]) => Tensor, inputs: readonly (Tensor | NDArray)[], options: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3 } = options;
  const wrt = options.wrt ?? inputs.map((_, i) => i);
  const values = inputs.map((x, i) => {
    const v = x instanceof Tensor ? x.value : x;
    if (v.strides.some((s, k) => s === 0 && v.shape[k]! > 1)) throw new Error(`gradcheck: input ${i} ${fmtShape(v.shape)} is expanded (a stride is 0); pass a contiguous copy`);
    return new NDArray(v.copyData("float64"), v.shape);
  });
  const leaves = () => values.map((v, i) => new Tensor(v, wrt.includes(i)));
  const evaluate = () => noGrad(() => f(...values.map((v) => new Tensor(v))).value.copyData("float64"));

  // Analytic Jacobian, one output element (one backward pass with a one-hot seed) at a time.
  const base = leaves();
  const out = f(...base);
  if (!out.requiresGrad) throw new Error("gradcheck: the function's output does not depend on any checked input");
  const analytic: Storage[][] = []; // [output element][input] → gradient
  for (let j = 0; j < out.size; j++) {
    const seed = zeros(out.shape, { dtype: "float64" });
    seed.data[j] = 1;
    const gs = gradients(out, wrt.map((i) => base[i]!), { seed, retainGraph: true });
    const again = gradients(out, wrt.map((i) => base[i]!), { seed, retainGraph: true });
    gs.forEach((g, k) => {
      const a = g.value.copyData("float64"), b = again[k]!.value.copyData("float64");
      for (let e = 0; e < a.length; e++) {
        if (!Object.is(a[e], b[e])) throw new Error(`gradcheck: backward is not reentrant: input ${wrt[k]}, element ${e}: ${a[e]} then ${b[e]}`);
      }
    });
    analytic.push(gs.map((g) => g.value.copyData("float64")));
  }

  // Numeric Jacobian, one input element at a time, compared as we go.
  let maxAbsError = 0;
  for (let k = 0; k < wrt.length; k++) {
    const data = values[wrt[k]!]!.data;
    for (let e = 0; e < data.length; e++) {
      const saved = data[e]!;
      data[e] = saved + eps;
      const plus = evaluate();
      data[e] = saved - eps;
      const minus = evaluate();
      data[e] = saved;
      for (let j = 0; j < out.size; j++) {
        const numeric = (plus[j]! - minus[j]!) / (2 * eps);
        const a = analytic[j]![k]![e]!;
        const err = Math.abs(a - numeric);
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          return {
            ok: false,
            maxAbsError: Number.isNaN(err) ? NaN : Math.max(maxAbsError, err),
            message: `gradcheck: Jacobian mismatch for output ${j} with respect to input ${wrt[k]}, element ${e}: numerical ${numeric}, analytical ${a} (|diff| ${err} > atol ${atol} + rtol ${rtol}·|numerical|)`,
          };
        }
        maxAbsError = Math.max(maxAbsError, err);
      }
    }
  }
  return { ok: true, maxAbsError, message: "" };
}
