import { Tensor, mul, square, sub, sum, tensor } from "@zerograd/autograd";
import { NDArray, ShapeError, type Storage } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import {
  Adam,
  AdamW,
  Dense,
  Optimizer,
  Parameter,
  RMSprop,
  SGD,
  Sequential,
  clipGradNorm,
  clipGradValue,
  constantLr,
  cosineDecay,
  exponentialDecay,
  linearWarmup,
  stepDecay,
} from "../src/index.js";

/**
 * The tiny problem every optimizer is checked on: f(p) = Σ ½·aᵢ·pᵢ² − bᵢ·pᵢ with a = [1, 4],
 * b = [0.5, −1], from p = [1, −2], so ∇f = a·p − b (first gradient [0.5, −7]). Parameters are
 * float64 so that the comparison is with the formulas themselves, not with float32 rounding.
 *
 * The reference values are the optimizers' documented update rules applied by hand in float64
 * (three steps each). First steps, worked out:
 *   SGD lr 0.1:            p₁ = [1 − 0.1·0.5, −2 + 0.1·7]            = [0.95, −1.3]
 *   Adam lr 0.1:           m̂₁ = g, v̂₁ = g², so p₁ = p₀ − 0.1·g/(|g| + 1e-8) ≈ [0.9, −1.9]
 *   SGD momentum 0.9:      b₁ = g, so p₁ equals plain SGD's; p₂ = p₁ − 0.1·(0.9·g₁ + g₂)
 */
function problem(): { p: Parameter; loss: () => Tensor } {
  const p = new Parameter(new NDArray(new Float64Array([1, -2]), [2]));
  const a = tensor([1, 4], { dtype: "float64" }), b = tensor([0.5, -1], { dtype: "float64" });
  return { p, loss: () => sum(sub(mul(0.5, mul(a, square(p))), mul(b, p))) };
}

function threeSteps(make: (params: Parameter[]) => Optimizer): number[][] {
  const { p, loss } = problem();
  const opt = make([p]);
  const out: number[][] = [];
  for (let t = 0; t < 3; t++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
    out.push(Array.from(p.data));
  }
  return out;
}

function expectSteps(actual: number[][], expected: number[][]): void {
  expected.forEach((row, t) => row.forEach((v, i) => expect(actual[t]![i]).toBeCloseTo(v, 12)));
}

describe("optimizers vs hand-computed steps", () => {
  test("SGD", () => {
    expectSteps(threeSteps((ps) => new SGD(ps, { lr: 0.1 })), [
      [0.95, -1.3],
      [0.905, -0.88],
      [0.8645, -0.628],
    ]);
  });

  test("SGD with momentum", () => {
    expectSteps(threeSteps((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 })), [
      [0.95, -1.3],
      [0.86, -0.25],
      [0.743, 0.695],
    ]);
  });

  test("SGD with Nesterov momentum", () => {
    expectSteps(threeSteps((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true })), [
      [0.905, -0.67],
      [0.78755, 0.2162],
      [0.6636605, 0.508268],
    ]);
  });

  test("SGD with dampening and weight decay", () => {
    expectSteps(threeSteps((ps) => new SGD(ps, { lr: 0.1, momentum: 0.5, dampening: 0.25, weightDecay: 0.1 })), [
      [0.94, -1.28],
      [0.86995, -0.6014],
      [0.800654125, -0.1521695],
    ]);
  });

  test("Adam: the first three steps, with bias correction", () => {
    expectSteps(threeSteps((ps) => new Adam(ps, { lr: 0.1 })), [
      [0.900000002, -1.9000000001428572],
      [0.8011874237306403, -1.8001964895187996],
      [0.7048712557394511, -1.7007383998064156],
    ]);
  });

  test("Adam with L2 weight decay, and AdamW with decoupled decay", () => {
    expectSteps(threeSteps((ps) => new Adam(ps, { lr: 0.1, weightDecay: 0.1 })), [
      [0.9000000016666666, -1.9000000001388888],
      [0.8010288770205514, -1.8001956339826843],
      [0.7041738954091028, -1.700735109921926],
    ]);
    expectSteps(threeSteps((ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0.1 })), [
      [0.890000002, -1.8800000001428572],
      [0.7824947411234726, -1.7614479343825875],
      [0.6790401741693037, -1.6445184542474305],
    ]);
  });

  test("RMSprop, plain and centered with momentum", () => {
    expectSteps(threeSteps((ps) => new RMSprop(ps, { lr: 0.01 })), [
      [0.900000019999996, -1.9000000014285714],
      [0.837339191914019, -1.8312164081711606],
      [0.7904332423841129, -1.77598809075622],
    ]);
    expectSteps(threeSteps((ps) => new RMSprop(ps, { lr: 0.01, momentum: 0.9, centered: true })), [
      [0.899496238676095, -1.8994962199170802],
      [0.7458054640215543, -1.7395762361655513],
      [0.5708675673484416, -1.541897744556601],
    ]);
  });

  test("parameters without a gradient are skipped (their state does not advance)", () => {
    const a = new Parameter(new NDArray(new Float32Array([1]), [1]));
    const b = new Parameter(new NDArray(new Float32Array([1]), [1]));
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = tensor([1]);
    opt.step();
    expect(a.data[0]).toBeCloseTo(0.9, 6);
    expect(b.data[0]).toBe(1);
    expect(opt.stateDict().steps).toEqual([1, 0]);
    expect(opt.stateDict().slots.m![1]).toBeNull();
  });

  test("a step writes in place: parameter objects and storage stay the same", () => {
    const d = new Dense(2, 2, { seed: 1 });
    const storage = d.weight.value.data;
    const opt = new SGD(d.parameters(), { lr: 0.5 });
    sum(d.call(tensor([[1, 2]]))).backward();
    const before = Array.from(storage);
    opt.step();
    expect(d.weight.value.data).toBe(storage);
    expect(Array.from(storage)).not.toEqual(before);
  });
});

describe("optimizer state", () => {
  test("state dict → new optimizer → continue equals an uninterrupted run bitwise", () => {
    const run = (split: boolean) => {
      const { p, loss } = problem();
      let opt: Optimizer = new Adam([p], { lr: 0.05, betas: [0.8, 0.95] });
      for (let t = 0; t < 6; t++) {
        if (split && t === 3) {
          const state = opt.stateDict();
          opt = new Adam([p], { lr: 1 }); // different settings: the state brings back lr and betas
          opt.loadStateDict(state);
        }
        opt.zeroGrad();
        loss().backward();
        opt.step();
      }
      return Array.from(p.data);
    };
    expect(run(true)).toEqual(run(false));
  });

  test("stateDict is a copy; loadStateDict checks type, counts and shapes before changing anything", () => {
    const d = new Dense(2, 2, { seed: 1 });
    const opt = new SGD(d.parameters(), { lr: 0.1, momentum: 0.9 });
    sum(d.call(tensor([[1, 2]]))).backward();
    opt.step();
    const state = opt.stateDict();
    state.slots.momentumBuffer![0]!.data.fill(9);
    expect(Array.from(opt.stateDict().slots.momentumBuffer![0]!.data)).not.toContain(9);

    const good = opt.stateDict();
    expect(() => new Adam(d.parameters()).loadStateDict(good)).toThrow('Adam.loadStateDict: the state is from a "SGD" optimizer, not Adam');
    const other = new SGD(new Dense(3, 2).parameters(), { lr: 0.1, momentum: 0.9 });
    const before = other.stateDict();
    expect(() => other.loadStateDict(good)).toThrow(ShapeError);
    expect(other.stateDict()).toEqual(before);
    expect(() => opt.loadStateDict({ ...good, steps: [1] })).toThrow(/steps must be 2 non-negative integers/);
    expect(() => opt.loadStateDict({ ...good, lr: NaN })).toThrow("SGD.loadStateDict: lr must be a finite number ≥ 0, got NaN");
  });

  test("constructor checks", () => {
    const p = new Parameter(new NDArray(new Float32Array(2), [2]));
    expect(() => new SGD([])).toThrow("SGD: was given no parameters");
    expect(() => new SGD([p, p])).toThrow("SGD: parameter 1 appears twice");
    expect(() => new SGD([tensor([1, 2], { requiresGrad: true }).mul(2)])).toThrow("SGD: parameter 0 [2] must be a leaf tensor (a Parameter), not the result of an op");
    expect(() => new SGD([p], { nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    expect(() => new Adam([p], { betas: [1, 0.9] })).toThrow("Adam: betas[0] must be in [0, 1), got 1");
    expect(() => new RMSprop([p], { lr: -1 })).toThrow("RMSprop: lr must be a finite number ≥ 0, got -1");
  });
});

describe("hyperparameters are checked: in the constructor, in step() and in loadStateDict", () => {
  const param = () => new Parameter(new NDArray(new Float32Array([1, 2]), [2]));

  test("finite values in range, booleans as booleans", () => {
    expect(() => new SGD([param()], { momentum: Infinity })).toThrow("SGD: momentum must be in [0, 1), got Infinity");
    expect(() => new SGD([param()], { weightDecay: -3 })).toThrow("SGD: weightDecay must be a finite number ≥ 0, got -3");
    expect(() => new SGD([param()], { momentum: 0.9, nesterov: "yes" as never })).toThrow('SGD: nesterov must be true or false, got "yes"');
    expect(() => new Adam([param()], { eps: Infinity })).toThrow("Adam: eps must be a finite number > 0, got Infinity");
    expect(() => new Adam([param()], { betas: [0.9, 1] })).toThrow("Adam: betas[1] must be in [0, 1), got 1");
    expect(() => new RMSprop([param()], { centered: 1 as never })).toThrow("RMSprop: centered must be true or false, got 1");
    expect(() => new RMSprop([param()], { alpha: NaN })).toThrow("RMSprop: alpha must be in [0, 1), got NaN");
  });

  test("a field changed after construction is checked at the next step", () => {
    const p = param();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
    opt.momentum = Infinity;
    p.grad = tensor([0.5, 0.5]);
    expect(() => opt.step()).toThrow("SGD: momentum must be in [0, 1), got Infinity");
    expect(Array.from(p.data)).toEqual([1, 2]);
  });

  test("loadStateDict refuses a state with options out of range, before changing anything", () => {
    const p = param();
    const opt = new Adam([p], { lr: 0.01 });
    const before = opt.stateDict();
    for (const [key, value, message] of [
      ["beta2", 1, "Adam.loadStateDict: betas[1] must be in [0, 1), got 1"],
      ["weightDecay", -3, "Adam.loadStateDict: weightDecay must be a finite number ≥ 0, got -3"],
      ["eps", Infinity, "Adam.loadStateDict: eps must be a finite number > 0, got Infinity"],
    ] as const) {
      const state = opt.stateDict();
      state.options[key] = value;
      state.lr = 0.5;
      expect(() => opt.loadStateDict(state)).toThrow(message);
      expect(opt.stateDict()).toEqual(before);
    }
    const sgd = new SGD([param()], { momentum: 0.9 });
    const s = sgd.stateDict();
    s.options.nesterov = true;
    s.options.dampening = 0.5;
    expect(() => sgd.loadStateDict(s)).toThrow("SGD.loadStateDict: Nesterov momentum needs momentum > 0 and dampening 0");
    const moments = opt.stateDict();
    moments.slots.m![0] = new NDArray(new Float32Array([NaN, 0]), [2]);
    expect(() => opt.loadStateDict(moments)).toThrow('Adam.loadStateDict: slot "m" of parameter 0 holds NaN at element 0; optimizer state must be finite');
  });
});

describe("frozen parameters and late momentum", () => {
  test("a parameter that does not require grad is accepted and skipped, as in PyTorch", () => {
    const trained = new Parameter(new NDArray(new Float64Array([1, -2]), [2]));
    const frozen = new Parameter(new NDArray(new Float64Array([3]), [1]), false);
    const opt = new SGD([trained, frozen], { lr: 0.1, momentum: 0.9 });
    sum(mul(trained, frozen)).backward(); // d/d trained = 3; frozen gets no gradient
    opt.step();
    expect(Array.from(trained.data)).toEqual([1 - 0.3, -2 - 0.3]);
    expect(Array.from(frozen.data)).toEqual([3]);
    expect(frozen.grad).toBeNull();
    expect(opt.stateDict().steps).toEqual([1, 0]);
  });

  test("SGD starts the momentum buffer at the gradient when it first needs one, not at step 1", () => {
    // Constant gradient 2, lr 0.1. Step 1 without momentum: 1 → 0.8. Then momentum 0.9, dampening 0.5:
    // the buffer starts as g = 2 (no dampening): 0.8 → 0.6; then b = 0.9·2 + 0.5·2 = 2.8: 0.6 → 0.32.
    const p = new Parameter(new NDArray(new Float64Array([1]), [1]));
    const opt = new SGD([p], { lr: 0.1 });
    const values: number[] = [];
    for (let t = 0; t < 3; t++) {
      if (t === 1) {
        opt.momentum = 0.9;
        opt.dampening = 0.5;
      }
      p.grad = tensor([2], { dtype: "float64" });
      opt.step();
      values.push(p.data[0]!);
    }
    expectSteps([values], [[0.8, 0.6, 0.32]]);
  });
});

describe("gradient clipping", () => {
  const withGrad = (values: number[]) => {
    const p = new Parameter(new NDArray(new Float32Array(values.length), [values.length]));
    p.grad = tensor(values);
    return p;
  };

  test("by global norm: one factor maxNorm/(norm + 1e-6) for every gradient when the norm is too large", () => {
    const a = withGrad([3]), b = withGrad([0, 4]), none = new Parameter(new NDArray(new Float32Array(1), [1]));
    expect(clipGradNorm([a, b, none], 1)).toBe(5);
    const f = 1 / (5 + 1e-6);
    expect(a.grad!.data[0]).toBeCloseTo(3 * f, 7);
    expect(Array.from(b.grad!.data)[1]).toBeCloseTo(4 * f, 7);
    expect(none.grad).toBeNull();
    const small = withGrad([0.3, 0.4]);
    expect(clipGradNorm([small], 1)).toBeCloseTo(0.5, 7);
    expect(Array.from(small.grad!.data)).toEqual([Math.fround(0.3), Math.fround(0.4)]); // under the limit: unchanged
    expect(() => clipGradNorm([withGrad([NaN])], 1)).toThrow(/global norm is NaN/);
    expect(() => clipGradNorm([a], 0)).toThrow(RangeError);
  });

  test("by value", () => {
    const p = withGrad([-3, 0.5, 2]);
    clipGradValue([p], 1);
    expect(Array.from(p.grad!.data)).toEqual([-1, 0.5, 1]);
  });
});

describe("learning-rate schedules match their formulas", () => {
  const ts = [0, 1, 2, 5, 9, 10, 11, 30];
  test("step: lr₀·γ^⌊t/s⌋", () => {
    const s = stepDecay(0.1, 10, 0.5);
    expect(ts.map(s)).toEqual(ts.map((t) => 0.1 * 0.5 ** Math.floor(t / 10)));
    expect([s(9), s(10), s(20)]).toEqual([0.1, 0.05, 0.025]);
  });

  test("exponential: lr₀·γ^t", () => {
    const s = exponentialDecay(1, 0.9);
    expect(ts.map(s)).toEqual(ts.map((t) => 0.9 ** t));
  });

  test("cosine: from lr₀ to the floor over T steps, then flat", () => {
    const s = cosineDecay(0.1, 10, 0.01);
    expect(ts.map(s)).toEqual(ts.map((t) => 0.01 + ((0.1 - 0.01) * (1 + Math.cos((Math.PI * Math.min(t, 10)) / 10))) / 2));
    expect(s(0)).toBe(0.1);
    expect(s(5)).toBeCloseTo(0.055, 15);
    expect(s(10)).toBeCloseTo(0.01, 15);
  });

  test("linear warm-up: after(0)·(t+1)/W, then the schedule restarted", () => {
    const s = linearWarmup(4, stepDecay(0.2, 2, 0.5));
    expect([0, 1, 2, 3].map(s)).toEqual([0.05, 0.1, 0.15000000000000002, 0.2]);
    expect([4, 5, 6, 7].map(s)).toEqual([0.2, 0.2, 0.1, 0.1]);
    expect(linearWarmup(0, 0.3)(0)).toBe(0.3);
    expect(constantLr(0.3)(7)).toBe(0.3);
  });

  test("bad arguments", () => {
    expect(() => stepDecay(0.1, 0)).toThrow(/stepSize must be an integer ≥ 1/);
    expect(() => cosineDecay(0.1, 10, 0.5)).toThrow(/final must be in \[0, initial\]/);
    expect(() => exponentialDecay(0.1, 0.9)(-1)).toThrow(/step must be an integer ≥ 0, got -1/);
  });

  test("in a hand-written loop, a schedule sets optimizer.lr", () => {
    const { p, loss } = problem();
    const opt = new SGD([p], { lr: 0 });
    const schedule = stepDecay(0.1, 1, 0.5);
    for (let epoch = 0; epoch < 2; epoch++) {
      opt.lr = schedule(epoch);
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
    // p₁ = [0.95, −1.3] with lr 0.1; then g = [0.45, −4.2] with lr 0.05
    const [p0, p1] = Array.from(p.data);
    expect(p0).toBeCloseTo(0.9275, 12);
    expect(p1).toBeCloseTo(-1.09, 12);
  });
});

describe("options bags: unknown keys are errors with a hint", () => {
  const p = () => new Parameter(new NDArray(new Float32Array([1, 2]), [2]));

  test("learning_rate → lr, and other near misses", () => {
    expect(() => new Adam([p()], { learning_rate: 0.1 } as never)).toThrow('Adam: unknown option "learning_rate" (did you mean "lr"?)');
    expect(() => new SGD([p()], { learningRate: 0.1 } as never)).toThrow('SGD: unknown option "learningRate" (did you mean "lr"?)');
    expect(() => new AdamW([p()], { weight_decay: 0.1 } as never)).toThrow('AdamW: unknown option "weight_decay" (did you mean "weightDecay"?)');
    expect(() => new RMSprop([p()], { momentom: 0.5 } as never)).toThrow('RMSprop: unknown option "momentom" (did you mean "momentum"?)');
    expect(() => new SGD([p()], { beta1: 0.5 } as never)).toThrow(/SGD: unknown option "beta1"; known options: lr, momentum, dampening, nesterov, weightDecay, nonFinite/);
    expect(() => new Adam([p()], "fast" as never)).toThrow(TypeError);
  });

  test("the type and the defaults come from the same declaration", () => {
    const sgd = new SGD([p()]);
    expect([sgd.lr, sgd.momentum, sgd.dampening, sgd.nesterov, sgd.weightDecay, sgd.nonFinite]).toEqual([0.01, 0, 0, false, 0, "error"]);
    const adamw = new AdamW([p()], { betas: [0.8, 0.9] });
    expect([adamw.lr, adamw.beta1, adamw.beta2, adamw.eps, adamw.weightDecay]).toEqual([0.001, 0.8, 0.9, 1e-8, 0.01]);
    expect(new Adam([p()]).weightDecay).toBe(0);
    const rms = new RMSprop([p()], { centered: true });
    expect([rms.lr, rms.alpha, rms.eps, rms.momentum, rms.centered]).toEqual([0.01, 0.99, 1e-8, 0, true]);
  });

  test("schedules and clipping check their arguments by one declaration too", () => {
    expect(() => stepDecay(0.1, 0)).toThrow("stepDecay: stepSize must be an integer ≥ 1, got 0");
    expect(() => stepDecay(0.1, undefined as never)).toThrow("stepDecay: stepSize must be an integer ≥ 1, got undefined");
    expect(() => exponentialDecay(0.1, -0.5)).toThrow("exponentialDecay: gamma must be a finite number > 0, got -0.5");
    expect(() => constantLr(Infinity)).toThrow("constantLr: initial must be a finite number > 0, got Infinity");
    expect(() => cosineDecay(0.1, 1.5)).toThrow("cosineDecay: totalSteps must be an integer ≥ 1, got 1.5");
    expect(() => linearWarmup(-1, 0.1)).toThrow("linearWarmup: warmupSteps must be an integer ≥ 0, got -1");
    expect(() => linearWarmup(2, "0.1" as never)).toThrow(TypeError);
    expect(() => constantLr(0.1)(0.5)).toThrow("constantLr: step must be an integer ≥ 0, got 0.5");
    expect(() => clipGradNorm([], NaN)).toThrow("clipGradNorm: maxNorm must be a finite number > 0, got NaN");
    expect(() => clipGradValue([], -1)).toThrow("clipGradValue: clipValue must be a number > 0, got -1");
    expect(() => clipGradValue([], "1" as never)).toThrow(TypeError);
  });
});

describe("hyperparameters in their valid ranges", () => {
  const p = () => new Parameter(new NDArray(new Float32Array([1, 2]), [2]));

  test("momentum, dampening, betas and alpha in [0, 1); eps > 0; weight decay ≥ 0; lr ≥ 0 and finite", () => {
    for (const momentum of [2, 1e9, 1, -0.1]) expect(() => new SGD([p()], { momentum })).toThrow(`SGD: momentum must be in [0, 1), got ${momentum}`);
    expect(() => new SGD([p()], { momentum: 0.9, dampening: 1 })).toThrow("SGD: dampening must be in [0, 1), got 1");
    expect(() => new RMSprop([p()], { momentum: 1 })).toThrow("RMSprop: momentum must be in [0, 1), got 1");
    expect(() => new RMSprop([p()], { alpha: 1 })).toThrow("RMSprop: alpha must be in [0, 1), got 1");
    expect(() => new AdamW([p()], { betas: [0.9, -0.1] })).toThrow("AdamW: betas[1] must be in [0, 1), got -0.1");
    expect(() => new Adam([p()], { betas: [0.9] as never })).toThrow("Adam: betas must be [beta1, beta2], got [0.9]");
    expect(() => new Adam([p()], { eps: 0 })).toThrow("Adam: eps must be a finite number > 0, got 0");
    expect(() => new RMSprop([p()], { eps: 0 })).toThrow("RMSprop: eps must be a finite number > 0, got 0");
    expect(() => new AdamW([p()], { weightDecay: -0.01 })).toThrow("AdamW: weightDecay must be a finite number ≥ 0, got -0.01");
    expect(() => new SGD([p()], { lr: Infinity })).toThrow("SGD: lr must be a finite number ≥ 0, got Infinity");
    expect(() => new SGD([p()], { nonFinite: "ignore" as never })).toThrow('SGD: nonFinite must be one of "error", "skip", got "ignore"');
    // The edges that are allowed:
    expect(() => new SGD([p()], { lr: 0, momentum: 0.999, dampening: 0.5, weightDecay: 0 })).not.toThrow();
    expect(() => new Adam([p()], { betas: [0, 0] })).not.toThrow();
  });

  test("a field set out of range after construction is refused at the next step, before anything changes", () => {
    const param = p();
    const opt = new AdamW([param], { lr: 0.1 });
    param.grad = tensor([1, 1]);
    for (const [field, value, message] of [
      ["beta1", 1, "AdamW: betas[0] must be in [0, 1), got 1"],
      ["eps", 0, "AdamW: eps must be a finite number > 0, got 0"],
      ["lr", NaN, "AdamW: lr must be a finite number ≥ 0, got NaN"],
      ["nonFinite", "warn", 'AdamW: nonFinite must be one of "error", "skip", got "warn"'],
    ] as const) {
      const saved = (opt as unknown as Record<string, unknown>)[field];
      (opt as unknown as Record<string, unknown>)[field] = value;
      expect(() => opt.step()).toThrow(message);
      expect(Array.from(param.data)).toEqual([1, 2]);
      expect(opt.stateDict().steps).toEqual([0]);
      (opt as unknown as Record<string, unknown>)[field] = saved;
    }
  });
});

describe("a non-finite gradient: refused before anything is written, or the step skipped", () => {
  /** Two trained parameters; the second gradient holds `bad` at [1, 0] (a transposed view, as Dense's). */
  function setup(bad: number, nonFinite?: "error" | "skip") {
    const a = new Parameter(new NDArray(Float32Array.of(1, 2), [2]));
    const b = new Parameter(new NDArray(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]));
    const opt = new Adam([a, b], { lr: 0.1, nonFinite });
    const grads = () => {
      a.grad = tensor([0.5, -0.5]);
      b.grad = tensor([[1, 2], [3, 4], [5, 6]]).transpose(); // b's [1,0] is the storage's element 1
    };
    grads();
    opt.step(); // slots exist and hold values
    grads();
    const storage = b.grad!.value.data;
    storage[1] = bad;
    return { a, b, opt, snapshot: () => ({ a: Array.from(a.data), b: Array.from(b.data), state: opt.stateDict() }) };
  }

  test.each([NaN, Infinity, -Infinity])("%s: a RangeError naming the optimizer, the parameter and the position; nothing changes", (bad) => {
    const { opt, snapshot } = setup(bad);
    const before = snapshot();
    expect(() => opt.step()).toThrow(
      `Adam.step: the gradient of parameter 1 [2,3] holds ${bad} at [1,0] (element 3); no parameter was updated (nonFinite: "skip" skips such steps instead)`,
    );
    expect(snapshot()).toEqual(before);
    expect(opt.skippedSteps).toBe(0);
  });

  test('nonFinite: "skip" skips the whole step (weights, moments and step counts unchanged) and counts it', () => {
    const { a, opt, snapshot } = setup(NaN, "skip");
    const before = snapshot();
    opt.step();
    expect(snapshot()).toEqual(before);
    expect(opt.skippedSteps).toBe(1);
    // The next good step proceeds as if the skipped one never happened.
    a.grad = tensor([0.5, -0.5]);
    opt.params[1]!.grad = null;
    opt.step();
    expect(opt.stateDict().steps).toEqual([2, 1]);
    expect(Array.from(a.data).every(Number.isFinite)).toBe(true);
  });

  test("given named parameters (model.namedParameters()), the error names the parameter", () => {
    const model = new Dense(3, 2, { seed: 1 });
    const opt = new SGD(model.namedParameters(), { lr: 0.1 });
    expect(opt.params).toEqual(model.parameters());
    expect(opt.paramNames).toEqual(["weight", "bias"]);
    sum(model.call(tensor([[1, 2, 3]]))).backward();
    model.bias!.grad = tensor([0, -Infinity]);
    const before = model.parameters().map((p) => Array.from(p.data));
    expect(() => opt.step()).toThrow('SGD.step: the gradient of parameter 1 "bias" [2] holds -Infinity at [1] (element 1); no parameter was updated');
    expect(model.parameters().map((p) => Array.from(p.data))).toEqual(before);
    expect(() => new SGD([["a", model.weight], ["b", model.weight]])).toThrow('SGD: parameter 1 "b" appears twice');
  });

  test.each(["error", "skip"] as const)("parameters large enough for the chunked kernels (transposed gradients, several chunks): %s, and nothing changes", (nonFinite) => {
    const model = new Sequential([new Dense(300, 200, { seed: 1 }), new Dense(200, 3, { seed: 2 })]);
    const opt = new Adam(model.namedParameters(), { lr: 0.01, weightDecay: 0.01, nonFinite });
    const x = tensor(Array.from({ length: 4 }, (_, r) => Array.from({ length: 300 }, (_, c) => Math.sin(r * 300 + c))));
    const backward = () => {
      opt.zeroGrad();
      sum(square(model.call(x))).backward();
    };
    backward();
    opt.step(); // the moments exist and hold values
    backward();
    const weight = model.parameters()[2]!; // the last Dense's [3, 200] weight: its gradient is a transposed view
    expect(weight.grad!.value.isContiguous).toBe(false);
    weight.grad!.value.data[weight.grad!.value.data.length - 1] = NaN; // its element [2, 199], the last one in row-major order
    const snapshot = () => ({ weights: model.parameters().map((p) => Array.from(p.data)), state: opt.stateDict() });
    const before = snapshot();
    if (nonFinite === "error") expect(() => opt.step()).toThrow('Adam.step: the gradient of parameter 2 "1.weight" [3,200] holds NaN at [2,199] (element 599); no parameter was updated');
    else opt.step();
    expect(snapshot()).toEqual(before);
    expect(opt.skippedSteps).toBe(nonFinite === "skip" ? 1 : 0);
    backward();
    opt.step(); // a finite step goes through
    expect(snapshot().weights).not.toEqual(before.weights);
    expect(opt.stateDict().steps).toEqual([2, 2, 2, 2]);
  });

  test("SGD, AdamW and RMSprop refuse too (the check is the base class's)", () => {
    for (const make of [(ps: Parameter[]) => new SGD(ps, { momentum: 0.9 }), (ps: Parameter[]) => new AdamW(ps), (ps: Parameter[]) => new RMSprop(ps)]) {
      const p = new Parameter(new NDArray(Float32Array.of(1, 2, 3), [3]));
      const opt = make([p]);
      p.grad = tensor([0, Infinity, NaN]);
      expect(() => opt.step()).toThrow(`${opt.type}.step: the gradient of parameter 0 [3] holds Infinity at [1] (element 1)`);
      expect(Array.from(p.data)).toEqual([1, 2, 3]);
    }
  });
});

describe("a user-defined optimizer", () => {
  /** Sign descent, p ← p − lr·sign(g): the update loop is all a subclass writes. */
  class SignSGD extends Optimizer {
    constructor(params: Parameter[], lr: number) {
      super("SignSGD", params, lr, []);
    }
    protected get options() {
      return {};
    }
    protected set options(_: Record<string, number | boolean>) {}
    protected checkOptions(): void {}
    protected update(p: Storage, g: Storage): void {
      for (let i = 0; i < p.length; i++) p[i] = p[i]! - this.lr * Math.sign(g[i]!);
    }
  }

  test("gets the in-place step, the common checks and the non-finite refusal from the base class", () => {
    const p = new Parameter(new NDArray(Float32Array.of(1, 2, 3, 4), [2, 2]));
    expect(() => new SignSGD([p], -1)).toThrow("SignSGD: lr must be a finite number ≥ 0, got -1");
    const opt = new SignSGD([p], 0.5);
    p.grad = tensor([[3, -1], [0, 2]]).transpose(); // strided: read row-major as [[3, 0], [-1, 2]]
    opt.step();
    expect(Array.from(p.data)).toEqual([0.5, 2, 3.5, 3.5]);
    opt.lr = NaN;
    expect(() => opt.step()).toThrow("SignSGD: lr must be a finite number ≥ 0, got NaN");
    opt.lr = 0.5;
    p.grad = tensor([[NaN, 0], [0, 0]]);
    expect(() => opt.step()).toThrow("SignSGD.step: the gradient of parameter 0 [2,2] holds NaN at [0,0] (element 0)");
    expect(Array.from(p.data)).toEqual([0.5, 2, 3.5, 3.5]);
  });
});
