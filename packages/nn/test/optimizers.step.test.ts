/**
 * The optimizer step reads each gradient where it lies (a strided gradient, such as Dense's
 * transposed weight gradient, is read in place as a strided view) and updates each parameter in
 * place. These tests pin that down:
 *   - the weights after many steps are bitwise those of plain reference implementations of the
 *     documented update rules (written below, reading a fresh row-major copy of every gradient);
 *   - the first step allocates only the slots, and once they exist a step allocates no
 *     Float32Array and keeps its state arrays.
 */
import { Tensor, sub, sum, square, tensor } from "@zerograd/autograd";
import { NDArray, Random, type Storage } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { Adam, AdamW, Dense, type Optimizer, RMSprop, ReLU, SGD, Sequential } from "../src/index.js";

// ---------------------------------------------------------------------------------------------
// Reference update rules, written plainly: one fresh row-major copy of each gradient per step.
// ---------------------------------------------------------------------------------------------

type Reference = (params: Tensor[]) => () => void;

function referenceSGD(lr: number, momentum = 0, dampening = 0, nesterov = false, wd = 0): Reference {
  return (params) => {
    const buffers = params.map((): Storage | null => null);
    return () => params.forEach((p, i) => {
      if (p.grad === null) return;
      const g = p.grad.value.copyData(), w = p.value.data;
      if (momentum === 0) {
        for (let k = 0; k < w.length; k++) w[k] = w[k]! - lr * (g[k]! + wd * w[k]!);
        return;
      }
      const fresh = buffers[i] === null;
      const b = (buffers[i] ??= new Float32Array(w.length));
      for (let k = 0; k < w.length; k++) {
        const gk = g[k]! + wd * w[k]!;
        b[k] = fresh ? gk : momentum * b[k]! + (1 - dampening) * gk;
        w[k] = w[k]! - lr * (nesterov ? gk + momentum * b[k]! : b[k]!);
      }
    });
  };
}

function referenceAdam(lr: number, beta1: number, beta2: number, eps: number, wd: number, decoupled: boolean): Reference {
  return (params) => {
    const m = params.map((p) => new Float32Array(p.size)), v = params.map((p) => new Float32Array(p.size));
    const steps = params.map(() => 0);
    return () => params.forEach((p, i) => {
      if (p.grad === null) return;
      const g = p.grad.value.copyData(), w = p.value.data, t = ++steps[i]!;
      const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
      const l2 = decoupled ? 0 : wd, shrink = decoupled ? 1 - lr * wd : 1;
      for (let k = 0; k < w.length; k++) {
        const gk = g[k]! + l2 * w[k]!;
        m[i]![k] = beta1 * m[i]![k]! + (1 - beta1) * gk;
        v[i]![k] = beta2 * v[i]![k]! + (1 - beta2) * gk * gk;
        w[k] = w[k]! * shrink - (lr * (m[i]![k]! / c1)) / (Math.sqrt(v[i]![k]! / c2) + eps);
      }
    });
  };
}

function referenceRMSprop(lr: number, alpha: number, eps: number, momentum: number, centered: boolean, wd: number): Reference {
  return (params) => {
    const sq = params.map((p) => new Float32Array(p.size)), avg = params.map((p) => new Float32Array(p.size));
    const buf = params.map((p) => new Float32Array(p.size));
    return () => params.forEach((p, i) => {
      if (p.grad === null) return;
      const g = p.grad.value.copyData(), w = p.value.data;
      for (let k = 0; k < w.length; k++) {
        const gk = g[k]! + wd * w[k]!;
        sq[i]![k] = alpha * sq[i]![k]! + (1 - alpha) * gk * gk;
        let s = sq[i]![k]!;
        if (centered) {
          avg[i]![k] = alpha * avg[i]![k]! + (1 - alpha) * gk;
          s -= avg[i]![k]! * avg[i]![k]!;
        }
        const step = gk / (Math.sqrt(s) + eps);
        if (momentum > 0) {
          buf[i]![k] = momentum * buf[i]![k]! + step;
          w[k] = w[k]! - lr * buf[i]![k]!;
        } else w[k] = w[k]! - lr * step;
      }
    });
  };
}

// ---------------------------------------------------------------------------------------------
// A small MLP trained side by side: one copy by the optimizer, one by the reference.
// ---------------------------------------------------------------------------------------------

function mlp(): Sequential {
  return new Sequential([new Dense(6, 12, { seed: 3 }), new ReLU(), new Dense(12, 4, { seed: 4 })]);
}

function batch(step: number): { x: Tensor; y: Tensor } {
  const rng = new Random(100 + step);
  const x = Array.from({ length: 5 }, () => Array.from({ length: 6 }, () => rng.normal()));
  const y = Array.from({ length: 5 }, () => Array.from({ length: 4 }, () => rng.normal()));
  return { x: tensor(x), y: tensor(y) };
}

function backward(model: Sequential, step: number): void {
  const { x, y } = batch(step);
  for (const p of model.parameters()) p.grad = null;
  sum(square(sub(model.call(x), y))).backward();
}

const bits = (model: Sequential) => model.parameters().map((p) => Array.from(new Uint32Array(p.value.data.buffer, p.value.data.byteOffset, p.size)));

const CASES: [string, (ps: Tensor[]) => Optimizer, Reference][] = [
  ["SGD", (ps) => new SGD(ps, { lr: 0.05 }), referenceSGD(0.05)],
  ["SGD, momentum, dampening and weight decay", (ps) => new SGD(ps, { lr: 0.005, momentum: 0.8, dampening: 0.2, weightDecay: 0.01 }), referenceSGD(0.005, 0.8, 0.2, false, 0.01)],
  ["SGD, Nesterov", (ps) => new SGD(ps, { lr: 0.005, momentum: 0.9, nesterov: true }), referenceSGD(0.005, 0.9, 0, true)],
  ["Adam", (ps) => new Adam(ps, { lr: 0.01 }), referenceAdam(0.01, 0.9, 0.999, 1e-8, 0, false)],
  ["Adam, L2", (ps) => new Adam(ps, { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.05 }), referenceAdam(0.01, 0.8, 0.99, 1e-8, 0.05, false)],
  ["AdamW", (ps) => new AdamW(ps, { lr: 0.01, eps: 1e-6 }), referenceAdam(0.01, 0.9, 0.999, 1e-6, 0.01, true)],
  ["RMSprop", (ps) => new RMSprop(ps, { lr: 0.005 }), referenceRMSprop(0.005, 0.99, 1e-8, 0, false, 0)],
  ["RMSprop, centered, momentum", (ps) => new RMSprop(ps, { lr: 0.002, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01 }), referenceRMSprop(0.002, 0.9, 1e-8, 0.5, true, 0.01)],
];

/** Runs `f` with every `new Float32Array(…)` counted (views made by subarray are not allocations). */
function countFloat32Allocations(f: () => void): number {
  const Original = globalThis.Float32Array;
  let count = 0;
  globalThis.Float32Array = class extends Original {
    constructor(...args: unknown[]) {
      super(...(args as [number]));
      count++;
    }
  } as Float32ArrayConstructor;
  try {
    f();
  } finally {
    globalThis.Float32Array = Original;
  }
  return count;
}

describe("the optimizer step, in place", () => {
  test("Dense's weight gradient is a strided view: the case the in-place read must handle", () => {
    const model = mlp();
    backward(model, 0);
    expect(model.parameters().some((p) => !p.grad!.value.isContiguous)).toBe(true);
    expect(model.parameters().some((p) => p.grad!.value.isContiguous)).toBe(true);
  });

  test.each(CASES)("%s: 30 steps bitwise equal to the reference rule", (_name, make, reference) => {
    const model = mlp(), twin = mlp();
    expect(bits(model)).toEqual(bits(twin));
    const opt = make(model.parameters()), step = reference(twin.parameters());
    for (let t = 0; t < 30; t++) {
      backward(model, t);
      backward(twin, t);
      opt.step();
      step();
      expect(bits(model)).toEqual(bits(twin));
    }
    expect(bits(model)).not.toEqual(bits(mlp())); // it did train…
    expect(model.parameters().every((p) => p.value.data.every(Number.isFinite))).toBe(true); // …without diverging
  });

  test.each(CASES)("%s: no Float32Array allocated per step once the slots exist, and the slots stay the same arrays", (_name, make) => {
    const model = mlp();
    const opt = make(model.parameters());
    backward(model, 0);
    opt.step(); // the first step creates the slots (and the buffers for strided gradients)
    const slots = (opt as unknown as { slots: Record<string, (Storage | null)[]> }).slots;
    const before = Object.values(slots).flat();
    for (let t = 1; t < 4; t++) {
      backward(model, t);
      expect(countFloat32Allocations(() => opt.step())).toBe(0);
    }
    expect(Object.values(slots).flat()).toEqual(before);
    Object.values(slots).flat().forEach((s, i) => expect(s).toBe(before[i]));
  });

  test.each(CASES)("%s: the first step allocates the slots and nothing else (no copy of a strided gradient)", (_name, make) => {
    const model = mlp();
    const opt = make(model.parameters());
    backward(model, 0);
    const allocated = countFloat32Allocations(() => opt.step());
    const slots = (opt as unknown as { slots: Record<string, (Storage | null)[]> }).slots;
    expect(allocated).toBe(Object.values(slots).flat().filter((s) => s !== null).length);
  });

  test("the counter does count: copying a strided gradient allocates", () => {
    const model = mlp();
    backward(model, 0);
    const strided = model.parameters().find((p) => !p.grad!.value.isContiguous)!;
    expect(countFloat32Allocations(() => strided.grad!.value.copyData())).toBe(1);
  });

  test("a parameter whose gradient has an offset into a larger array is read in place", () => {
    const p = new Dense(2, 2, { seed: 1 }).bias!;
    const big = new Float32Array([9, 1, 2, 9]);
    p.grad = new Tensor(new NDArray(big, [2], [1], 1));
    const before = Array.from(p.data);
    const opt = new SGD([p], { lr: 0.5 });
    expect(countFloat32Allocations(() => opt.step())).toBe(0);
    expect(Array.from(p.data)).toEqual(before.map((w, k) => Math.fround(w - 0.5 * [1, 2][k]!)));
  });
});
