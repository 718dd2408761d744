/** Gradient clipping, between backward() and step(): by global norm, and by value. */
import { Tensor } from "@zerograd/autograd";
import { NDArray, defineOptions, number } from "@zerograd/tensor";

/** The clipping thresholds, declared once. */
const ARGUMENTS = defineOptions({
  maxNorm: number({ min: 0, minExclusive: true }),
  /** Infinity is accepted (it clips nothing). */
  clipValue: number({ min: 0, minExclusive: true, infinite: true }),
});

/**
 * Scales every gradient by the same factor so that their global L2 norm √(Σ g²) (over all
 * parameters together) is at most `maxNorm`: factor = maxNorm / (norm + 1e-6) when the norm
 * exceeds maxNorm (PyTorch's clip_grad_norm_). Returns the norm before clipping. Parameters
 * without a gradient are skipped. A non-finite norm throws instead of spreading NaN into the weights.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  ARGUMENTS.fields.maxNorm.read("clipGradNorm", "maxNorm", maxNorm);
  const withGrad = [...params].filter((p) => p.grad !== null);
  let squares = 0;
  for (const p of withGrad) {
    const g = p.grad!.value.flat();
    for (let i = 0; i < g.length; i++) squares += g[i]! * g[i]!;
  }
  const norm = Math.sqrt(squares);
  if (!Number.isFinite(norm)) throw new RangeError(`clipGradNorm: the gradients' global norm is ${norm}; a gradient holds NaN or Infinity`);
  if (norm > maxNorm) {
    const factor = maxNorm / (norm + 1e-6);
    for (const p of withGrad) p.grad = mapGrad(p.grad!, (g) => g * factor);
  }
  return norm;
}

/** Limits every gradient element to [−clipValue, clipValue]. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  ARGUMENTS.fields.clipValue.read("clipGradValue", "clipValue", clipValue);
  for (const p of params) {
    if (p.grad !== null) p.grad = mapGrad(p.grad, (g) => (g > clipValue ? clipValue : g < -clipValue ? -clipValue : g));
  }
}

/** A new gradient tensor with f applied to each element (gradients may be views: never write into them). */
function mapGrad(grad: Tensor, f: (g: number) => number): Tensor {
  const out = grad.value.copyData();
  for (let i = 0; i < out.length; i++) out[i] = f(out[i]!);
  return new Tensor(new NDArray(out, grad.shape));
}
