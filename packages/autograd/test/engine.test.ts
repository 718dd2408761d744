import { describe, expect, test } from "vitest";
import * as T from "@zerograd/tensor";
import {
  type OpDef, ShapeError, Tensor, add, apply, backward, exp, gradcheck, gradients, grad, isGradEnabled, matmul, maxPool2d, mul, noGrad,
  relu, sin, slice, square, sum, tanh, tensor, toDot, valueAndGrad, withGradMode, zeros,
} from "@zerograd/autograd";
import fc from "fast-check";
import { randn64, t64 } from "./helpers.js";
import "../../../tools/testing/matchers.js";

describe("backward and .grad", () => {
  test("a tensor used twice receives the sum of both gradients", () => {
    const x = t64([3, -2], true);
    sum(mul(x, x)).backward(); // d(x²) = 2x, from the two uses x·1 + 1·x
    expect(x.grad).toBeAllclose([6, -4]);
    const y = t64([1.5], true);
    sum(add(mul(y, 2), exp(y))).backward(); // 2 + e^y
    expect(y.grad).toBeAllclose([2 + Math.exp(1.5)], { atol: 1e-14 });
  });

  test(".grad accumulates across backward calls (until reset)", () => {
    const x = t64([1, 2], true);
    sum(mul(x, 3)).backward();
    sum(mul(x, 3)).backward();
    expect(x.grad).toBeAllclose([6, 6]);
    x.grad = null;
    sum(square(x)).backward();
    expect(x.grad).toBeAllclose([2, 4]);
  });

  test("the gradient does not require grad and has no graph (without createGraph)", () => {
    const x = t64([1, 2], true);
    sum(square(x)).backward();
    expect(x.grad!.requiresGrad).toBe(false);
    expect(x.grad!.node).toBeNull();
  });

  test("only leaves keep .grad; intermediate tensors do not", () => {
    const x = t64([1, 2], true);
    const h = mul(x, 2);
    sum(h).backward();
    expect(h.grad).toBeNull();
    expect(x.grad).toBeAllclose([2, 2]);
  });

  test("the graph is freed after backward: a second backward throws a clear error", () => {
    const x = t64([1, 2], true);
    const y = sum(exp(x));
    y.backward();
    expect(() => y.backward()).toThrow(
      "backward: the graph behind sum was freed by an earlier backward(); pass { retainGraph: true } to go through it twice",
    );
  });

  test("saved values are dropped once a node's vjp has run", () => {
    const x = randn64([1, 4, 4, 1], 1).requireGrad();
    const y = maxPool2d(x, { poolSize: 2 });
    expect(y.node!.saved).toBeInstanceOf(Int32Array);
    sum(y).backward();
    expect(y.node!.saved).toBeUndefined();
    expect(y.node!.freed).toBe(true);
  });

  test("retainGraph allows a second pass, which accumulates again", () => {
    const x = t64([1, 2], true);
    const y = sum(exp(x));
    y.backward({ retainGraph: true });
    y.backward();
    expect(x.grad).toBeAllclose([2 * Math.E, 2 * Math.E ** 2], { atol: 1e-14 });
  });

  test("createGraph records the backward pass: gradients of gradients", () => {
    const x = t64([2, -1], true);
    const y = sum(mul(square(x), x)); // Σ x³
    const [g] = gradients(y, [x], { createGraph: true }); // 3x²
    expect(g).toBeAllclose([12, 3]);
    expect(g!.requiresGrad).toBe(true);
    const [h] = gradients(sum(g!), [x]); // 6x
    expect(h).toBeAllclose([12, -6]);
    // backward with createGraph leaves a differentiable .grad.
    const z = t64([0.5], true);
    sum(sin(z)).backward({ createGraph: true });
    expect(z.grad!.requiresGrad).toBe(true);
    const [d2] = gradients(sum(z.grad!), [z]); // d cos z = −sin z
    expect(d2).toBeAllclose([-Math.sin(0.5)], { atol: 1e-15 });
  });

  test("a non-scalar root needs a seed of its shape", () => {
    const x = t64([1, 2], true);
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow(new ShapeError("backward", "a seed gradient is required for a non-scalar root", [[2]]));
    expect(() => y.backward({ seed: T.ones([3]) })).toThrow("backward: seed must have the root's shape: [3] x [2]");
    y.backward({ seed: T.array([1, 10], { dtype: "float64" }) });
    expect(x.grad).toBeAllclose([2, 20]);
    const x2 = t64([1, 2], true);
    backward(mul(x2, x2), { seed: t64([1, 1]) });
    expect(x2.grad).toBeAllclose([2, 4]);
  });

  test("backward on a tensor with no graph is an error", () => {
    expect(() => t64([1]).backward()).toThrow("backward: the tensor does not require grad and has no graph behind it");
  });

  test("a leaf root receives the seed as its gradient", () => {
    const x = t64([4], true);
    x.backward();
    expect(x.grad).toBeAllclose([1]);
  });

  test("the engine reduces broadcast gradients and names an op whose vjp has the wrong shape", () => {
    const broken: OpDef = {
      name: "brokenDouble",
      forward: ([x]) => T.mul(x!, 2),
      vjp: (g) => [new Tensor(T.ones([3]))], // a [3] gradient for a [2] input
    };
    const x = t64([1, 2], true);
    expect(() => sum(apply(broken, [x], undefined)).backward()).toThrow(
      "brokenDouble (backward): gradient for input 0 cannot be summed to the input's shape: [3] x [2]",
    );
  });
});

describe("noGrad, detach, requireGrad", () => {
  test("noGrad records nothing and restores the mode", () => {
    const x = t64([1, 2], true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return mul(x, 3);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(() => noGrad(() => { throw new Error("boom"); })).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
    expect(withGradMode(false, () => isGradEnabled())).toBe(false);
  });

  test("no node is recorded when no input requires grad", () => {
    const y = mul(t64([1]), t64([2]));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
  });

  test("detach cuts the graph: the detached path contributes nothing", () => {
    const x = t64([3], true);
    const y = mul(x.detach(), x); // only the second factor is differentiated
    sum(y).backward();
    expect(x.grad).toBeAllclose([3]);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.value).toBe(x.value);
  });

  test("requireGrad works on leaves only", () => {
    const x = tensor([1, 2]).requireGrad();
    expect(x.requiresGrad).toBe(true);
    expect(() => mul(x, 2).requireGrad()).toThrow("requireGrad: only leaf tensors can change requiresGrad (this one was made by mul)");
  });
});

describe("gradients, grad and valueAndGrad", () => {
  test("gradients returns d root / d input for intermediate tensors too, and zeros for unrelated ones", () => {
    const x = t64([1, 2], true), unrelated = t64([5, 5, 5], true);
    const h = mul(x, 3);
    const y = sum(square(h)); // dy/dh = 2h = [6, 12]; dy/dx = 6h = [18, 36]
    const [gh, gx, gu] = gradients(y, [h, x, unrelated]);
    expect(gh).toBeAllclose([6, 12]);
    expect(gx).toBeAllclose([18, 36]);
    expect(gu).toBeAllclose([0, 0, 0]);
    expect(x.grad).toBeNull(); // returned, not accumulated
  });

  test("grad with argnums: default 0, a number, or a list", () => {
    const f = (a: Tensor, b: Tensor) => sum(mul(square(a), b)); // ∂a = 2ab, ∂b = a²
    const a = t64([1, 2]), b = t64([3, 4]);
    expect(grad(f)(a, b)).toBeAllclose([6, 16]);
    expect(grad(f, 1)(a, b)).toBeAllclose([1, 4]);
    const [ga, gb] = grad(f, [0, 1])(a, b);
    expect(ga).toBeAllclose([6, 16]);
    expect(gb).toBeAllclose([1, 4]);
    expect(grad(f, [1])(a, b)).toHaveLength(1);
    // The caller's tensors are untouched.
    expect(a.requiresGrad).toBe(false);
    expect(a.grad).toBeNull();
  });

  test("valueAndGrad returns the value (without a graph) and the gradient", () => {
    const f = (x: Tensor) => sum(square(x));
    const [v, g] = valueAndGrad(f)(t64([1, 2]));
    expect(v).toBeAllclose(5);
    expect(v.requiresGrad).toBe(false);
    expect(g).toBeAllclose([2, 4]);
    const [v2, gs] = valueAndGrad((x: Tensor, y: Tensor) => sum(mul(x, y)), [0, 1])(t64([2]), t64([5]));
    expect(v2).toBeAllclose(10);
    expect(gs[0]).toBeAllclose([5]);
    expect(gs[1]).toBeAllclose([2]);
  });

  test("grad accepts NDArrays and gives zeros when the function ignores the input", () => {
    // The returned function converts NDArrays at run time (its types ask for what f takes).
    const nd = T.array([0], { dtype: "float64" }) as unknown as Tensor;
    expect(grad((x: Tensor) => sum(exp(x)))(nd)).toBeAllclose([1]);
    expect(grad((x: Tensor, y: Tensor) => sum(y), 0)(t64([1, 2]), t64([3]))).toBeAllclose([0, 0]);
    expect(grad((x: Tensor) => sum(t64([1, 2])))(t64([7]))).toBeAllclose([0]);
  });

  test("grad of grad: nested calls differentiate the inner gradient", () => {
    const f = (x: Tensor) => sum(mul(square(x), x)); // Σ x³
    const d2 = grad((x: Tensor) => sum(grad(f)(x))); // 6x
    expect(d2(t64([1, -2]))).toBeAllclose([6, -12]);
    const d3 = grad((x: Tensor) => sum(grad((y: Tensor) => sum(grad(f)(y)))(x))); // 6
    expect(d3(t64([1, -2]))).toBeAllclose([6, 6]);
  });

  test("grad works inside noGrad (it records its own pass)", () => {
    expect(noGrad(() => grad((x: Tensor) => sum(square(x)))(t64([3])))).toBeAllclose([6]);
  });

  test("errors: argnums out of range, non-scalar output", () => {
    expect(() => grad((x: Tensor) => sum(x), 1)(t64([1]))).toThrow(new RangeError("grad: argnum 1 is out of range for 1 arguments"));
    expect(() => grad((x: Tensor) => sum(x), [0, -1])(t64([1]))).toThrow(new RangeError("grad: argnum -1 is out of range for 1 arguments"));
    expect(() => grad((x: Tensor) => mul(x, 2))(t64([1, 2]))).toThrow("grad: the function must return a scalar (one element): [2]");
  });
});

describe("gradcheck", () => {
  test("passes for a correct op and reports the largest error", () => {
    const r = gradcheck((x, w) => sum(tanh(matmul(x!, w!))), [randn64([2, 3], 1), randn64([3, 2], 2)]);
    expect(r.ok).toBe(true);
    expect(r.message).toBe("");
    expect(r.maxAbsError).toBeLessThan(1e-7);
  });

  // d(x²) is 2x; this record forgets the 2.
  const wrongSquare: OpDef = {
    name: "wrongSquare",
    forward: ([x]) => T.square(x!),
    vjp: (g, { inputs: [x] }) => [mul(g, x!)],
  };

  test("the failure message names output, input, element and both values", () => {
    const r = gradcheck((a, b) => add(mul(a!, 1), apply(wrongSquare, [b!], undefined)), [t64([1, 1]), t64([5, 3])]);
    expect(r.ok).toBe(false);
    // Output 0 = a₀ + b₀²: input 0 is right, input 1 element 0 is wrong (10 numerically, 5 analytically).
    expect(r.message).toMatch(
      /^gradcheck: Jacobian mismatch for output 0 with respect to input 1, element 0: numerical 10(\.0+\d*|9{5,}\d*)?, analytical 5 \(\|diff\| 5\.\d+ > atol 0\.00001 \+ rtol 0\.001·\|numerical\|\)$/,
    );
  });

  test("only the inputs listed in wrt are checked", () => {
    const f = (a: Tensor, b: Tensor) => sum(add(a, apply(wrongSquare, [b], undefined)));
    expect(gradcheck(f, [t64([1]), t64([2])], { wrt: [0] }).ok).toBe(true);
    expect(gradcheck(f, [t64([1]), t64([2])], { wrt: [1] }).message).toContain("with respect to input 1, element 0");
  });

  test("it catches a vjp that is not reentrant", () => {
    let calls = 0;
    const flaky: OpDef = { name: "flaky", forward: ([x]) => T.mul(x!, 1), vjp: (g) => [mul(g, 1 + 1e-3 * calls++)] };
    expect(() => gradcheck((x) => sum(apply(flaky, [x!], undefined)), [t64([1])])).toThrow(/^gradcheck: backward is not reentrant: input 0, element 0: 1 then 1\.001/);
  });

  test("it rejects expanded (stride-0) inputs and outputs that ignore the inputs", () => {
    const expanded = new Tensor(T.broadcastTo(T.array([1], { dtype: "float64" }), [3]));
    expect(() => gradcheck((x) => sum(x!), [expanded])).toThrow("gradcheck: input 0 [3] is expanded (a stride is 0); pass a contiguous copy");
    expect(() => gradcheck(() => sum(t64([1])), [t64([1])])).toThrow("gradcheck: the function's output does not depend on any checked input");
  });

  test("it evaluates in float64 even for float32 inputs", () => {
    const r = gradcheck((x) => sum(exp(x!)), [tensor([0.1, 0.2])]);
    expect(r.ok).toBe(true);
  });
});

describe("toDot", () => {
  test("the DOT graph mentions every op, the named leaves and the shapes", () => {
    const x = t64([[1, 2]], true);
    x.name = "x";
    const w = t64([[1], [2]], true);
    w.name = "weights";
    const y = sum(mul(relu(matmul(x, w)), 2));
    const dot = toDot(y, { title: "a tiny graph" });
    expect(dot.startsWith("digraph zerograd {")).toBe(true);
    expect(dot.trimEnd().endsWith("}")).toBe(true);
    for (const op of ["matmul", "relu", "mul", "sum"]) expect(dot).toContain(`label="${op}"`);
    expect(dot).toContain('label="x [1,2]\\nrequiresGrad"');
    expect(dot).toContain('label="weights [2,1]\\nrequiresGrad"');
    expect(dot).toContain('label="a tiny graph"');
    // One edge from each op to its output, one from each input to the op.
    expect(dot.match(/->/g)!.length).toBe(4 + 2 + 1 + 2 + 1); // op→out ×4; into matmul 2, relu 1, mul 2 (one a constant), sum 1
  });

  test("quotes in names are escaped", () => {
    const x = t64([1], true);
    x.name = 'say "hi"';
    expect(toDot(sum(x))).toContain('label="say \\"hi\\" [1]\\nrequiresGrad"');
  });
});

describe("creation helpers", () => {
  test("zeros and friends pass requiresGrad and dtype through", () => {
    const z = zeros([2], { dtype: "float64", requiresGrad: true });
    expect(z.requiresGrad).toBe(true);
    expect(z.dtype).toBe("float64");
    expect(z.isLeaf).toBe(true);
  });
});

describe("a failed backward changes nothing", () => {
  test("a freed graph is found before any .grad is written", async () => {
    const { add: addOp, mul: mulOp } = await import("../src/index.js");
    const a = t64([2], true), b = t64([3], true);
    const shared = mulOp(a, b); // its graph will be freed by the first backward
    sum(shared).backward();
    const [ga, gb] = [Array.from(a.grad!.data), Array.from(b.grad!.data)];
    const c = t64([5], true);
    // a new graph on top of the freed one: c's gradient would come first in the sweep
    expect(() => sum(addOp(mulOp(c, c), shared)).backward()).toThrow(/was freed by an earlier backward/);
    expect(c.grad).toBeNull();
    expect([Array.from(a.grad!.data), Array.from(b.grad!.data)]).toEqual([ga, gb]);
  });

  test("a vjp that throws leaves .grad untouched and the graph usable", async () => {
    const { apply, Tensor: TensorClass } = await import("../src/index.js");
    let fail = true;
    const flaky = { name: "flaky", forward: ([x]: T.NDArray[]) => x!, vjp: (g: InstanceType<typeof TensorClass>) => { if (fail) throw new Error("flaky vjp"); return [g]; } };
    const x = t64([1, 2], true);
    const y = sum(exp(apply(flaky, [x], undefined)));
    expect(() => y.backward()).toThrow("flaky vjp");
    expect(x.grad).toBeNull();
    fail = false;
    y.backward(); // the graph was not freed by the failed attempt
    expect(Array.from(x.grad!.data)).toEqual([Math.exp(1), Math.exp(2)]);
  });
});

describe("many slices of one tensor: gradients added in place outside createGraph", () => {
  test("property: backward's in-place accumulation equals the createGraph path (each vjp summed), bit for bit", () => {
    const plan = fc.array(fc.record({ t: fc.integer({ min: 0, max: 3 }), c0: fc.integer({ min: 0, max: 4 }), w: fc.double({ min: -2, max: 2, noNaN: true }) }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), plan, fc.integer({ min: 0, max: 1_000_000 }), (rows, slices, seed) => {
        const rng = new T.Random(seed);
        const x = tensor(Float32Array.from({ length: rows * 4 * 5 }, () => rng.normal()), { shape: [rows, 4, 5], requiresGrad: true });
        const lossOf = (): Tensor => {
          let total = mul(sum(exp(x)), 0.25); // a full-shape share beside the slices
          for (const { t, c0, w } of slices) total = add(total, sum(mul(slice(x, [undefined, { start: t, stop: t + 1 }, { start: c0, stop: 5 }]), w)));
          return total;
        };
        const inPlace = gradients(lossOf(), [x])[0]!, summed = gradients(lossOf(), [x], { createGraph: true })[0]!;
        expect(Array.from(inPlace.data)).toEqual(Array.from(summed.data));
      }),
      { seed: 7, numRuns: 60 },
    );
  });
});
