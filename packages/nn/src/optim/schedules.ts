/**
 * Learning-rate schedules: plain functions from a step (or epoch) count t = 0, 1, 2, … to a
 * learning rate. In a hand-written loop, `optimizer.lr = schedule(epoch)`; in fit(), the
 * `learningRateScheduler(schedule)` callback does it per epoch or per batch.
 */
import { checkArg } from "@zerograd/tensor";

export type Schedule = (t: number) => number;

function checkT(op: string, t: number): void {
  checkArg(Number.isInteger(t) && t >= 0, op, `the step must be a non-negative integer, got ${t}`);
}

function positive(op: string, name: string, v: number): void {
  checkArg(Number.isFinite(v) && v > 0, op, `${name} must be a finite number > 0, got ${v}`);
}

/** lr(t) = initial (a constant schedule). */
export function constantLr(initial: number): Schedule {
  positive("constantLr", "initial", initial);
  return (t) => (checkT("constantLr", t), initial);
}

/** lr(t) = initial · γ^⌊t / stepSize⌋ — divide by 1/γ every stepSize steps (PyTorch's StepLR). */
export function stepDecay(initial: number, stepSize: number, gamma = 0.1): Schedule {
  positive("stepDecay", "initial", initial);
  checkArg(Number.isInteger(stepSize) && stepSize > 0, "stepDecay", `stepSize must be a positive integer, got ${stepSize}`);
  positive("stepDecay", "gamma", gamma);
  return (t) => (checkT("stepDecay", t), initial * gamma ** Math.floor(t / stepSize));
}

/** lr(t) = initial · γ^t (PyTorch's ExponentialLR). */
export function exponentialDecay(initial: number, gamma: number): Schedule {
  positive("exponentialDecay", "initial", initial);
  positive("exponentialDecay", "gamma", gamma);
  return (t) => (checkT("exponentialDecay", t), initial * gamma ** t);
}

/**
 * Cosine annealing from `initial` to `final` over `totalSteps`, then constant:
 * lr(t) = final + (initial − final) · (1 + cos(π · min(t, T) / T)) / 2.
 */
export function cosineDecay(initial: number, totalSteps: number, final = 0): Schedule {
  positive("cosineDecay", "initial", initial);
  checkArg(Number.isInteger(totalSteps) && totalSteps > 0, "cosineDecay", `totalSteps must be a positive integer, got ${totalSteps}`);
  checkArg(final >= 0 && final <= initial, "cosineDecay", `final must be in [0, initial], got ${final}`);
  return (t) => {
    checkT("cosineDecay", t);
    return final + ((initial - final) * (1 + Math.cos((Math.PI * Math.min(t, totalSteps)) / totalSteps))) / 2;
  };
}

/**
 * Linear warm-up for `warmupSteps` steps, then `after` (a schedule restarted at 0, or a constant):
 * lr(t) = after(0) · (t + 1) / W for t < W, and after(t − W) from then on. The first step
 * already moves (lr = after(0)/W, not 0), and step W − 1 reaches after(0).
 */
export function linearWarmup(warmupSteps: number, after: Schedule | number): Schedule {
  checkArg(Number.isInteger(warmupSteps) && warmupSteps >= 0, "linearWarmup", `warmupSteps must be a non-negative integer, got ${warmupSteps}`);
  const next = typeof after === "number" ? constantLr(after) : after;
  return (t) => {
    checkT("linearWarmup", t);
    return t < warmupSteps ? (next(0) * (t + 1)) / warmupSteps : next(t - warmupSteps);
  };
}
