/**
 * The small part of the Protocol Buffers wire format that an ONNX file needs.
 *
 * A message is a list of fields; each starts with a key (fieldNumber << 3 | wireType) written as
 * a varint, then the value: wire type 0 is a varint (int64, enum, bool), 2 is length-delimited
 * (a length varint, then that many bytes: strings, nested messages, packed repeated numbers),
 * 5 is 4 little-endian bytes (float). A varint stores 7 bits per byte, least significant first,
 * with the high bit set on every byte but the last; a negative int64 is its 64-bit two's
 * complement, hence 10 bytes.
 */

import { utf8Encode } from "../utf8.js";

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;
const TWO_TO_64 = 1n << 64n;

/** Builds one message. Nested messages are encoded first and written as bytes fields. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number | bigint): void {
    if (typeof value === "number" && !Number.isSafeInteger(value)) throw new RangeError(`protobuf: ${value} is not an integer that fits an int64 exactly`);
    // Two's complement by hand: QuickJS's BigInt.asUintN returns a negative value unchanged.
    let v = BigInt(value);
    if (v < 0n) v += TWO_TO_64;
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An int64, enum or bool field (wire type 0). */
  int(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** A float field (wire type 5). */
  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  /** A bytes field, or a nested message already encoded (wire type 2). */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_BYTES);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8Encode(value));
  }

  /** A packed repeated float field: one length-delimited run of little-endian float32s. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, b);
  }

  /** A packed repeated int64 field: one length-delimited run of varints. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** One decoded field: a varint as a bigint (int64 two's complement read back as signed), or raw bytes. */
export type ProtoValue = bigint | Uint8Array;

/** Reads varints and byte runs from the front of a buffer. */
class ProtoReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.bytes[this.at++];
      if (b === undefined) throw new RangeError("protobuf: truncated varint");
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        const low = result & (TWO_TO_64 - 1n); // the low 64 bits, read as a signed int64
        return low >= TWO_TO_64 / 2n ? low - TWO_TO_64 : low;
      }
    }
    throw new RangeError("protobuf: varint longer than 10 bytes");
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.bytes.length) throw new RangeError(`protobuf: field of ${n} bytes runs past the end of the message`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/**
 * Splits a message into its fields, by number, in order. Values stay raw: the caller knows the
 * schema (a bytes value may be a string, a nested message or a packed run). Fixed64 fields are
 * returned as their 8 bytes, fixed32 as their 4.
 */
export function readFields(bytes: Uint8Array): Map<number, ProtoValue[]> {
  const fields = new Map<number, ProtoValue[]>();
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const key = Number(r.varint());
    const field = Math.floor(key / 8), wire = key % 8;
    let value: ProtoValue;
    if (wire === WIRE_VARINT) value = r.varint();
    else if (wire === WIRE_BYTES) value = r.take(Number(r.varint()));
    else if (wire === WIRE_FIXED32) value = r.take(4);
    else if (wire === WIRE_FIXED64) value = r.take(8);
    else throw new RangeError(`protobuf: unsupported wire type ${wire} (field ${field})`);
    const list = fields.get(field);
    if (list) list.push(value);
    else fields.set(field, [value]);
  }
  return fields;
}

/** The varints of a packed repeated field. */
export function readPackedInts(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  const r = new ProtoReader(bytes);
  while (!r.done) out.push(r.varint());
  return out;
}

/** The float32s of a packed repeated field (or of raw little-endian data). */
export function readPackedFloats(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`protobuf: ${bytes.length} bytes is not a whole number of float32s`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
