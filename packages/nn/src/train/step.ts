/**
 * One training step, shared by fit() and hand-written loops:
 *
 *   zero the gradients → forward and losses (the caller's function) → total = Σ losses
 *   → backward → check every gradient is finite → clip → optimizer.step()
 *
 * A non-finite loss or gradient throws before anything is written: the weights and the
 * optimizer are untouched and the buffers the forward pass moved (batch-norm statistics) are
 * put back.
 */
import * as autograd from "@zerograd/autograd";
import type { Tensor } from "@zerograd/autograd";
import { fmtShape } from "@zerograd/tensor";
import type { AnyModule } from "../module.js";
import { clipGradNorm, clipGradValue } from "../optim/clip.js";
import { type Optimizer, firstNonFinite, gradientView, stepCheckedGradients } from "../optim/optimizer.js";
import { STEP_OPTIONS, type TrainStepOptions } from "./options.js";
import { checkOptimizer } from "./validate.js";

/** What a step's loss function returns: the loss, or several by name (their sum is minimised). */
export type Losses = Tensor | Record<string, Tensor>;

export interface StepResult {
  /** The value of the loss minimised (the sum of the named losses). */
  loss: number;
  /** Each named loss's value (empty when the loss function returned one Tensor). */
  losses: Record<string, number>;
}

/**
 * One optimizer step: `computeLoss` runs the forward pass and returns the loss (or losses by
 * name); the gradients are zeroed before it, and backward, clipping and `optimizer.step()`
 * follow. Returns the losses' values.
 *
 *   for (const [x, y] of batches) {
 *     const { loss } = trainStep(model, optimizer, () => meanSquaredError(model.call(x), y), { clipGradNorm: 1 });
 *   }
 */
export function trainStep(model: AnyModule, optimizer: Optimizer, computeLoss: () => Losses, options: TrainStepOptions = {}): StepResult {
  if (typeof computeLoss !== "function") throw new TypeError("trainStep: computeLoss must be a function running the forward pass and returning the loss");
  const o = STEP_OPTIONS.parse("trainStep", options);
  checkOptimizer("trainStep", model, optimizer);
  return runStep("trainStep", "", model, optimizer, computeLoss, o);
}

const NAN_HINT =
  " (the cause may be the data — an unmasked NaN? —, a learning rate too large, or an op of the model such as log of a negative: run with detectAnomaly: true to name the first op that produced a non-finite value)";

/** trainStep's body, with fit()'s name and position (`where`, e.g. " at epoch 2, batch 5") for its errors. */
export function runStep(op: string, where: string, model: AnyModule, optimizer: Optimizer, computeLoss: () => Losses, o: ReturnType<typeof STEP_OPTIONS.parse>): StepResult {
  const buffers = model.namedBuffers().map(([, b]) => b.value.data);
  const before = buffers.map((d) => d.slice());
  const fail = (message: string, hint = ""): never => {
    throw new RangeError(`${op}: ${message}${where}; the step was not applied${hint}`);
  };
  try {
    model.zeroGrad();
    optimizer.zeroGrad();
    const forwardBackward = () => {
      const { total, losses } = sumLosses(op, computeLoss());
      const loss = total.item();
      if (!Number.isFinite(loss)) fail(`the loss is ${loss}`, NAN_HINT);
      if (total.requiresGrad) total.backward();
      return { loss, losses };
    };
    const result = o.detectAnomaly ? autograd.detectAnomaly(forwardBackward) : forwardBackward();
    optimizer.params.forEach((p, i) => {
      const bad = nonFiniteElement(p.grad);
      if (bad) fail(`the gradient of ${JSON.stringify(parameterName(model, p) ?? `parameter ${i}`)} ${fmtShape(p.shape)} holds ${bad.value} (element ${bad.index})`, NAN_HINT);
    });
    if (o.clipGradValue !== undefined) clipGradValue(optimizer.params, o.clipGradValue);
    if (o.clipGradNorm !== undefined) clipGradNorm(optimizer.params, o.clipGradNorm);
    stepCheckedGradients(optimizer); // checked just above; clipping keeps finite gradients finite
    return result;
  } catch (e) {
    buffers.forEach((d, i) => d.set(before[i]!)); // the forward pass moved them
    throw e;
  }
}

function sumLosses(op: string, out: Losses): { total: Tensor; losses: Record<string, number> } {
  if (out instanceof autograd.Tensor) return { total: out, losses: {} };
  const entries = typeof out === "object" && out !== null ? Object.entries(out) : [];
  if (entries.length === 0 || !entries.every(([, l]) => l instanceof autograd.Tensor && l.size === 1)) {
    throw new TypeError(`${op}: the loss function must return a scalar Tensor or a non-empty record of them`);
  }
  const total = entries.slice(1).reduce((sum, [, l]) => sum.add(l), entries[0]![1]);
  return { total, losses: Object.fromEntries(entries.map(([k, l]) => [k, l.item()])) };
}

function parameterName(model: AnyModule, p: Tensor): string | undefined {
  return model.namedParameters().find(([, q]) => q === p)?.[0];
}

/** The first NaN or ±Infinity in a gradient (row-major), if any: read in place, strided or not. */
function nonFiniteElement(grad: Tensor | null): { index: number; value: number } | null {
  if (grad === null) return null;
  const view = gradientView(grad.value) ?? gradientView(grad.value.contiguous())!;
  const index = firstNonFinite(view);
  return index < 0 ? null : { index, value: view.array.flat()[index]! };
}
