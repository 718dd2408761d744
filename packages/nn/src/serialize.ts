/**
 * Weights and training checkpoints as safetensors bytes (Uint8Array in, Uint8Array out); the
 * Node file helpers in `@zerograd/nn/node` write these bytes atomically.
 *
 * Weights: one tensor per parameter and buffer, named by its dotted path (`0.weight`). Dense,
 * Embedding, BatchNormalization and LayerNormalization use PyTorch's names and layouts, so the
 * file loads into the matching torch.nn modules with `load_state_dict(safetensors.torch.load_file(path))`.
 * Conv2D filters are stored as [kh, kw, in, out]; pass `{ layout: "pytorch" }` to store (or read)
 * them as PyTorch's [out, in, kh, kw].
 *
 * Checkpoints: the weights ("model.<name>"), the optimizer's slots ("optimizer.<slot>.<index>"),
 * tensors inside callback states ("callback.<i>.<path>", e.g. early stopping's best weights)
 * and, in the `__metadata__`, everything else as JSON: epoch, step, generator states, history,
 * group weights, callback kinds and states, and the optimizer's hyperparameters — and a CRC-32
 * of the whole file, verified on load, so that a damaged file is refused instead of training on.
 *
 * Names are data throughout: state dicts read from files have no prototype, so a tensor named
 * `__proto__`, `constructor` or `toString` is an ordinary (and, to a model, unexpected) name.
 */
import { NDArray, ShapeError, transpose } from "@zerograd/tensor";
import { Conv2D } from "./layers/conv.js";
import { BatchNormalization } from "./layers/normalization.js";
import type { AnyModule, StateDict } from "./module.js";
import type { OptimizerState } from "./optim/optimizer.js";
import { type NamedTensor, SafetensorsError, decodeSafetensors, encodeSafetensors } from "./safetensors.js";

/** Where conv filters follow TensorFlow's [kh, kw, in, out] (native) or PyTorch's [out, in, kh, kw]. */
export type WeightsLayout = "native" | "pytorch";

export interface WeightsOptions {
  layout?: WeightsLayout;
  /** Extra `__metadata__` strings. */
  metadata?: Record<string, string>;
}

const TO_PYTORCH = [3, 2, 0, 1]; // [kh, kw, in, out] → [out, in, kh, kw]
const FROM_PYTORCH = [2, 3, 1, 0]; // and back

/** The names of every Conv2D filter in the model (their layout differs between the frameworks). */
function convFilterNames(model: AnyModule): Set<string> {
  const names = new Set<string>();
  for (const [path, m] of model.namedModules()) if (m instanceof Conv2D) names.add(path ? `${path}.weight` : "weight");
  return names;
}

function named(a: NDArray): NamedTensor {
  const c = a.contiguous();
  return { shape: [...c.shape], data: c.flat() as Float32Array | Float64Array };
}

/** The model's state dict as safetensors tensors, with conv filters in the chosen layout. */
export function weightsAsTensors(model: AnyModule, layout: WeightsLayout = "native"): Record<string, NamedTensor> {
  const convs = layout === "pytorch" ? convFilterNames(model) : new Set<string>();
  const out: Record<string, NamedTensor> = Object.create(null);
  for (const [name, value] of Object.entries(model.stateDict())) {
    out[name] = named(convs.has(name) ? new NDArray(transpose(value, TO_PYTORCH).copyData(), TO_PYTORCH.map((a) => value.shape[a]!)) : value);
  }
  return out;
}

/** Encodes the model's parameters and buffers as a safetensors file. */
export function encodeWeights(model: AnyModule, options: WeightsOptions = {}): Uint8Array {
  return encodeSafetensors(weightsAsTensors(model, options.layout), { format: "pt", ...(options.metadata ?? {}) });
}

/**
 * Loads a safetensors file into the model. The whole file is checked (header, offsets, dtypes)
 * and then every name, shape and value (finite) against the model before any value is written:
 * on any error the model is left untouched. F16, BF16, F64 and integer values are converted to
 * the parameters' dtype. PyTorch's BatchNorm counter `<path>.num_batches_tracked` has no
 * counterpart here (the momentum is fixed) and is skipped when `<path>` is a BatchNormalization.
 */
export function loadWeights(model: AnyModule, bytes: Uint8Array, options: { strict?: boolean; layout?: WeightsLayout } = {}): void {
  const { tensors } = decodeSafetensors(bytes);
  const convs = options.layout === "pytorch" ? convFilterNames(model) : new Set<string>();
  const counters = new Set(model.namedModules().flatMap(([path, m]) => (m instanceof BatchNormalization ? [path ? `${path}.num_batches_tracked` : "num_batches_tracked"] : [])));
  const state: Record<string, NDArray> = Object.create(null);
  for (const [name, t] of Object.entries(tensors)) {
    if (counters.has(name)) continue;
    const a = new NDArray(t.data, t.shape);
    if (convs.has(name)) {
      if (a.rank !== 4) throw new ShapeError("loadWeights", `${JSON.stringify(name)}: a PyTorch conv filter must be [out, in, kh, kw]`, [a.shape]);
      state[name] = new NDArray(transpose(a, FROM_PYTORCH).copyData(), FROM_PYTORCH.map((ax) => a.shape[ax]!));
    } else state[name] = a;
  }
  model.loadStateDict(state, { strict: options.strict ?? true });
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

/** Everything fit() needs to continue a run exactly where it stopped. */
export interface TrainingCheckpoint {
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps taken. */
  globalStep: number;
  weights: StateDict;
  optimizer: OptimizerState;
  /** Generator states: the one that shuffles batches, and the model's own (dropout) by name. */
  rng: { shuffle: number[]; model: Record<string, number[]> };
  /** Every logged value per epoch so far. */
  history: Record<string, number[]>;
  /** Per output: the current weight of each group id. */
  groupWeights: Record<string, Record<number, number>>;
  /**
   * What each callback asked to keep, in the order of fit's callbacks: its kind (checked on
   * resume) and its state (null for a callback without one). A state may hold NDArrays.
   */
  callbacks: CallbackState[];
}

/** One callback's entry in a checkpoint. */
export interface CallbackState {
  kind: string;
  state: unknown;
}

const CHECKPOINT_FORMAT = "zerograd.checkpoint/2";

/** JSON with exact numbers: non-finite numbers (NaN, ±Infinity) are tagged instead of becoming null. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v));
}

function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { $number?: unknown }).$number === "string") {
      return Number((v as { $number: string }).$number);
    }
    return v;
  });
}

/**
 * A copy of `value` in which every NDArray is replaced by `{ $tensor: name }`, its tensor stored
 * under `name` = prefix + its path of keys (`callback.2.bestWeights.0.weight`).
 */
function extractTensors(value: unknown, path: string, tensors: Record<string, NamedTensor>): unknown {
  if (value instanceof NDArray) {
    let name = path;
    for (let k = 1; Object.hasOwn(tensors, name); k++) name = `${path}~${k}`; // a key with dots could repeat a path
    tensors[name] = named(value);
    return { $tensor: name };
  }
  if (Array.isArray(value)) return value.map((v, i) => extractTensors(v, `${path}.${i}`, tensors));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, extractTensors(v, `${path}.${k}`, tensors)]));
  return value;
}

/** The inverse of extractTensors: `{ $tensor: name }` becomes the NDArray stored under that name. */
function insertTensors(value: unknown, tensors: Record<string, NamedTensor>, fail: (rule: string) => never): unknown {
  if (Array.isArray(value)) return value.map((v) => insertTensors(v, tensors, fail));
  if (typeof value !== "object" || value === null) return value;
  const ref = (value as { $tensor?: unknown }).$tensor;
  if (Object.keys(value).length === 1 && typeof ref === "string") {
    const t = Object.hasOwn(tensors, ref) ? tensors[ref]! : fail(`a callback state refers to the tensor ${JSON.stringify(ref)}, which the file does not hold`);
    return new NDArray(t.data, t.shape);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, insertTensors(v, tensors, fail)]));
}

/** Encodes a training checkpoint as one safetensors file, with its CRC-32 in the metadata. */
export function encodeCheckpoint(checkpoint: TrainingCheckpoint): Uint8Array {
  const tensors: Record<string, NamedTensor> = Object.create(null);
  for (const [name, value] of Object.entries(checkpoint.weights)) tensors[`model.${name}`] = named(value);
  const callbacks = checkpoint.callbacks.map((c, i) => ({ kind: c.kind, state: extractTensors(c.state, `callback.${i}`, tensors) }));
  const present: Record<string, number[]> = Object.create(null);
  for (const [slot, list] of Object.entries(checkpoint.optimizer.slots)) {
    present[slot] = [];
    list.forEach((a, i) => {
      if (a === null) return;
      present[slot]!.push(i);
      tensors[`optimizer.${slot}.${i}`] = named(a);
    });
  }
  const { weights: _w, optimizer, ...rest } = checkpoint;
  const state = { ...rest, callbacks, optimizer: { type: optimizer.type, lr: optimizer.lr, options: optimizer.options, steps: optimizer.steps, slots: present }, weightNames: Object.keys(checkpoint.weights) };
  const bytes = encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, state: toJson(state), [CHECKSUM_KEY]: UNSET_CHECKSUM });
  const at = checksumAt(bytes);
  if (at < 0) throw new Error("internal: encodeCheckpoint: the checksum field is missing from the header it wrote");
  writeAscii(bytes, at, hex32(fileChecksum(bytes, at)));
  return bytes;
}

/**
 * Decodes a checkpoint written by encodeCheckpoint. The checksum is verified first, then the
 * file's structure and every part of the state: a damaged or malformed file throws before
 * anything is returned. Checkpoints written before checksums existed (no `crc32` in their
 * metadata) still load, unverified.
 */
export function decodeCheckpoint(bytes: Uint8Array): TrainingCheckpoint {
  verifyChecksum(bytes);
  const { tensors, metadata } = decodeSafetensors(bytes);
  const state = readCheckpointState(metadata);
  const int = (v: unknown, name: string) => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : fail(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`));
  const epoch = int(state.epoch, "epoch");
  const globalStep = int(state.globalStep, "globalStep");
  const weightNames = Array.isArray(state.weightNames) ? (state.weightNames as unknown[]) : fail("weightNames must be a list");
  const weights: StateDict = Object.create(null);
  for (const name of weightNames) {
    const t = typeof name === "string" ? tensors[`model.${name}`] : undefined;
    if (!t) fail(`the weight ${JSON.stringify(name)} is listed but its tensor is missing`);
    weights[name as string] = new NDArray(t.data, t.shape);
  }
  const rng = state.rng as TrainingCheckpoint["rng"] | undefined;
  if (typeof rng !== "object" || rng === null || !Array.isArray(rng.shuffle) || typeof rng.model !== "object") fail("the generator states are malformed");
  const rawCallbacks = state.callbacks ?? [];
  if (!Array.isArray(rawCallbacks)) fail("callbacks must be a list of { kind, state }");
  const callbacks = (rawCallbacks as unknown[]).map((c, i) => {
    const entry = c as Partial<CallbackState> | null;
    if (typeof entry !== "object" || entry === null || typeof entry.kind !== "string") return fail(`callback ${i} must be { kind, state }, got ${JSON.stringify(c)}`);
    return { kind: entry.kind, state: insertTensors(entry.state ?? null, tensors, fail) };
  });
  return {
    epoch,
    globalStep,
    weights,
    optimizer: readOptimizerState(state.optimizer, tensors),
    rng,
    history: (state.history ?? {}) as Record<string, number[]>,
    groupWeights: (state.groupWeights ?? {}) as Record<string, Record<number, number>>,
    callbacks,
  };
}

function fail(rule: string): never {
  throw new SafetensorsError("decodeCheckpoint", rule);
}

/** The metadata of a checkpoint: its format, and the state as a JSON object. */
function readCheckpointState(metadata: Record<string, string>): Record<string, unknown> {
  if (metadata.format === "zerograd.checkpoint/1") fail(`the checkpoint has the older format "zerograd.checkpoint/1" (callback states without their kinds), which this version no longer reads; expected ${JSON.stringify(CHECKPOINT_FORMAT)}`);
  if (metadata.format !== CHECKPOINT_FORMAT) fail(`not a training checkpoint: metadata "format" is ${JSON.stringify(metadata.format)}, expected ${JSON.stringify(CHECKPOINT_FORMAT)}`);
  const unknown = Object.keys(metadata).filter((key) => !["format", "state", CHECKSUM_KEY].includes(key));
  if (unknown.length > 0) fail(`unexpected metadata ${unknown.map((k) => JSON.stringify(k)).join(", ")}: a checkpoint holds only "format", "state" and "${CHECKSUM_KEY}" (is the file damaged?)`);
  let state: unknown;
  try {
    state = fromJson(metadata.state ?? "");
  } catch (e) {
    return fail(`the checkpoint state is not valid JSON (${(e as Error).message})`);
  }
  if (typeof state !== "object" || state === null) fail("the checkpoint state must be a JSON object");
  return state as Record<string, unknown>;
}

/** The optimizer's part: its hyperparameters from the JSON, its slots from the tensors (by the indices the JSON lists). */
function readOptimizerState(raw: unknown, tensors: Record<string, NamedTensor>): OptimizerState {
  const opt = raw as Record<string, unknown> | undefined;
  if (typeof opt !== "object" || opt === null || typeof opt.type !== "string" || !Array.isArray(opt.steps)) fail("the optimizer state is malformed");
  const slots: Record<string, (NDArray | null)[]> = Object.create(null);
  const n = opt.steps.length;
  for (const [slot, indices] of Object.entries((opt.slots ?? {}) as Record<string, unknown>)) {
    if (!Array.isArray(indices)) fail(`optimizer slot ${JSON.stringify(slot)} must list parameter indices`);
    slots[slot] = new Array<NDArray | null>(n).fill(null);
    for (const i of indices as unknown[]) {
      const t = tensors[`optimizer.${slot}.${String(i)}`];
      if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= n || !t) fail(`optimizer slot ${JSON.stringify(slot)} lists parameter ${JSON.stringify(i)} but has no tensor for it`);
      slots[slot]![i as number] = new NDArray(t.data, t.shape);
    }
  }
  return { type: opt.type, lr: opt.lr as number, options: opt.options as Record<string, number | boolean>, steps: opt.steps as number[], slots };
}

// ---------------------------------------------------------------------------------------------
// The checksum

/** The metadata key of the checksum: eight lowercase hex digits. */
const CHECKSUM_KEY = "crc32";
/** What the checksum field holds while the checksum is computed (written, then overwritten). */
const UNSET_CHECKSUM = "00000000";

/**
 * The CRC-32 of a whole checkpoint file as written with its checksum field set to eight zeros
 * (so `zlib.crc32` of that file gives the same number). It covers the length prefix, the header
 * — names, shapes, offsets, the JSON state — and every tensor byte. `at` is where the field's
 * digits sit.
 */
function fileChecksum(bytes: Uint8Array, at: number): number {
  const zeros = Uint8Array.from(UNSET_CHECKSUM, (c) => c.charCodeAt(0));
  return crc32(bytes.subarray(at + 8), crc32(zeros, crc32(bytes.subarray(0, at))));
}

/**
 * Verifies the checksum, before the file is decoded: so that damage anywhere reads as damage,
 * whatever else it happens to break. Without a checksum (an older checkpoint) it does nothing.
 */
function verifyChecksum(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) return; // decodeSafetensors says what is wrong
  const at = checksumAt(bytes);
  if (at < 0) return;
  const stored = String.fromCharCode(...bytes.subarray(at, at + 8));
  const actual = fileChecksum(bytes, at);
  if (!/^[0-9a-f]{8}$/.test(stored) || parseInt(stored, 16) !== actual) {
    fail(`the file is damaged: its checksum (${CHECKSUM_KEY} ${JSON.stringify(stored)}) does not match its contents (${hex32(actual)}); nothing was loaded`);
  }
}

/**
 * Where the checksum's eight characters start in the header (just after `"crc32":"`), or −1.
 * The pattern cannot occur elsewhere: in names and in the JSON state every `"` is escaped.
 */
function checksumAt(bytes: Uint8Array): number {
  const pattern = Uint8Array.from(`"${CHECKSUM_KEY}":"`, (c) => c.charCodeAt(0));
  const headerEnd = Math.min(bytes.length, 8 + new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(0, true));
  search: for (let i = 8; i + pattern.length + 8 <= headerEnd; i++) {
    for (let k = 0; k < pattern.length; k++) if (bytes[i + k] !== pattern[k]) continue search;
    return i + pattern.length;
  }
  return -1;
}

/** CRC-32 (IEEE 802.3: zlib's, PNG's), byte by byte with a 256-entry table; `crc` continues a previous one. */
function crc32(bytes: Uint8Array, crc = 0): number {
  const table = (crcTable ??= makeCrcTable());
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

let crcTable: Int32Array | null = null;

/** table[n] = the CRC of the byte n: eight shifts by the reflected polynomial 0xEDB88320. */
function makeCrcTable(): Int32Array {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
}

const hex32 = (n: number) => n.toString(16).padStart(8, "0");

function writeAscii(bytes: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
}
