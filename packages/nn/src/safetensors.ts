/**
 * The safetensors file format (Hugging Face), as PyTorch reads and writes it.
 *
 *   bytes [0, 8)        N, the header length: an unsigned 64-bit little-endian integer
 *   bytes [8, 8 + N)    the header: UTF-8 JSON, an object that starts with `{`
 *                       and may be padded at the end with spaces
 *   bytes [8 + N, end)  the byte buffer holding every tensor, packed, row-major, little-endian
 *
 * The header maps each tensor name to `{ "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }`;
 * offsets count from the start of the byte buffer, not of the file. The optional key
 * `__metadata__` holds a map of strings to strings. The tensors must cover the byte buffer
 * exactly — no holes, no overlaps, nothing after the last tensor — so a file has one meaning only.
 *
 * This module uses no platform API beyond DataView: it runs in Node, browsers, Bun, Deno and
 * QuickJS (which has no TextEncoder/TextDecoder, hence the small UTF-8 codec of utf8.ts).
 */
import { describeValue, fmtShape, sizeOf } from "@zerograd/tensor";
import { utf8Decode, utf8Encode } from "./utf8.js";

/** A tensor as stored in a file: a row-major shape and its elements. */
export type NamedTensor = {
  shape: readonly number[];
  data: Float32Array | Float64Array;
};

/** What `decodeSafetensors` returns: the tensors by name, and the `__metadata__` strings. */
export type SafetensorsContents = {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
};

/** A safetensors file (or the tensors given to write one) broke a rule of the format. */
export class SafetensorsError extends Error {
  override readonly name = "SafetensorsError";
  constructor(
    readonly op: string,
    readonly rule: string,
  ) {
    super(`${op}: ${rule}`);
  }
}

/** The reference implementation refuses headers longer than this, to bound JSON parsing. */
export const MAX_HEADER_BYTES = 100_000_000;

/** The key that holds the free-form string metadata instead of a tensor. */
const METADATA_KEY = "__metadata__";

/**
 * Bytes per element of every dtype the format names, and whether it can be read here. Floats
 * come back as Float32Array (F32, F16, BF16: exact) or Float64Array (F64); integers and
 * booleans are read as numbers too — into Float32Array when every value of the dtype is a
 * float32 (I16, U16, I8, U8, BOOL), into Float64Array otherwise (I32, U32, I64, U64; 64-bit
 * values must lie within ±2^53, where every integer is a double). PyTorch writes BatchNorm's
 * `num_batches_tracked` as I64, so a whole torch state dict reads.
 * (Sub-byte dtypes such as F4 have no whole-byte size and are not listed.)
 */
const DTYPES: Record<string, { bytes: number; readable: boolean }> = {
  F64: { bytes: 8, readable: true },
  F32: { bytes: 4, readable: true },
  F16: { bytes: 2, readable: true },
  BF16: { bytes: 2, readable: true },
  F8_E5M2: { bytes: 1, readable: false },
  F8_E4M3: { bytes: 1, readable: false },
  F8_E8M0: { bytes: 1, readable: false },
  C64: { bytes: 8, readable: false },
  I64: { bytes: 8, readable: true },
  I32: { bytes: 4, readable: true },
  I16: { bytes: 2, readable: true },
  I8: { bytes: 1, readable: true },
  U64: { bytes: 8, readable: true },
  U32: { bytes: 4, readable: true },
  U16: { bytes: 2, readable: true },
  U8: { bytes: 1, readable: true },
  BOOL: { bytes: 1, readable: true },
};

const READABLE_DTYPES = Object.keys(DTYPES).filter((d) => DTYPES[d]!.readable);

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** A tensor to write, checked and given its dtype. */
type Entry = { name: string; dtype: "F32" | "F64"; shape: readonly number[]; data: Float32Array | Float64Array };

/**
 * Encodes tensors (Float32Array → F32, Float64Array → F64) and optional string metadata as a
 * safetensors file. The bytes are deterministic: like the reference implementation, tensors are
 * laid out by element size, largest first (so every tensor starts at a multiple of its element
 * size), then by name; the header lists them in that order and metadata keys are sorted.
 */
export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = checkTensors(tensors);
  const metadataEntries = metadata === undefined ? null : checkMetadata(metadata);
  // Lay the tensors out one after another: larger elements first, then by name.
  entries.sort((a, b) => b.data.BYTES_PER_ELEMENT - a.data.BYTES_PER_ELEMENT || compareStrings(a.name, b.name));
  const begins: number[] = [];
  let bufferBytes = 0;
  for (const entry of entries) {
    begins.push(bufferBytes);
    bufferBytes += entry.data.byteLength;
  }
  const json = utf8Encode(headerText(entries, begins, metadataEntries));
  // Pad with spaces so the byte buffer starts at a multiple of 8 (8 bytes of length + the header).
  const headerBytes = json.length + ((8 - (json.length % 8)) % 8);

  // Assemble: length prefix, header, padding, then each tensor's elements, little-endian.
  const out = new Uint8Array(8 + headerBytes + bufferBytes);
  const view = new DataView(out.buffer);
  writeUint64(view, 0, headerBytes);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes); // ASCII space
  entries.forEach((entry, i) => {
    let at = 8 + headerBytes + begins[i]!;
    const data = entry.data;
    if (entry.dtype === "F32") {
      for (let j = 0; j < data.length; j++, at += 4) view.setFloat32(at, data[j]!, true);
    } else {
      for (let j = 0; j < data.length; j++, at += 8) view.setFloat64(at, data[j]!, true);
    }
  });
  return out;
}

/** Every tensor to write: a float array and a shape that holds exactly its elements. */
function checkTensors(tensors: Record<string, NamedTensor>): Entry[] {
  const op = "encodeSafetensors";
  if (typeof tensors !== "object" || tensors === null) {
    throw new SafetensorsError(op, `tensors must be an object mapping names to tensors, got ${describeValue(tensors)}`);
  }
  return Object.keys(tensors).map((name) => {
    const where = `${op}: tensor ${quote(name)}`;
    if (name === METADATA_KEY) {
      throw new SafetensorsError(op, `a tensor may not be named ${quote(METADATA_KEY)}: that key holds the metadata`);
    }
    const tensor = tensors[name] as unknown;
    if (typeof tensor !== "object" || tensor === null) {
      throw new SafetensorsError(where, `expected { shape, data }, got ${describeValue(tensor)}`);
    }
    const { shape, data } = tensor as Partial<NamedTensor>;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new SafetensorsError(where, `data must be a Float32Array or a Float64Array, got ${describeValue(data)}`);
    }
    if (!isShape(shape)) {
      throw new SafetensorsError(where, `shape must be an array of non-negative integers, got ${describeJson(shape)}`);
    }
    if (sizeOf(shape) !== data.length) {
      throw new SafetensorsError(where, `shape ${fmtShape(shape)} holds ${sizeOf(shape)} elements but data has ${data.length}`);
    }
    return { name, dtype: data instanceof Float32Array ? "F32" : "F64", shape, data };
  });
}

/** The metadata as [key, value] string pairs, sorted by key. */
function checkMetadata(metadata: Record<string, string>): [string, string][] {
  const op = "encodeSafetensors";
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new SafetensorsError(op, `metadata must be an object of strings, got ${describeJson(metadata)}`);
  }
  return Object.keys(metadata).sort(compareStrings).map((key) => {
    const value = metadata[key] as unknown;
    if (typeof value !== "string") throw new SafetensorsError(op, `metadata ${quote(key)} must be a string, got ${describeJson(value)}`);
    return [key, value];
  });
}

/**
 * The header's JSON text. Written by hand rather than with JSON.stringify(object), because a
 * JS object would move integer-like names ("0", "1") to the front and change the order.
 */
function headerText(entries: readonly Entry[], begins: readonly number[], metadata: readonly [string, string][] | null): string {
  const parts: string[] = [];
  if (metadata !== null) {
    const fields = metadata.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(",")}}`);
  }
  entries.forEach((entry, i) => {
    const begin = begins[i]!;
    const end = begin + entry.data.byteLength;
    parts.push(`${JSON.stringify(entry.name)}:{"dtype":"${entry.dtype}","shape":[${entry.shape.join(",")}],"data_offsets":[${begin},${end}]}`);
  });
  return `{${parts.join(",")}}`;
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** One header entry, checked. */
type TensorInfo = { name: string; dtype: string; shape: number[]; begin: number; end: number };

/** Every decoding error: the op is always decodeSafetensors. */
function fail(rule: string): never {
  throw new SafetensorsError("decodeSafetensors", rule);
}

/**
 * Decodes a safetensors file. The whole file is checked before anything is returned, and the
 * tensors are copied out: the result never shares memory with `bytes`, and `bytes` may sit at
 * any offset of its ArrayBuffer. F32 and F64 come back as Float32Array and Float64Array;
 * F16 and BF16 are widened to Float32Array (exactly: every F16/BF16 value is a float32);
 * integer and boolean dtypes become numbers, exactly (see DTYPES), and a 64-bit integer
 * beyond ±2^53 is an error rather than a rounded value. Names are data: the returned objects
 * have no prototype, so `__proto__` or `constructor` is a tensor name like any other.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) fail(`expected the file as a Uint8Array, got ${describeValue(bytes)}`);
  const { header, bufferStart } = readHeader(bytes);
  const metadata = readMetadata(header[METADATA_KEY]);
  const infos = Object.entries(header).flatMap(([name, entry]) => (name === METADATA_KEY ? [] : [readTensorInfo(name, entry, bytes.length - bufferStart)]));
  checkCoverage(infos, bytes.length - bufferStart);
  // Everything is valid: copy the elements out.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, NamedTensor> = Object.create(null);
  for (const info of infos) {
    const data = readElements(view, bufferStart + info.begin, info.dtype, sizeOf(info.shape), (rule) => fail(`tensor ${quote(info.name)}: ${rule}`));
    tensors[info.name] = { shape: info.shape, data };
  }
  return { tensors, metadata };
}

/** The length prefix and the header: a JSON object in UTF-8, with no repeated keys. */
function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; bufferStart: number } {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes long, shorter than the 8-byte header length that starts every file`);
  const headerBytes = readUint64(new DataView(bytes.buffer, bytes.byteOffset, 8), 0);
  if (headerBytes > MAX_HEADER_BYTES) fail(`header length ${headerBytes} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  if (8 + headerBytes > bytes.length) {
    fail(`header length ${headerBytes} runs past the end of the file (${bytes.length} bytes, so at most ${bytes.length - 8})`);
  }
  const text = utf8Decode(bytes, 8, 8 + headerBytes);
  if (typeof text === "number") fail(`header is not valid UTF-8: bad byte 0x${bytes[text]!.toString(16).padStart(2, "0")} at file offset ${text}`);
  if (!text.startsWith("{")) fail(`header must be a JSON object starting with '{', but it starts with ${JSON.stringify(text.slice(0, 20))}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) fail(`header repeats the key ${quote(duplicate)}; keys must be unique`);
  return { header, bufferStart: 8 + headerBytes };
}

/** The `__metadata__`: strings only (absent or null: none). */
function readMetadata(raw: unknown): Record<string, string> {
  const metadata: Record<string, string> = Object.create(null);
  if (raw === undefined || raw === null) return metadata;
  if (typeof raw !== "object" || Array.isArray(raw)) fail(`${quote(METADATA_KEY)} must be an object of strings, got ${describeJson(raw)}`);
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string") fail(`${quote(METADATA_KEY)} value for ${quote(key)} must be a string, got ${describeJson(value)}`);
    metadata[key] = value;
  }
  return metadata;
}

/** One tensor entry on its own: a readable dtype, a shape, offsets inside the buffer, and a size that matches. */
function readTensorInfo(name: string, entry: unknown, bufferBytes: number): TensorInfo {
  const where = `tensor ${quote(name)}`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    fail(`${where}: expected { "dtype", "shape", "data_offsets" }, got ${describeJson(entry)}`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string") fail(`${where}: "dtype" must be a string, got ${describeJson(dtype)}`);
  const dtypeInfo = Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype]! : fail(`${where}: unknown dtype ${quote(dtype)}`);
  if (!dtypeInfo.readable) fail(`${where}: dtype ${dtype} is not supported; only ${READABLE_DTYPES.join(", ")} can be read`);
  if (!isShape(shape)) fail(`${where}: "shape" must be an array of non-negative integers, got ${describeJson(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    fail(`${where}: "data_offsets" must be [begin, end] with non-negative integers, got ${describeJson(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${where}: data_offsets [${begin},${end}] end before they begin`);
  if (end > bufferBytes) fail(`${where}: data_offsets [${begin},${end}] run past the end of the byte buffer (${bufferBytes} bytes)`);
  const count = sizeOf(shape);
  const needed = count * dtypeInfo.bytes;
  if (!Number.isSafeInteger(needed)) fail(`${where}: shape ${fmtShape(shape)} is too large`);
  if (end - begin !== needed) {
    fail(`${where}: data_offsets [${begin},${end}] hold ${end - begin} bytes, but shape ${fmtShape(shape)} of ${dtype} needs ${count} × ${dtypeInfo.bytes} = ${needed} bytes`);
  }
  return { name, dtype, shape: [...shape], begin, end };
}

/**
 * Together the tensors cover the byte buffer exactly: sorted by offset, each one begins where
 * the previous one ended, and the last one ends at the end of the file. Sorts `infos`.
 */
function checkCoverage(infos: TensorInfo[], bufferBytes: number): void {
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorInfo | null = null;
  for (const info of infos) {
    const range = `tensor ${quote(info.name)} data_offsets [${info.begin},${info.end}]`;
    if (info.begin < covered) fail(`${range} overlap tensor ${quote(previous!.name)} data_offsets [${previous!.begin},${previous!.end}]`);
    if (info.begin > covered) fail(`${range} leave a hole: bytes [${covered},${info.begin}) of the byte buffer belong to no tensor`);
    covered = info.end;
    previous = info;
  }
  if (covered !== bufferBytes) {
    fail(`the tensors cover ${covered} bytes but the byte buffer holds ${bufferBytes}: bytes [${covered},${bufferBytes}) belong to no tensor`);
  }
}

/** Reads `count` little-endian elements of a readable dtype into a new array. */
function readElements(view: DataView, at: number, dtype: string, count: number, fail: (rule: string) => never): Float32Array | Float64Array {
  switch (dtype) {
    case "F64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, true);
      return out;
    }
    case "F32": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, true);
      return out;
    }
    case "F16": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = float16ToNumber(view.getUint16(at + 2 * i, true));
      return out;
    }
    case "BF16": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = bfloat16ToNumber(view.getUint16(at + 2 * i, true));
      return out;
    }
    case "I64":
    case "U64": {
      // Two 32-bit halves (no BigInt, which some embedded runtimes lack): value = high·2^32 + low,
      // exact as a double while |value| ≤ 2^53.
      const out = new Float64Array(count);
      const signed = dtype === "I64";
      for (let i = 0; i < count; i++) {
        const low = view.getUint32(at + 8 * i, true);
        const high = signed ? view.getInt32(at + 8 * i + 4, true) : view.getUint32(at + 8 * i + 4, true);
        // Checked on the halves: beyond 2^53 the sum itself would already be rounded.
        if (high < -(2 ** 21) || high > 2 ** 21 || (high === 2 ** 21 && low !== 0)) fail(`${dtype} element ${i} lies beyond ±2^53 and has no exact number`);
        out[i] = high * 2 ** 32 + low;
      }
      return out;
    }
    case "I32":
    case "U32": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = dtype === "I32" ? view.getInt32(at + 4 * i, true) : view.getUint32(at + 4 * i, true);
      return out;
    }
    case "I16":
    case "U16": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dtype === "I16" ? view.getInt16(at + 2 * i, true) : view.getUint16(at + 2 * i, true);
      return out;
    }
    case "I8":
    case "U8":
    case "BOOL": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dtype === "I8" ? view.getInt8(at + i) : view.getUint8(at + i);
        if (dtype === "BOOL" && v > 1) fail(`BOOL element ${i} is the byte ${v}, not 0 or 1`);
        out[i] = v;
      }
      return out;
    }
    default:
      throw new Error(`internal: readElements: dtype ${dtype} passed validation but has no reader`);
  }
}

/** IEEE 754 half precision: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals: fraction × 2^-14 / 2^10
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 is the upper half of a float32: put the 16 bits back on top and reinterpret. */
const scratch = new DataView(new ArrayBuffer(4));
export function bfloat16ToNumber(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) * 0x10000);
  return scratch.getFloat32(0);
}

/**
 * The first object key that appears twice in the same object of a JSON text, or null.
 * JSON.parse keeps the last of repeated keys silently; the format forbids them, because two
 * readers could then disagree about a file. `text` must already be valid JSON.
 */
function findDuplicateKey(text: string): string | null {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false; // true just after `{` or after `,` inside an object
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "{") {
      open.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      open.push(null);
      expectKey = false;
    } else if (c === "}" || c === "]") {
      open.pop();
      expectKey = false;
    } else if (c === ",") {
      expectKey = open[open.length - 1] != null;
    } else if (c === '"') {
      let close = i + 1;
      while (text[close] !== '"') close += text[close] === "\\" ? 2 : 1;
      if (expectKey) {
        const keys = open[open.length - 1]!;
        const key = JSON.parse(text.slice(i, close + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = close;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** A u64 that fits in a double; the header length is far below 2^53 in any valid file. */
function writeUint64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 2 ** 32, true);
  view.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
}

function readUint64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32; // may round above 2^53
}

function isNonNegativeInteger(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function isShape(x: unknown): x is readonly number[] {
  return Array.isArray(x) && x.every(isNonNegativeInteger);
}

/** Compares by UTF-16 code units, so the order never depends on the locale. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function quote(name: string): string {
  return JSON.stringify(name);
}

/** A short description of a value for error messages: its JSON, cut at 60 characters. */
function describeJson(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
