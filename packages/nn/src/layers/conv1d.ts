/**
 * Conv1D over batch-first sequences [N, T, C_in] (NWC), with PyTorch's Conv1d weight layout
 * [C_out, C_in, k] and `bias` [C_out]. Padding: "valid" (none), "same" (output length ⌈T/stride⌉,
 * zeros split as Keras does, the extra one after), "causal" (zeros before only, so step t reads
 * no step after t). Masked input steps are zeroed before the convolution, so padding never
 * leaks into real steps; outputs at masked steps are 0.
 */
import { Tensor, add, concat, matmul, pad, reshape, slice, transpose, where } from "@zerograd/autograd";
import { type OptionsOf, ShapeError, checkArg, defineOptions, integer, oneOf, randomUniform } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";
import { generatorFrom } from "../init.js";
import { Module, Parameter } from "../module.js";
import { type MaskArg, type MaskingLayer, featureMask, resolveMask, withMask } from "../sequence/mask.js";
import { weightFields } from "../sequence/options.js";

const CONV1D = defineOptions({
  ...weightFields,
  stride: integer({ min: 1, default: 1 }),
  dilation: integer({ min: 1, default: 1 }),
  padding: oneOf(["valid", "same", "causal"] as const, { default: "valid" }),
});
export type Conv1DOptions = OptionsOf<typeof CONV1D>;

export class Conv1D extends Module<[Tensor, MaskArg?]> implements MaskingLayer {
  readonly supportsMasking = true;
  weight: Parameter;
  bias: Parameter | null;
  readonly stride: number;
  readonly dilation: number;
  readonly padding: "valid" | "same" | "causal";

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, options: Conv1DOptions = {}) {
    super();
    for (const [name, v] of [["inChannels", inChannels], ["outChannels", outChannels], ["kernelSize", kernelSize]] as const) {
      checkArg(Number.isInteger(v) && v > 0, "Conv1D", `${name} must be a positive integer, got ${v}`);
    }
    const o = CONV1D.parse("Conv1D", options);
    this.stride = o.stride;
    this.dilation = o.dilation;
    this.padding = o.padding;
    // PyTorch's default: U(−1/√fanIn, 1/√fanIn) with fanIn = C_in·k.
    const rng = generatorFrom(o.seed), bound = 1 / Math.sqrt(inChannels * kernelSize);
    this.weight = new Parameter(randomUniform([outChannels, inChannels, kernelSize], -bound, bound, { seed: rng, dtype: o.dtype }));
    this.bias = o.bias ? new Parameter(randomUniform([outChannels], -bound, bound, { seed: rng, dtype: o.dtype })) : null;
  }

  /** Zeros before and after the sequence, and the output length, for an input of `steps`. */
  private geometry(steps: number): { before: number; after: number; out: number } {
    const span = (this.kernelSize - 1) * this.dilation + 1;
    if (this.padding === "causal") return { before: span - 1, after: 0, out: Math.ceil(steps / this.stride) };
    if (this.padding === "valid") return { before: 0, after: 0, out: Math.max(0, Math.floor((steps - span) / this.stride) + 1) };
    const out = Math.ceil(steps / this.stride);
    const total = Math.max(0, (out - 1) * this.stride + span - steps);
    return { before: Math.floor(total / 2), after: total - Math.floor(total / 2), out };
  }

  forward(x: Tensor, options: MaskArg = {}): Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.inChannels) throw new ShapeError("Conv1D", `input must be [N, T, ${this.inChannels}]`, [x.shape]);
    const mask = resolveMask("Conv1D", x, options);
    const steps = x.shape[1]!;
    const g = this.geometry(steps);
    if (g.out === 0) throw new ShapeError("Conv1D", `a sequence of ${steps} steps is shorter than the kernel's span ${(this.kernelSize - 1) * this.dilation + 1}`, [x.shape]);
    const clean = mask ? where(featureMask(mask), x, 0) : x;
    const padded = g.before || g.after ? pad(clean, [[0, 0], [g.before, g.after], [0, 0]]) : clean;
    // One strided slice per kernel tap, side by side: [N, out, k·C_in] (tap-major), then one matmul.
    const taps: Tensor[] = [];
    for (let j = 0; j < this.kernelSize; j++) {
      const start = j * this.dilation;
      taps.push(slice(padded, [undefined, { start, stop: start + (g.out - 1) * this.stride + 1, step: this.stride }]));
    }
    const columns = taps.length === 1 ? taps[0]! : concat(taps, 2);
    const kernel = reshape(transpose(this.weight, [2, 1, 0]), [this.kernelSize * this.inChannels, this.outChannels]); // [k, C_in, C_out]
    let y = matmul(columns, kernel);
    if (this.bias) y = add(y, this.bias);
    const outMask = this.computeMask(x, mask);
    if (outMask) y = where(featureMask(outMask), y, 0);
    return withMask(y, outMask);
  }

  /**
   * The output's mask: with "same" or "causal" padding, output step j is real when the input step
   * it is aligned with (j·stride) is; with "valid", when every input step of its window is.
   */
  computeMask(x: Tensor, mask: Tensor | null): Tensor | null {
    if (mask === null) return null;
    const steps = x.shape[1]!;
    const g = this.geometry(steps);
    const m = mask.value.contiguous().flat();
    const n = mask.shape[0]!;
    const out = T.zeros([n, g.out], { dtype: mask.dtype });
    const o = out.flat();
    for (let b = 0; b < n; b++) {
      for (let j = 0; j < g.out; j++) {
        let real = 1;
        if (this.padding === "valid") for (let k = 0; k < this.kernelSize; k++) real &= m[b * steps + j * this.stride + k * this.dilation]! ? 1 : 0;
        else real = m[b * steps + j * this.stride]! ? 1 : 0;
        o[b * g.out + j] = real;
      }
    }
    return new Tensor(out);
  }

  override describe(): string {
    return `Conv1D(${this.inChannels} → ${this.outChannels}, k=${this.kernelSize}, ${this.padding}${this.stride > 1 ? `, stride=${this.stride}` : ""}${this.dilation > 1 ? `, dilation=${this.dilation}` : ""})`;
  }
}
