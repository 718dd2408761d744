/**
 * Learning-rate schedules: plain functions from a step (or epoch) count t = 0, 1, 2, … to a
 * learning rate. In a hand-written loop, `optimizer.lr = schedule(epoch)`; in fit(), the
 * `learningRateScheduler(schedule)` callback does it per epoch or per batch.
 */
import { defineOptions, integer, number } from "@zerograd/tensor";

export type Schedule = (t: number) => number;

/** Every argument of the schedules, declared once: what each must be. */
const ARGUMENTS = defineOptions({
  initial: number({ min: 0, minExclusive: true }),
  gamma: number({ min: 0, minExclusive: true }),
  stepSize: integer({ min: 1 }),
  totalSteps: integer({ min: 1 }),
  warmupSteps: integer({ min: 0 }),
  final: number({ min: 0 }),
  /** The schedule's own argument: the step (or epoch) count. */
  step: integer({ min: 0 }),
});
type Argument = keyof typeof ARGUMENTS.fields;

/** Checks positional arguments by their declarations (a missing one is an error, not a default). */
function check(op: string, args: Partial<Record<Argument, number>>): void {
  for (const [key, value] of Object.entries(args)) ARGUMENTS.fields[key as Argument].read(op, key, value);
}

/** lr(t) = initial (a constant schedule). */
export function constantLr(initial: number): Schedule {
  check("constantLr", { initial });
  return (t) => (check("constantLr", { step: t }), initial);
}

/** lr(t) = initial · γ^⌊t / stepSize⌋ — divide by 1/γ every stepSize steps (PyTorch's StepLR). */
export function stepDecay(initial: number, stepSize: number, gamma = 0.1): Schedule {
  check("stepDecay", { initial, stepSize, gamma });
  return (t) => (check("stepDecay", { step: t }), initial * gamma ** Math.floor(t / stepSize));
}

/** lr(t) = initial · γ^t (PyTorch's ExponentialLR). */
export function exponentialDecay(initial: number, gamma: number): Schedule {
  check("exponentialDecay", { initial, gamma });
  return (t) => (check("exponentialDecay", { step: t }), initial * gamma ** t);
}

/**
 * Cosine annealing from `initial` to `final` over `totalSteps`, then constant:
 * lr(t) = final + (initial − final) · (1 + cos(π · min(t, T) / T)) / 2.
 */
export function cosineDecay(initial: number, totalSteps: number, final = 0): Schedule {
  check("cosineDecay", { initial, totalSteps, final });
  if (final > initial) throw new RangeError(`cosineDecay: final must be in [0, initial], got ${final} > ${initial}`);
  return (t) => {
    check("cosineDecay", { step: t });
    return final + ((initial - final) * (1 + Math.cos((Math.PI * Math.min(t, totalSteps)) / totalSteps))) / 2;
  };
}

/**
 * Linear warm-up for `warmupSteps` steps, then `after` (a schedule restarted at 0, or a constant):
 * lr(t) = after(0) · (t + 1) / W for t < W, and after(t − W) from then on. The first step
 * already moves (lr = after(0)/W, not 0), and step W − 1 reaches after(0).
 */
export function linearWarmup(warmupSteps: number, after: Schedule | number): Schedule {
  check("linearWarmup", { warmupSteps });
  if (typeof after !== "number" && typeof after !== "function") throw new TypeError(`linearWarmup: after must be a schedule or a learning rate, got ${typeof after}`);
  const next = typeof after === "number" ? constantLr(after) : after;
  return (t) => {
    check("linearWarmup", { step: t });
    return t < warmupSteps ? (next(0) * (t + 1)) / warmupSteps : next(t - warmupSteps);
  };
}
