import { Tensor, mul, sum, where } from "@zerograd/autograd";
import * as T from "@zerograd/tensor";
import { type MaskInput, expandTo, indexOf, readArray } from "./inputs.js";

/**
 * - `'mean'` (default): Σ m·w·ℓ / Σm — the average over the elements that exist.
 * - `'weightedMean'`: Σ m·w·ℓ / Σ m·w — the weighted average.
 * - `'sum'`: Σ m·w·ℓ.
 * - `'none'`: m·w·ℓ, with ℓ's shape.
 */
export type Reduction = "mean" | "weightedMean" | "sum" | "none";

/** Options every loss takes. See the package README for the full contract. */
export interface LossOptions {
  /** Booleans or 0/1, broadcastable to the elementwise loss ℓ: 0 = this element does not exist. */
  mask?: MaskInput;
  /** Targets equal to this value are masked (`-1`, `0` for padding, or `NaN`). */
  maskValue?: number;
  /** Non-negative weights broadcastable to ℓ: per sample ([N,1]), per label ([K]) or per element. */
  weights?: MaskInput;
  /** How ℓ becomes the loss (default `'mean'`). */
  reduction?: Reduction;
  /** An integer group id per sample (axis 0 of ℓ). The loss becomes Σ_g groupWeights[g] · (reduction within g). */
  groups?: MaskInput;
  /** The weight of each group id (default 1 for every group): an array indexed by id or a record. */
  groupWeights?: readonly number[] | Readonly<Record<number, number>>;
}

export const REDUCTIONS = ["mean", "weightedMean", "sum", "none"] as const;

/** Weights as a flat float64 array of ℓ's shape; each one kept by the mask must be finite and ≥ 0. */
export function readWeights(op: string, input: MaskInput | undefined, shape: T.Shape, mask: T.Storage): Float64Array | null {
  if (input === undefined) return null;
  const w = expandTo(op, "weights", readArray(op, "weights", input, "float64"), shape).data as Float64Array;
  for (let i = 0; i < w.length; i++) {
    if (mask[i] !== 0 && !(w[i]! >= 0 && w[i]! < Infinity)) throw new RangeError(`${op}: weights must be finite and ≥ 0, found ${w[i]} at unmasked element ${indexOf(i, shape)}`);
  }
  return w;
}

/** For each element of ℓ, the index of its group in `ids` and each group's weight; null without groups. */
function readGroups(op: string, options: LossOptions, shape: T.Shape): { groupOf: Int32Array; weights: number[] } | null {
  const { groups, groupWeights } = options;
  if (groups === undefined) {
    if (groupWeights !== undefined) throw new TypeError(`${op}: groupWeights needs groups (a group id per sample)`);
    return null;
  }
  if (groupWeights !== undefined && (typeof groupWeights !== "object" || groupWeights === null)) throw new TypeError(`${op}: groupWeights must be an array or a record of weights by group id, got ${T.describeValue(groupWeights)}`);
  const g = readArray(op, "groups", groups, "float64");
  const n = shape[0];
  if (n === undefined || g.size !== n || (g.rank > 0 && g.shape[0] !== n)) {
    throw new T.ShapeError(op, "groups must hold one id per sample (axis 0 of the elementwise loss)", [g.shape, shape]);
  }
  const ids = g.flat();
  const index = new Map<number, number>();
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id)) throw new RangeError(`${op}: group ids must be integers, found ${id} for sample ${i}`);
    if (index.has(id)) continue;
    index.set(id, weights.length);
    weights.push(groupWeight(op, groupWeights, id));
  }
  const inner = n === 0 ? 0 : T.sizeOf(shape) / n;
  const groupOf = new Int32Array(T.sizeOf(shape));
  for (let i = 0; i < groupOf.length; i++) groupOf[i] = index.get(ids[Math.floor(i / inner)]!)!;
  return { groupOf, weights };
}

function groupWeight(op: string, groupWeights: LossOptions["groupWeights"], id: number): number {
  if (groupWeights === undefined) return 1;
  const w = Array.isArray(groupWeights) ? groupWeights[id] : Object.hasOwn(groupWeights, id) ? (groupWeights as Record<number, number>)[id] : undefined;
  if (w === undefined) throw new RangeError(`${op}: groupWeights has no weight for group ${id}`);
  if (!(w >= 0 && w < Infinity)) throw new RangeError(`${op}: groupWeights must be finite and ≥ 0, found ${w} for group ${id}`);
  return w;
}

/**
 * The one place that reduces: applies the mask m, the weights w, the groups and the reduction to
 * an elementwise loss ℓ (finite wherever m is 1; sanitised by the loss).
 *
 * Every reduction is linear in ℓ: total = Σᵢ cᵢ·ℓᵢ with a constant coefficient
 *   cᵢ = mᵢ·wᵢ · groupWeight(gᵢ) / denominator(gᵢ),
 * where the denominator is Σm ('mean'), Σ m·w·s ('weightedMean') or 1 ('sum'), taken within the
 * group (the whole batch without groups). The coefficients are plain numbers computed once; a
 * group whose denominator is 0 (empty or fully masked) gets c = 0, so a division by a zero count
 * is never evaluated and the loss and every gradient are exactly 0 there.
 *
 * The result is where(m, c·ℓ, 0): the second half of the "double where", so masked elements
 * contribute an exact 0 to the value.
 *
 * `denominatorScale` s multiplies the weights in the 'weightedMean' denominator only: sparse
 * cross-entropy passes the class weight of each label there, as PyTorch normalises by Σ w_{y}.
 *
 * Losses made with {@link defineLoss} call it for you; called by hand, pass ℓ computed from
 * inputs sanitised with keepUnmasked and the mask from resolveMask.
 */
export function reduceLoss(op: string, loss: Tensor, mask: T.NDArray, options: LossOptions, denominatorScale?: T.NDArray): Tensor {
  const { reduction, coefficients } = lossCoefficients(op, loss.shape, mask, options, denominatorScale);
  const c = typeof coefficients === "number" ? coefficients : new Tensor(new T.NDArray(T.array(coefficients, { dtype: loss.dtype }).data, loss.shape));
  const kept = where(new Tensor(mask), mul(loss, c), 0);
  return reduction === "none" ? kept : sum(kept);
}

/**
 * The constant coefficients cᵢ of {@link reduceLoss} (0 wherever the mask is 0), and the reduction:
 * one number u when no weights or groups make them differ (then cᵢ = mᵢ·u), else the array.
 */
export function lossCoefficients(op: string, shape: T.Shape, mask: T.NDArray, options: LossOptions, denominatorScale?: T.NDArray): { reduction: Reduction; coefficients: Float64Array | number } {
  const reduction = options.reduction ?? "mean";
  if (!(REDUCTIONS as readonly string[]).includes(reduction)) throw new RangeError(`${op}: reduction must be one of ${REDUCTIONS.join(", ")}, got '${String(reduction)}'`);
  if (!T.shapesEqual(mask.shape, shape)) throw new T.ShapeError(op, "the resolved mask must have the elementwise loss's shape", [mask.shape, shape]);
  const m = mask.flat();
  const w = readWeights(op, options.weights, shape, m);
  const s = denominatorScale?.flat();
  const groups = readGroups(op, options, shape);
  if (!w && !groups && !(s && reduction === "weightedMean")) return { reduction, coefficients: uniformCoefficient(m, reduction) };

  // Loops without a branch on the (random) mask bits: m is 0/1, and only weights, which may be
  // anything where masked, need a select.
  const c = new Float64Array(m.length);
  if (w) for (let i = 0; i < c.length; i++) c[i] = m[i] === 0 ? 0 : w[i]!;
  else for (let i = 0; i < c.length; i++) c[i] = m[i]!;

  const groupOf = groups?.groupOf;
  const scale = groups ? [...groups.weights] : [1];
  if (reduction !== "none" && reduction !== "sum") {
    const denominator = new Float64Array(scale.length);
    const perElement = reduction === "mean" ? m : c;
    for (let i = 0; i < c.length; i++) denominator[groupOf ? groupOf[i]! : 0]! += perElement[i]! * (s && reduction !== "mean" ? s[i]! : 1);
    for (let g = 0; g < scale.length; g++) scale[g] = denominator[g]! > 0 ? scale[g]! / denominator[g]! : 0;
  }
  for (let i = 0; i < c.length; i++) c[i]! *= scale[groupOf ? groupOf[i]! : 0]!;
  return { reduction, coefficients: c };
}

/** Without weights or groups every kept element has the same coefficient: 1/Σm for the means, 1 otherwise. */
function uniformCoefficient(m: T.Storage, reduction: Reduction): number {
  if (reduction === "sum" || reduction === "none") return 1;
  // Four running counts: one would be a chain of dependent adds, each waiting for the last.
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0, i = 0;
  for (; i + 4 <= m.length; i += 4) { c0 += m[i]!; c1 += m[i + 1]!; c2 += m[i + 2]!; c3 += m[i + 3]!; }
  for (; i < m.length; i++) c0 += m[i]!;
  const count = c0 + c1 + c2 + c3; // whole numbers: exact in any order
  return count > 0 ? 1 / count : 0;
}
