/**
 * GRU and LSTM over batch-first sequences [N, T, F], with PyTorch's equations, gate order,
 * parameter names and layouts (so a PyTorch state dict loads unchanged), and a Bidirectional
 * wrapper with PyTorch's `_reverse` names.
 *
 * Masks (true = the step exists): at a masked step the state is carried over unchanged and the
 * output there is 0; the final state is the state after the last unmasked step; the reverse
 * direction skips masked steps too. With trailing padding this is exactly PyTorch's
 * `pack_padded_sequence`; masks with holes anywhere are supported (Keras semantics).
 */
import { Tensor, add, concat, matmul, mT, mul, reshape, sigmoid, slice, split, stack, sub, tanh, where, zeros } from "@zerograd/autograd";
import { NDArray, type OptionsOf, ShapeError, boolean, checkArg, defineOptions, randomUniform, shapesEqual } from "@zerograd/tensor";
import * as T from "@zerograd/tensor";
import { generatorFrom } from "../init.js";
import { Module, Parameter } from "../module.js";
import { type MaskArg, type MaskingLayer, featureMask, resolveMask, withMask } from "../sequence/mask.js";
import { weightFields } from "../sequence/options.js";
import { perStep } from "./attention.js";

const RECURRENT = defineOptions({
  ...weightFields,
  /** Return the output at every step [N, T, H] (default false: the final state's output [N, H]). */
  returnSequences: boolean({ default: false }),
  /** Return `{ output, h, c? }` instead of the output alone. */
  returnState: boolean({ default: false }),
});
export type RecurrentOptions = OptionsOf<typeof RECURRENT>;

/** A recurrent state: h (and c for an LSTM), each [N, H]. */
export interface RecurrentState { h: Tensor; c?: Tensor }

/** What `returnState: true` gives: the output, and the final h (and c): [N, H], or [2, N, H] for Bidirectional (forward, reverse). */
export interface RecurrentOutput { output: Tensor; h: Tensor; c?: Tensor }

export interface RecurrentCallOptions extends MaskArg {
  /** The state before the first step (default zeros); for Bidirectional, [forward, reverse]. */
  initialState?: Tensor | RecurrentState | readonly (Tensor | RecurrentState)[];
}

type Kind = "gru" | "lstm";
interface Weights { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null }

const affine = (x: Tensor, w: Tensor, b: Tensor | null): Tensor => (b ? add(matmul(x, mT(w)), b) : matmul(x, mT(w)));

/** GRU (PyTorch): r, z = σ(…); n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)); h' = (1 − z) ⊙ n + z ⊙ h. */
function gruStep(gx: Tensor, s: RecurrentState, w: Weights): RecurrentState {
  const [xr, xz, xn] = split(gx, 3, -1) as [Tensor, Tensor, Tensor];
  const [hr, hz, hn] = split(affine(s.h, w.whh, w.bhh), 3, -1) as [Tensor, Tensor, Tensor];
  const r = sigmoid(add(xr, hr));
  const z = sigmoid(add(xz, hz));
  const n = tanh(add(xn, mul(r, hn)));
  return { h: add(mul(sub(1, z), n), mul(z, s.h)) };
}

/** LSTM (PyTorch gate order i, f, g, o): c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g); h' = σ(o) ⊙ tanh(c'). */
function lstmStep(gx: Tensor, s: RecurrentState, w: Weights): RecurrentState {
  const [i, f, g, o] = split(add(gx, affine(s.h, w.whh, w.bhh)), 4, -1) as [Tensor, Tensor, Tensor, Tensor];
  const c = add(mul(sigmoid(f), s.c!), mul(sigmoid(i), tanh(g)));
  return { h: mul(sigmoid(o), tanh(c)), c };
}

/** Column t of a [N, T] mask as an [N, 1] tensor, and whether it is all ones / all zeros. */
function maskColumn(mask: NDArray, t: number): { m: Tensor; all: boolean; none: boolean } {
  const m = T.reshape(T.slice(mask, [undefined, { start: t, stop: t + 1 }]).contiguous(), [mask.shape[0]!, 1]);
  let ones = 0;
  const d = m.flat();
  for (let i = 0; i < d.length; i++) ones += d[i]!;
  return { m: new Tensor(m), all: ones === d.length, none: ones === 0 };
}

/**
 * One direction over the sequence. Masked steps carry the state and output 0 (`where`, so no
 * gradient reaches what a masked step computed, nor its input).
 */
function runDirection(kind: Kind, x: Tensor, mask: Tensor | null, w: Weights, init: RecurrentState, reverse: boolean): { outputs: Tensor[]; state: RecurrentState } {
  const [n, steps] = x.shape as [number, number, number];
  // Masked inputs are zeroed first ("double where"): whatever they hold (even NaN) reaches no gradient.
  const clean = mask ? where(featureMask(mask), x, 0) : x;
  const gx = perStep(clean, (rows) => affine(rows, w.wih, w.bih)); // every step's input projection at once: [N, T, G·H]
  const width = gx.shape[2]!;
  const step = kind === "gru" ? gruStep : lstmStep;
  const outputs: Tensor[] = new Array<Tensor>(steps);
  let state = init;
  for (let k = 0; k < steps; k++) {
    const t = reverse ? steps - 1 - k : k;
    const col = mask ? maskColumn(mask.value, t) : null;
    if (col?.none) { outputs[t] = zeros([n, state.h.shape[1]!], { dtype: x.dtype }); continue; }
    const next = step(reshape(slice(gx, [undefined, { start: t, stop: t + 1 }]), [n, width]), state, w);
    if (!col || col.all) { state = next; outputs[t] = next.h; continue; }
    outputs[t] = where(col.m, next.h, 0);
    state = { h: where(col.m, next.h, state.h), ...(next.c ? { c: where(col.m, next.c, state.c!) } : {}) };
  }
  return { outputs, state };
}

function checkState(op: string, kind: Kind, s: Tensor | RecurrentState | undefined, n: number, hidden: number, dtype: T.DType): RecurrentState {
  const want = [n, hidden];
  if (s === undefined) {
    const z = zeros(want, { dtype });
    return kind === "lstm" ? { h: z, c: z } : { h: z };
  }
  const state: RecurrentState = "value" in s ? { h: s } : s;
  if (kind === "lstm" && !state.c) throw new TypeError(`${op}: an LSTM's initialState needs both h and c`);
  for (const t of kind === "lstm" ? [state.h, state.c!] : [state.h]) {
    if (!shapesEqual(t.shape, want)) throw new ShapeError(op, `initial state must be [N, hiddenSize] = [${n},${hidden}]`, [t.shape]);
  }
  return state;
}

/** The weights of one direction, read from the owner by PyTorch's names (so functionalCall can swap them). */
function weightsOf(owner: object, suffix: string): Weights {
  const o = owner as Record<string, Tensor | null>;
  return { wih: o[`weight_ih_l0${suffix}`]!, whh: o[`weight_hh_l0${suffix}`]!, bih: o[`bias_ih_l0${suffix}`] ?? null, bhh: o[`bias_hh_l0${suffix}`] ?? null };
}

/** PyTorch's initialisation: every weight and bias U(−1/√H, 1/√H). */
function makeWeights(gates: number, inputSize: number, hidden: number, o: ReturnType<typeof RECURRENT.parse>): Record<string, Parameter | null> {
  const rng = generatorFrom(o.seed);
  const k = 1 / Math.sqrt(hidden);
  const u = (shape: number[]) => new Parameter(randomUniform(shape, -k, k, { seed: rng, dtype: o.dtype }));
  return {
    weight_ih: u([gates * hidden, inputSize]),
    weight_hh: u([gates * hidden, hidden]),
    bias_ih: o.bias ? u([gates * hidden]) : null,
    bias_hh: o.bias ? u([gates * hidden]) : null,
  };
}

function checkInput(op: string, x: Tensor, inputSize: number): void {
  if (x.rank !== 3 || x.shape[2] !== inputSize) throw new ShapeError(op, `input must be [N, T, ${inputSize}]`, [x.shape]);
}

/** Shared by GRU and LSTM: one direction, PyTorch's parameters. */
abstract class Recurrent<S extends boolean> extends Module<[Tensor, RecurrentCallOptions?], S extends true ? RecurrentOutput : Tensor> implements MaskingLayer {
  readonly supportsMasking = true;
  weight_ih_l0: Parameter;
  weight_hh_l0: Parameter;
  bias_ih_l0: Parameter | null;
  bias_hh_l0: Parameter | null;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  /** The parsed options (kept to build a Bidirectional's reverse direction). */
  readonly options: ReturnType<typeof RECURRENT.parse>;

  constructor(readonly kind: Kind, readonly inputSize: number, readonly hiddenSize: number, options: RecurrentOptions = {}) {
    super();
    const op = kind.toUpperCase();
    checkArg(Number.isInteger(inputSize) && inputSize > 0, op, `inputSize must be a positive integer, got ${inputSize}`);
    checkArg(Number.isInteger(hiddenSize) && hiddenSize > 0, op, `hiddenSize must be a positive integer, got ${hiddenSize}`);
    this.options = RECURRENT.parse(op, options);
    const w = makeWeights(kind === "gru" ? 3 : 4, inputSize, hiddenSize, this.options);
    this.weight_ih_l0 = w.weight_ih!;
    this.weight_hh_l0 = w.weight_hh!;
    this.bias_ih_l0 = w.bias_ih!;
    this.bias_hh_l0 = w.bias_hh!;
    this.returnSequences = this.options.returnSequences;
    this.returnState = this.options.returnState;
  }

  forward(x: Tensor, options: RecurrentCallOptions = {}): S extends true ? RecurrentOutput : Tensor {
    const op = this.kind.toUpperCase();
    checkInput(op, x, this.inputSize);
    const mask = resolveMask(op, x, options);
    if (Array.isArray(options.initialState)) throw new TypeError(`${op}: initialState must be one state (a list is for Bidirectional)`);
    const init = checkState(op, this.kind, options.initialState as Tensor | RecurrentState | undefined, x.shape[0]!, this.hiddenSize, x.dtype);
    const { outputs, state } = runDirection(this.kind, x, mask, weightsOf(this, ""), init, false);
    const output = this.returnSequences ? withMask(stack(outputs, 1), mask) : state.h;
    return (this.returnState ? { output, ...state } : output) as S extends true ? RecurrentOutput : Tensor;
  }

  /** The output's mask: the input's with `returnSequences`, none otherwise. */
  computeMask(_x: Tensor, mask: Tensor | null): Tensor | null {
    return this.returnSequences ? mask : null;
  }

  override describe(): string {
    return `${this.kind.toUpperCase()}(${this.inputSize} → ${this.hiddenSize}${this.returnSequences ? ", returnSequences" : ""})`;
  }
}

/** A gated recurrent unit with PyTorch's equations; parameters weight_ih_l0 [3H, in] (r, z, n), weight_hh_l0 [3H, H], bias_ih_l0, bias_hh_l0. */
export class GRU<S extends boolean = false> extends Recurrent<S> {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions & { returnState?: S } = {}) {
    super("gru", inputSize, hiddenSize, options);
  }
}

/** A long short-term memory layer with PyTorch's equations; parameters weight_ih_l0 [4H, in] (i, f, g, o), weight_hh_l0 [4H, H], bias_ih_l0, bias_hh_l0. */
export class LSTM<S extends boolean = false> extends Recurrent<S> {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions & { returnState?: S } = {}) {
    super("lstm", inputSize, hiddenSize, options);
  }
}

const BIDIRECTIONAL = defineOptions({ seed: weightFields.seed });

/**
 * Runs a GRU or LSTM forwards and a copy of it backwards and concatenates their outputs on the
 * feature axis ([N, T, 2H], or [N, 2H] without returnSequences). Parameters are the layer's own
 * (`weight_ih_l0`, …) and the reverse direction's (`weight_ih_l0_reverse`, …), as in a PyTorch
 * `nn.GRU(..., bidirectional=True, batch_first=True)`. The reverse direction reads the steps
 * from last to first and skips masked ones; its final state is the one after the first real step.
 */
export class Bidirectional<S extends boolean = false> extends Module<[Tensor, RecurrentCallOptions?], S extends true ? RecurrentOutput : Tensor> implements MaskingLayer {
  readonly supportsMasking = true;
  private readonly layer!: Recurrent<S>;
  [name: string]: unknown;

  constructor(layer: GRU<S> | LSTM<S>, options: OptionsOf<typeof BIDIRECTIONAL> = {}) {
    super();
    if (!(layer instanceof Recurrent)) throw new TypeError("Bidirectional: expects a GRU or LSTM layer");
    const o = BIDIRECTIONAL.parse("Bidirectional", options);
    Object.defineProperty(this, "layer", { value: layer, enumerable: false });
    const reverse = makeWeights(layer.kind === "gru" ? 3 : 4, layer.inputSize, layer.hiddenSize, { ...layer.options, seed: o.seed ?? layer.options.seed });
    // PyTorch's order: the forward direction's four tensors, then the reverse direction's.
    const names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].filter((name) => reverse[name]);
    for (const name of names) this[`${name}_l0`] = (layer as unknown as Record<string, Parameter>)[`${name}_l0`];
    for (const name of names) this[`${name}_l0_reverse`] = reverse[name];
  }

  forward(x: Tensor, options: RecurrentCallOptions = {}): S extends true ? RecurrentOutput : Tensor {
    const { kind, inputSize, hiddenSize, returnSequences, returnState } = this.layer;
    checkInput("Bidirectional", x, inputSize);
    const mask = resolveMask("Bidirectional", x, options);
    const given = options.initialState;
    if (given !== undefined && (!Array.isArray(given) || given.length !== 2)) throw new TypeError("Bidirectional: initialState must be [forward, reverse]");
    const init = [0, 1].map((d) => checkState("Bidirectional", kind, (given as (Tensor | RecurrentState)[] | undefined)?.[d], x.shape[0]!, hiddenSize, x.dtype));
    const fwd = runDirection(kind, x, mask, weightsOf(this, ""), init[0]!, false);
    const bwd = runDirection(kind, x, mask, weightsOf(this, "_reverse"), init[1]!, true);
    const output = returnSequences
      ? withMask(concat([stack(fwd.outputs, 1), stack(bwd.outputs, 1)], 2), mask)
      : concat([fwd.state.h, bwd.state.h], 1);
    if (!returnState) return output as S extends true ? RecurrentOutput : Tensor;
    const h = stack([fwd.state.h, bwd.state.h], 0);
    return { output, h, ...(kind === "lstm" ? { c: stack([fwd.state.c!, bwd.state.c!], 0) } : {}) } as S extends true ? RecurrentOutput : Tensor;
  }

  computeMask(x: Tensor, mask: Tensor | null): Tensor | null {
    return this.layer.computeMask(x, mask);
  }

  override describe(): string {
    return `Bidirectional(${this.layer.describe()})`;
  }
}
