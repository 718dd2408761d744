import { NDArray, Tensor, gradients, tensor } from "@zerograd/autograd";
import { binaryCrossEntropy } from "@zerograd/losses";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Random, useKernels } from "@zerograd/tensor";
import { type Case, type LossName, buildCase, describe as describeCase, lossFn, paramsArb, poisoned, rowEntries } from "./contract.js";

/**
 * The fused kernels (BCE from logits, MSE, sparse CE from logits) against the composed
 * definitions they sit beside: over random shapes, masks (empty and full), weights, posWeight,
 * class weights, label smoothing, reductions and groups, in float32, with poison (NaN,
 * ±Infinity, 1e30) at masked positions.
 */
function runF32(c: Case, fused: boolean) {
  const p = new Tensor(new NDArray(Float32Array.from(c.pred), c.predShape), true);
  const out = lossFn(c.params.loss)(p, new NDArray(Float32Array.from(c.target), c.targetShape), { ...c.options, fused });
  const seed = c.options.reduction === "none" ? new NDArray(Float32Array.from(c.seedGrad), out.shape) : undefined;
  const [g] = gradients(out, [p], { seed });
  return { op: out.node?.op.name, value: Array.from(out.data), grad: Array.from(g!.data) };
}

/** |a − b| ≤ tol·(scale + |b|): float32 tolerance relative to the size of the values involved. */
function near(a: number[], b: number[], tol: number): boolean {
  const scale = Math.max(1e-6, ...b.map(Math.abs));
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) <= tol * (scale + Math.abs(b[i]!)));
}

const FUSED: Partial<Record<LossName, string>> = {
  binaryCrossEntropy: "binaryCrossEntropyFused",
  meanSquaredError: "meanSquaredErrorFused",
  sparseCategoricalCrossEntropy: "sparseCategoricalCrossEntropyFused",
};

describe.each(Object.keys(FUSED) as LossName[])("fused %s", (loss) => {
  const cases = paramsArb([loss], 6).map((p) => buildCase({ ...p, fromLogits: true }));
  test("property: fused and composed agree (values, gradients) and both give exact zeros at masked positions", () => {
    fc.assert(
      fc.property(cases, (clean) => {
        const c = poisoned(clean, clean.params.seed + 3);
        const fused = runF32(c, true), composed = runF32(c, false);
        const info = describeCase(c);
        const applies = c.kind !== "sparse" || c.axis === c.predShape.length - 1; // sparse: class axis last
        expect(fused.op, info).toBe(applies ? FUSED[loss] : composed.op);
        expect(composed.op, info).not.toBe(FUSED[loss]);
        for (let i = 0; i < c.keep.length; i++) {
          if (c.keep[i]) continue;
          for (const j of c.kind === "elementwise" ? [i] : rowEntries(i, c.lossShape, c.predShape, c.axis)) {
            if (fused.grad[j] !== 0 || composed.grad[j] !== 0) throw new Error(`masked gradient ${fused.grad[j]} / ${composed.grad[j]} at ${j}: ${info}`);
          }
          if (c.params.reduction === "none" && (fused.value[i] !== 0 || composed.value[i] !== 0)) throw new Error(`masked value at ${i}: ${info}`);
        }
        expect(near(fused.value, composed.value, 1e-5), `values ${fused.value} vs ${composed.value}: ${info}`).toBe(true);
        expect(near(fused.grad, composed.grad, 1e-5), `gradients ${fused.grad} vs ${composed.grad}: ${info}`).toBe(true);
        if (c.keep.every((k) => k === 0)) expect(fused.value.every((v) => v === 0) && fused.grad.every((g) => g === 0), info).toBe(true);
      }),
      { seed: 20261130, numRuns: 300 },
    );
  });
});

describe("fused binaryCrossEntropy from logits", () => {
  test("declines where it does not apply: float64, probabilities, a target that requires grad, fused: false", () => {
    const op = (p: Tensor, t: Tensor | number[], o: Record<string, unknown>) => binaryCrossEntropy(p, t, o).node?.op.name;
    const x32 = tensor([0.3, -2], { requiresGrad: true });
    expect(op(x32, [1, 0], { fromLogits: true })).toBe("binaryCrossEntropyFused");
    expect(op(tensor([0.3, -2], { dtype: "float64", requiresGrad: true }), [1, 0], { fromLogits: true })).not.toBe("binaryCrossEntropyFused");
    expect(op(tensor([0.3, 0.2], { requiresGrad: true }), [1, 0], {})).not.toBe("binaryCrossEntropyFused");
    expect(op(x32, tensor([1, 0], { requiresGrad: true }), { fromLogits: true })).not.toBe("binaryCrossEntropyFused");
    expect(op(x32, [1, 0], { fromLogits: true, fused: false })).not.toBe("binaryCrossEntropyFused");
  });

  test("retainGraph: every backward pass gets the same gradient, and handing one out leaves the saved one intact", () => {
    const rng = new Random(3), n = 300;
    const x = tensor(Float32Array.from({ length: n }, () => rng.uniform(-4, 4)), { requiresGrad: true });
    const loss = binaryCrossEntropy(x, Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 : i % 2)), { fromLogits: true, maskValue: -1 });
    expect(loss.node?.op.name).toBe("binaryCrossEntropyFused");
    const [first] = gradients(loss, [x], { retainGraph: true });
    const kept = Array.from(first!.data);
    first!.data.fill(7); // the caller owns what it was handed
    const [second] = gradients(loss, [x], { retainGraph: true });
    expect(Array.from(second!.data)).toEqual(kept);
    const [last] = gradients(loss, [x]); // frees the graph: the saved gradient itself may be handed out
    expect(Array.from(last!.data)).toEqual(kept);
    expect(() => gradients(loss, [x])).toThrow(/freed/);
  });

  test("gradients of gradients go through the composed definition (createGraph)", () => {
    // d/dx of Σ (dL/dx)²: the fused op's vjp records the composed gradient when createGraph is on.
    const secondOrder = (fused: boolean) => {
      const x = tensor([0.7, -1.5, 2.5, 0.1], { requiresGrad: true });
      const loss = binaryCrossEntropy(x, [1, 0, NaN, 0.3], { fromLogits: true, maskValue: NaN, posWeight: 2, fused });
      const [g] = gradients(loss, [x], { createGraph: true });
      const [gg] = gradients(g!.square().sum(), [x]);
      return { first: Array.from(g!.data), second: Array.from(gg!.data) };
    };
    const fused = secondOrder(true), composed = secondOrder(false);
    expect(near(fused.first, composed.first, 1e-6)).toBe(true);
    expect(near(fused.second, composed.second, 1e-6)).toBe(true);
    expect(fused.second[2]).toBe(0); // masked: exactly 0 at second order too
    expect(fused.second.some((v) => v !== 0)).toBe(true);
  });
});

describe("fused binaryCrossEntropy from logits on sizes the WebAssembly kernel takes", () => {
  // The contract cases above are small (the kernels hand those to JS); these have hundreds of
  // elements with odd tails, so the active kernel set (WebAssembly by default, JS when forced)
  // runs its own loop, against the composed definition and the JS kernel.
  const arbCase = fc.record({ rows: fc.integer({ min: 5, max: 40 }), cols: fc.integer({ min: 13, max: 31 }), seed: fc.integer({ min: 0, max: 1e6 }), posWeight: fc.constantFrom(1, 2.5), labelSmoothing: fc.constantFrom(0, 0.1), reduction: fc.constantFrom("mean", "sum", "none") });
  test("property: fused (active kernels), fused (JS kernels) and composed agree; exact zeros where masked", () => {
    fc.assert(
      fc.property(arbCase, ({ rows, cols, seed, ...options }) => {
        const rng = new Random(seed), n = rows * cols;
        const logits = Float32Array.from({ length: n }, () => rng.uniform(-8, 8));
        const target = Float32Array.from({ length: n }, (_, i) => (rng.uniform(0, 1) < 0.3 ? (i % 2 ? NaN : Infinity) : Math.round(rng.uniform(0, 1))));
        for (let i = 0; i < n; i++) if (!Number.isFinite(target[i]!)) logits[i] = [NaN, Infinity, -1e30][i % 3]!; // poison where masked
        const run = (fused: boolean) => {
          const x = new Tensor(new NDArray(logits.slice(), [rows, cols]), true);
          const out = binaryCrossEntropy(x, new NDArray(target.slice(), [rows, cols]), { fromLogits: true, maskValue: NaN, mask: new NDArray(Float32Array.from(target, (t) => (t === Infinity ? 0 : 1)), [rows, cols]), fused, ...options });
          const [g] = gradients(out, [x], { seed: out.size > 1 ? new NDArray(new Float32Array(out.size).fill(0.5), out.shape) : undefined });
          return { op: out.node?.op.name, value: Array.from(out.data), grad: Array.from(g!.data) };
        };
        const fused = run(true), composed = run(false), previous = useKernels("js"), fusedJs = run(true);
        useKernels(previous);
        expect(fused.op).toBe("binaryCrossEntropyFused");
        for (const [a, b] of [[fused, composed], [fused, fusedJs]] as const) {
          expect(near(a.value, b.value, 1e-5), `values ${a.value} vs ${b.value}`).toBe(true);
          expect(near(a.grad, b.grad, 1e-5), `gradients`).toBe(true);
        }
        for (let i = 0; i < n; i++) {
          if (Number.isFinite(target[i]!)) continue;
          if (fused.grad[i] !== 0 || composed.grad[i] !== 0) throw new Error(`masked gradient ${fused.grad[i]} / ${composed.grad[i]} at ${i}`);
          if (options.reduction === "none" && fused.value[i] !== 0) throw new Error(`masked value ${fused.value[i]} at ${i}`);
        }
      }),
      { seed: 20261130, numRuns: 40 },
    );
  });
});
