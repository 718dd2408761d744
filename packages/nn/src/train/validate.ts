/**
 * Checks before the first step: the optimizer updates this model, and every array of the
 * training and validation data is one the losses accept — shapes, label ranges, NaN or
 * ±Infinity where nothing masks them, weights, class weights. A bad row is reported with the
 * data set, the output and the row, before any weight changes.
 *
 * The data is checked by the losses themselves (so a user-defined loss checks what it checks):
 * each output's loss runs once over all the rows against a uniform prediction of the model's
 * output shape (found by a one-row forward pass in inference mode). If it throws, the first
 * failing row is found by bisection over prefixes of the rows.
 */
import { Tensor, noGrad } from "@zerograd/autograd";
import { NDArray, ShapeError, allocate, fmtShape } from "@zerograd/tensor";
import type { AnyModule } from "../module.js";
import type { Optimizer } from "../optim/optimizer.js";
import { type Table, range, subset } from "./data.js";
import { predictionTensor } from "./output-mask.js";
import { type OutputPlan, type Plan, outputLoss } from "./spec.js";

/** Refuses an optimizer holding a parameter that is not the model's (it would train nothing of the model). */
export function checkOptimizer(op: string, model: AnyModule, optimizer: Optimizer): void {
  const own = new Set(model.parameters());
  const i = optimizer.params.findIndex((p) => !own.has(p));
  if (i < 0) return;
  const p = optimizer.params[i]!;
  throw new RangeError(`${op}: the optimizer's parameter ${i} ${fmtShape(p.shape)} is not a parameter of the model: build the optimizer on model.parameters()`);
}

/**
 * Runs every output's loss over all rows of `t` (see the module comment). `rowShapes` are the
 * model's outputs for one row, by output name; `dataset` names the data in errors; `masks`, the
 * masks the model's outputs carry for every row of `t` (by output name), if known.
 */
export function validateTable(op: string, dataset: string, plan: Plan, t: Table, rowShapes: Record<string, NDArray>, groupWeights: Record<string, Record<number, number>>, masks: Record<string, NDArray> = {}): void {
  if (t.n === 0) return;
  for (const o of plan.outputs) {
    const one = rowShapes[o.name];
    if (!one) throw new RangeError(`${op}: the model has no output "${o.name}"`);
    const shape = [t.n, ...one.shape.slice(1)];
    // 1/C everywhere (C = the last axis): valid logits, and valid probabilities (summing to 1 over the classes).
    const uniform = new NDArray(allocate(one.dtype, shape.reduce((a, b) => a * b, 1)).fill(1 / (shape.at(-1) || 1)), shape);
    const width = uniform.size / t.n;
    const lossOn = (start: number, end: number) => {
      const whole = start === 0 && end === t.n;
      const table = whole ? t : subset(t, range(start, end), { inputs: false });
      const prediction = whole ? uniform : new NDArray(uniform.data.subarray(start * width, end * width), [end - start, ...shape.slice(1)]);
      const mask = masks[o.name];
      const maskRows = mask && (whole ? mask : new NDArray(mask.data.subarray(start * (mask.size / t.n), end * (mask.size / t.n)), [end - start, ...mask.shape.slice(1)]));
      noGrad(() => outputLoss(op, o, predictionTensor(prediction, maskRows), table, groupWeights[o.name]));
    };
    try {
      lossOn(0, t.n);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      throw located(op, e, `${op}: the ${dataset} data, ${outputLabel(o)}${rowLabel(firstBadRow(t.n, lossOn))}`);
    }
  }
}

/**
 * The row whose inclusion first makes the loss throw (bisection over prefixes), or null when the
 * rows without it throw as well: a fault of no row in particular (or of several).
 */
function firstBadRow(n: number, lossOn: (start: number, end: number) => void): number | null {
  const fails = (start: number, end: number) => {
    try {
      lossOn(start, end);
      return false;
    } catch {
      return true;
    }
  };
  let lo = 0, hi = n; // the first lo rows pass, the first hi rows fail
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fails(0, mid)) hi = mid;
    else lo = mid;
  }
  const row = hi - 1;
  return row === 0 && n > 1 && fails(1, n) ? null : row;
}

const outputLabel = (o: OutputPlan) => (o.name ? `output "${o.name}"` : "the output");
const rowLabel = (row: number | null) => (row === null ? "" : `, row ${row}`);

/** The same error (same class) with `context` before its message (and without a second "op: "). */
function located(op: string, e: Error, context: string): Error {
  if (e instanceof ShapeError) return new ShapeError(context, e.op === op ? e.rule : `${e.op}: ${e.rule}`, e.shapes);
  const Kind = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
  return new Kind(`${context}: ${e.message.startsWith(`${op}: `) ? e.message.slice(op.length + 2) : e.message}`);
}
