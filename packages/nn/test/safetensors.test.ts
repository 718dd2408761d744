import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { FileError, loadSafetensors, readFileBytes, saveSafetensors, writeFileAtomic } from "../src/node-io.js";
import {
  bfloat16ToNumber,
  decodeSafetensors,
  encodeSafetensors,
  float16ToNumber,
  MAX_HEADER_BYTES,
  SafetensorsError,
} from "../src/safetensors.js";

// ---------------------------------------------------------------------------------------------
// Helpers: build files by hand, byte by byte.
// ---------------------------------------------------------------------------------------------

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** The 8-byte little-endian length prefix of a header of `n` bytes (n < 2^32). */
function lengthPrefix(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, 0, 0, 0, 0];
}

/** A file from a header (an object, or raw JSON text) and raw buffer bytes. No padding. */
function makeFile(header: object | string, buffer: ArrayLike<number> = []): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  return Uint8Array.from([...lengthPrefix(json.length), ...json, ...Array.from(buffer)]);
}

/** Little-endian float32 bytes. */
function f32Bytes(...values: number[]): number[] {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return Array.from(new Uint8Array(view.buffer));
}

/** Little-endian uint16 bytes (for F16 and BF16 bit patterns). */
function u16Bytes(...values: number[]): number[] {
  return values.flatMap((v) => [v & 0xff, v >> 8]);
}

function decodeError(bytes: Uint8Array): string {
  try {
    decodeSafetensors(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError);
    return (error as Error).message;
  }
  throw new Error("expected decodeSafetensors to throw");
}

const info = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

// ---------------------------------------------------------------------------------------------
// Writing and round trips
// ---------------------------------------------------------------------------------------------

describe("encodeSafetensors", () => {
  test("a one-tensor file matches bytes worked out by hand", () => {
    const bytes = encodeSafetensors({ a: { shape: [2], data: Float32Array.of(1, -2) } });

    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expect(header.length).toBe(54); // 54 bytes, so 2 spaces pad it to 56, a multiple of 8
    const expected = [
      56, 0, 0, 0, 0, 0, 0, 0, // header length, u64 little-endian
      ...ascii(header),
      0x20, 0x20, // padding: the byte buffer starts at 8 + 56 = 64
      0x00, 0x00, 0x80, 0x3f, // 1.0f  = 0x3f800000, little-endian
      0x00, 0x00, 0x00, 0xc0, // -2.0f = 0xc0000000
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  test("matches the byte-exact examples published with the reference implementation", () => {
    // huggingface/safetensors tests: no tensors → "{}" padded to 8 bytes.
    expect(Array.from(encodeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    // Metadata only: 35 bytes of JSON padded to 40.
    expect(Array.from(encodeSafetensors({}, { framework: "pt" }))).toEqual([
      ...lengthPrefix(40), ...ascii('{"__metadata__":{"framework":"pt"}}'), 32, 32, 32, 32, 32,
    ]);
    // One F32 tensor [1,1,2,3] holding 0..5: 65 bytes of JSON padded with 7 spaces to 72.
    const bytes = encodeSafetensors({ attn0: { shape: [1, 1, 2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) } });
    expect(Array.from(bytes)).toEqual([
      ...lengthPrefix(72),
      ...ascii('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'),
      32, 32, 32, 32, 32, 32, 32,
      ...f32Bytes(0, 1, 2, 3, 4, 5),
    ]);
  });

  test("the byte buffer always starts at a multiple of 8", () => {
    for (let length = 1; length <= 9; length++) {
      const bytes = encodeSafetensors({ ["x".repeat(length)]: { shape: [1], data: Float32Array.of(1) } });
      const headerLength = new DataView(bytes.buffer).getUint32(0, true);
      expect((8 + headerLength) % 8).toBe(0);
      expect(bytes.length).toBe(8 + headerLength + 4);
    }
  });

  test("is deterministic: F64 before F32, then by name, whatever the insertion order", () => {
    const b = { shape: [1], data: Float32Array.of(2) };
    const a = { shape: [1], data: Float64Array.of(1) };
    const c = { shape: [3], data: Float32Array.of(3, 4, 5) };
    const first = encodeSafetensors({ b, a, c, "10": b, "2": b }, { z: "1", a: "2" });
    const second = encodeSafetensors({ c, "2": b, a, "10": b, b }, { a: "2", z: "1" });
    expect(second).toEqual(first);

    const headerLength = new DataView(first.buffer).getUint32(0, true);
    const header = new TextDecoder().decode(first.subarray(8, 8 + headerLength)).trimEnd();
    expect(header).toBe(
      '{"__metadata__":{"a":"2","z":"1"},' +
        '"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
        '"10":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
        '"2":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
        '"c":{"dtype":"F32","shape":[3],"data_offsets":[20,32]}}',
    );
  });

  test("round-trips several tensors, including a scalar, empty tensors, F64 and metadata", () => {
    const tensors = {
      "dense.weight": { shape: [2, 3], data: Float32Array.of(1.5, -2, 3.25, Math.fround(0.1), -0, 1e-30) },
      "dense.bias": { shape: [3], data: Float32Array.of(NaN, Infinity, -Infinity) },
      scalar: { shape: [], data: Float32Array.of(42) },
      empty: { shape: [0], data: new Float32Array(0) },
      "empty.2d": { shape: [3, 0], data: new Float32Array(0) },
      "gradcheck.f64": { shape: [2], data: Float64Array.of(0.1, -1e300) },
      "ünïcödé 名前": { shape: [1], data: Float32Array.of(7) },
    };
    const metadata = { format: "pt", note: "héllo \"quoted\"\n" };
    const { tensors: read, metadata: readMetadata } = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect(readMetadata).toEqual(metadata);
    expect(Object.keys(read).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(read[name]!.shape).toEqual(tensor.shape);
      expect(read[name]!.data).toBeInstanceOf(tensor.data.constructor);
      expect(Array.from(read[name]!.data)).toEqual(Array.from(tensor.data)); // Object.is: keeps -0 and NaN
    }
  });

  test("names are data: __proto__, constructor and toString are ordinary tensor and metadata names", () => {
    const tensors = JSON.parse('{"__proto__": 0}') as Record<string, unknown>;
    tensors["__proto__"] = { shape: [1], data: Float32Array.of(3) };
    tensors["constructor"] = { shape: [1], data: Float32Array.of(4) };
    const bytes = encodeSafetensors(tensors as never, JSON.parse('{"__proto__": "x", "toString": "y"}') as Record<string, string>);
    const { tensors: read, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(read)).toEqual(["__proto__", "constructor"]);
    expect(Object.getPrototypeOf(read)).toBeNull(); // nothing inherited: `read.toString` is no tensor
    expect(read["toString"]).toBeUndefined();
    expect(Array.from(read["__proto__"]!.data)).toEqual([3]);
    expect(Array.from(read["constructor"]!.data)).toEqual([4]);
    expect(Object.getPrototypeOf(metadata)).toBeNull();
    expect(Object.entries(metadata)).toEqual([["__proto__", "x"], ["toString", "y"]]);
  });

  test("rejects a shape that does not match the data length", () => {
    expect(() => encodeSafetensors({ w: { shape: [2, 3], data: new Float32Array(5) } })).toThrow(
      'encodeSafetensors: tensor "w": shape [2,3] holds 6 elements but data has 5',
    );
  });

  test("rejects bad shapes, bad data, a tensor named __metadata__ and non-string metadata", () => {
    expect(() => encodeSafetensors({ w: { shape: [-1], data: new Float32Array(0) } })).toThrow(
      'encodeSafetensors: tensor "w": shape must be an array of non-negative integers, got [-1]',
    );
    expect(() => encodeSafetensors({ w: { shape: [1.5], data: new Float32Array(0) } })).toThrow(/non-negative integers, got \[1.5\]/);
    expect(() => encodeSafetensors({ w: { shape: [2], data: Int32Array.of(1, 2) as never } })).toThrow(
      'encodeSafetensors: tensor "w": data must be a Float32Array or a Float64Array, got Int32Array',
    );
    expect(() => encodeSafetensors({ __metadata__: { shape: [], data: Float32Array.of(1) } })).toThrow(
      'a tensor may not be named "__metadata__"',
    );
    expect(() => encodeSafetensors({}, { epoch: 3 as never })).toThrow('encodeSafetensors: metadata "epoch" must be a string, got 3');
  });
});

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

describe("decodeSafetensors", () => {
  test("copies the data out: later changes to the input do not reach the tensors", () => {
    const bytes = encodeSafetensors({ w: { shape: [2], data: Float32Array.of(1, 2) } });
    const { tensors } = decodeSafetensors(bytes);
    bytes.fill(0);
    expect(Array.from(tensors["w"]!.data)).toEqual([1, 2]);
    expect(tensors["w"]!.data.buffer).not.toBe(bytes.buffer);
  });

  test("reads tensors at unaligned offsets, and files at odd offsets of their ArrayBuffer", () => {
    // makeFile does not pad, so this header leaves the byte buffer at an offset that is not a multiple of 4.
    const file = makeFile({ w: info("F32", [2], 0, 8) }, f32Bytes(0.5, -3));
    expect((8 + new DataView(file.buffer).getUint32(0, true)) % 4).not.toBe(0); // really unaligned
    expect(Array.from(decodeSafetensors(file).tensors["w"]!.data)).toEqual([0.5, -3]);

    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    const view = shifted.subarray(3);
    expect(Array.from(decodeSafetensors(view).tensors["w"]!.data)).toEqual([0.5, -3]);
  });

  test("accepts headers in any key order and padded with spaces", () => {
    const header = JSON.stringify({ b: info("F32", [1], 4, 8), a: info("F32", [1], 0, 4) }) + "    ";
    const { tensors } = decodeSafetensors(makeFile(header, f32Bytes(1, 2)));
    expect(Array.from(tensors["a"]!.data)).toEqual([1]);
    expect(Array.from(tensors["b"]!.data)).toEqual([2]);
  });

  test("zero-size tensors may sit anywhere between others, including at the end", () => {
    const header = {
      e1: info("F32", [0], 0, 0),
      a: info("F32", [1], 0, 4),
      e2: info("F32", [2, 0], 4, 4),
      b: info("F64", [], 4, 12),
      e3: info("F16", [0], 12, 12),
    };
    const buffer = [...f32Bytes(1), ...Array.from(new Uint8Array(Float64Array.of(2.5).buffer))];
    const { tensors } = decodeSafetensors(makeFile(header, buffer));
    expect(tensors["e2"]).toEqual({ shape: [2, 0], data: new Float32Array(0) });
    expect(tensors["b"]!.data).toEqual(Float64Array.of(2.5));
    expect(tensors["b"]!.shape).toEqual([]);
  });

  test("reads F16 and BF16 as Float32Array", () => {
    const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x3555];
    const bf16 = [0x3f80, 0x4049, 0xc2f7, 0x7f80];
    const header = { h: info("F16", [f16.length], 0, 16), b: info("BF16", [bf16.length], 16, 24) };
    const { tensors } = decodeSafetensors(makeFile(header, [...u16Bytes(...f16), ...u16Bytes(...bf16)]));
    expect(tensors["h"]!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(tensors["h"]!.data)).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity, -Infinity, Math.fround(0.333251953125)]);
    expect(Array.from(tensors["b"]!.data)).toEqual([1, 3.140625, -123.5, Infinity]);
    expect(float16ToNumber(0x7e00)).toBeNaN();
    expect(bfloat16ToNumber(0x7fc0)).toBeNaN();
  });

  test("reads integer and boolean dtypes as exact numbers (PyTorch's I64 counters included)", () => {
    const bytes = (n: number, write: (v: DataView) => void) => {
      const view = new DataView(new ArrayBuffer(n));
      write(view);
      return Array.from(new Uint8Array(view.buffer));
    };
    const i64 = bytes(24, (v) => {
      v.setBigInt64(0, 3n, true);
      v.setBigInt64(8, -2n, true);
      v.setBigInt64(16, 2n ** 53n, true);
    });
    const i32 = bytes(8, (v) => {
      v.setInt32(0, -7, true);
      v.setInt32(4, 2 ** 31 - 1, true);
    });
    const u32 = bytes(4, (v) => v.setUint32(0, 2 ** 32 - 1, true));
    const i16 = bytes(4, (v) => {
      v.setInt16(0, -300, true);
      v.setUint16(2, 65535, true);
    });
    const small = [0xff, 0xff, 1, 0]; // I8 −1, U8 255, BOOL true, false
    const header = {
      a: info("I64", [3], 0, 24),
      b: info("I32", [2], 24, 32),
      c: info("U32", [], 32, 36),
      d: info("I16", [1], 36, 38),
      e: info("U16", [1], 38, 40),
      f: info("I8", [1], 40, 41),
      g: info("U8", [1], 41, 42),
      h: info("BOOL", [2], 42, 44),
    };
    const { tensors } = decodeSafetensors(makeFile(header, [...i64, ...i32, ...u32, ...i16, ...small]));
    const values = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, [t.data.constructor.name, ...Array.from(t.data)]]));
    expect(values).toEqual({
      a: ["Float64Array", 3, -2, 2 ** 53],
      b: ["Float64Array", -7, 2 ** 31 - 1],
      c: ["Float64Array", 2 ** 32 - 1],
      d: ["Float32Array", -300],
      e: ["Float32Array", 65535],
      f: ["Float32Array", -1],
      g: ["Float32Array", 255],
      h: ["Float32Array", 1, 0],
    });
  });

  test("rejects 64-bit integers beyond ±2^53 and booleans other than 0 and 1", () => {
    const big = new DataView(new ArrayBuffer(16));
    big.setBigInt64(0, 1n, true);
    big.setBigInt64(8, -(2n ** 53n) - 1n, true);
    expect(decodeError(makeFile({ n: info("I64", [2], 0, 16) }, Array.from(new Uint8Array(big.buffer))))).toBe(
      'decodeSafetensors: tensor "n": I64 element 1 lies beyond ±2^53 and has no exact number',
    );
    const huge = new DataView(new ArrayBuffer(8));
    huge.setBigUint64(0, 2n ** 53n + 1n, true);
    expect(decodeError(makeFile({ u: info("U64", [1], 0, 8) }, Array.from(new Uint8Array(huge.buffer))))).toBe(
      'decodeSafetensors: tensor "u": U64 element 0 lies beyond ±2^53 and has no exact number',
    );
    expect(decodeError(makeFile({ b: info("BOOL", [2], 0, 2) }, [1, 2]))).toBe('decodeSafetensors: tensor "b": BOOL element 1 is the byte 2, not 0 or 1');
  });

  test("reads metadata, and treats a null __metadata__ as none, as the reference does", () => {
    expect(decodeSafetensors(makeFile({ __metadata__: { format: "pt" } })).metadata).toEqual({ format: "pt" });
    expect(decodeSafetensors(makeFile({ __metadata__: null })).metadata).toEqual({});
  });

  // One test per broken rule, each checking the message.

  test("rejects a file shorter than the 8-byte length prefix", () => {
    expect(decodeError(new Uint8Array(5))).toBe(
      "decodeSafetensors: file is 5 bytes long, shorter than the 8-byte header length that starts every file",
    );
  });

  test("rejects a header length above the 100 MB limit", () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setUint32(0, MAX_HEADER_BYTES + 1, true);
    expect(decodeError(bytes)).toBe("decodeSafetensors: header length 100000001 exceeds the limit of 100000000 bytes");
    bytes.set([0, 0, 0, 0, 1, 0, 0, 0]); // 2^32: the high word counts too
    expect(decodeError(bytes)).toMatch(/header length 4294967296 exceeds the limit/);
  });

  test("rejects a header length that runs past the end of the file", () => {
    const bytes = Uint8Array.from([...lengthPrefix(10), ...ascii("{}")]);
    expect(decodeError(bytes)).toBe(
      "decodeSafetensors: header length 10 runs past the end of the file (10 bytes, so at most 2)",
    );
  });

  test("rejects a header that is not valid UTF-8", () => {
    const bytes = Uint8Array.from([...lengthPrefix(6), ...ascii('{"a'), 0xc3, 0x28, ...ascii("}")]);
    expect(decodeError(bytes)).toBe("decodeSafetensors: header is not valid UTF-8: bad byte 0x28 at file offset 12");
    const overlong = Uint8Array.from([...lengthPrefix(4), ...ascii("{"), 0xc0, 0xaf, ...ascii("}")]);
    expect(decodeError(overlong)).toMatch(/not valid UTF-8: bad byte 0xc0 at file offset 9/);
  });

  test("rejects a header that does not start with '{'", () => {
    expect(decodeError(makeFile(" {}"))).toBe(
      "decodeSafetensors: header must be a JSON object starting with '{', but it starts with \" {}\"",
    );
    expect(decodeError(makeFile("[1, 2]"))).toMatch(/header must be a JSON object starting with '\{'/);
  });

  test("rejects a header that is not valid JSON", () => {
    expect(decodeError(makeFile('{"a": '))).toMatch(/^decodeSafetensors: header is not valid JSON \(.+\)$/);
  });

  test("rejects a repeated key, which JSON.parse alone would silently drop", () => {
    const header = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(decodeError(makeFile(header, f32Bytes(1)))).toBe('decodeSafetensors: header repeats the key "w"; keys must be unique');
    const nested = '{"w":{"dtype":"F32","shape":[1],"dtype":"F64","data_offsets":[0,4]}}';
    expect(decodeError(makeFile(nested, f32Bytes(1)))).toMatch(/repeats the key "dtype"/);
    // The same key in different objects, and key-like strings inside values, are fine.
    const fine = '{"__metadata__":{"w":"{\\"w\\":1}"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(decodeSafetensors(makeFile(fine, f32Bytes(1))).metadata).toEqual({ w: '{"w":1}' });
  });

  test("rejects metadata values that are not strings", () => {
    expect(decodeError(makeFile({ __metadata__: { epoch: 3 } }))).toBe(
      'decodeSafetensors: "__metadata__" value for "epoch" must be a string, got 3',
    );
    expect(decodeError(makeFile({ __metadata__: ["pt"] }))).toBe(
      'decodeSafetensors: "__metadata__" must be an object of strings, got ["pt"]',
    );
  });

  test("rejects a tensor entry that is not an object", () => {
    expect(decodeError(makeFile({ w: [0, 4] }))).toBe(
      'decodeSafetensors: tensor "w": expected { "dtype", "shape", "data_offsets" }, got [0,4]',
    );
  });

  test("rejects an unknown dtype", () => {
    expect(decodeError(makeFile({ w: info("F17", [1], 0, 4) }, f32Bytes(1)))).toBe(
      'decodeSafetensors: tensor "w": unknown dtype "F17"',
    );
    expect(decodeError(makeFile({ w: { shape: [1], data_offsets: [0, 4] } }, f32Bytes(1)))).toBe(
      'decodeSafetensors: tensor "w": "dtype" must be a string, got nothing',
    );
  });

  test("rejects complex and 8-bit float dtypes, naming the dtype", () => {
    const readable = "F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL";
    expect(decodeError(makeFile({ z: info("C64", [1], 0, 8) }, new Array(8).fill(0)))).toBe(
      `decodeSafetensors: tensor "z": dtype C64 is not supported; only ${readable} can be read`,
    );
    expect(decodeError(makeFile({ q: info("F8_E4M3", [1], 0, 1) }, [0]))).toBe(
      `decodeSafetensors: tensor "q": dtype F8_E4M3 is not supported; only ${readable} can be read`,
    );
  });

  test("rejects a shape that is not an array of non-negative integers", () => {
    const bad = (shape: unknown) => decodeError(makeFile({ w: { dtype: "F32", shape, data_offsets: [0, 4] } }, f32Bytes(1)));
    expect(bad([-1])).toBe('decodeSafetensors: tensor "w": "shape" must be an array of non-negative integers, got [-1]');
    expect(bad([1.5])).toMatch(/got \[1.5\]/);
    expect(bad("1")).toMatch(/got "1"/);
    expect(bad(["1"])).toMatch(/got \["1"\]/);
    expect(bad([2 ** 53])).toMatch(/got \[9007199254740992\]/);
  });

  test("rejects data_offsets that are not two non-negative integers", () => {
    const bad = (offsets: unknown) => decodeError(makeFile({ w: { dtype: "F32", shape: [1], data_offsets: offsets } }, f32Bytes(1)));
    expect(bad([0])).toBe(
      'decodeSafetensors: tensor "w": "data_offsets" must be [begin, end] with non-negative integers, got [0]',
    );
    expect(bad([0, 4, 8])).toMatch(/got \[0,4,8\]/);
    expect(bad([-4, 0])).toMatch(/got \[-4,0\]/);
    expect(bad(undefined)).toMatch(/got nothing/);
  });

  test("rejects data_offsets that end before they begin", () => {
    expect(decodeError(makeFile({ w: info("F32", [1], 4, 0) }, f32Bytes(1)))).toBe(
      'decodeSafetensors: tensor "w": data_offsets [4,0] end before they begin',
    );
  });

  test("rejects data_offsets past the end of the byte buffer", () => {
    expect(decodeError(makeFile({ w: info("F32", [2], 0, 8) }, f32Bytes(1)))).toBe(
      'decodeSafetensors: tensor "w": data_offsets [0,8] run past the end of the byte buffer (4 bytes)',
    );
  });

  test("rejects data_offsets that do not match shape × dtype size", () => {
    expect(decodeError(makeFile({ w: info("F32", [2, 2], 0, 12) }, f32Bytes(1, 2, 3)))).toBe(
      'decodeSafetensors: tensor "w": data_offsets [0,12] hold 12 bytes, but shape [2,2] of F32 needs 4 × 4 = 16 bytes',
    );
  });

  test("rejects overlapping tensors", () => {
    const header = { a: info("F32", [2], 0, 8), b: info("F32", [2], 4, 12) };
    expect(decodeError(makeFile(header, f32Bytes(1, 2, 3)))).toBe(
      'decodeSafetensors: tensor "b" data_offsets [4,12] overlap tensor "a" data_offsets [0,8]',
    );
    // Two names for the same bytes are an overlap too.
    const aliased = { a: info("F32", [1], 0, 4), b: info("F32", [1], 0, 4) };
    expect(decodeError(makeFile(aliased, f32Bytes(1)))).toMatch(/tensor "b" data_offsets \[0,4\] overlap tensor "a"/);
  });

  test("rejects a hole at the start or between tensors", () => {
    expect(decodeError(makeFile({ w: info("F32", [1], 4, 8) }, f32Bytes(0, 1)))).toBe(
      'decodeSafetensors: tensor "w" data_offsets [4,8] leave a hole: bytes [0,4) of the byte buffer belong to no tensor',
    );
    const header = { a: info("F32", [1], 0, 4), b: info("F32", [1], 8, 12) };
    expect(decodeError(makeFile(header, f32Bytes(1, 2, 3)))).toMatch(/tensor "b" data_offsets \[8,12\] leave a hole: bytes \[4,8\)/);
  });

  test("rejects bytes after the last tensor", () => {
    expect(decodeError(makeFile({ w: info("F32", [1], 0, 4) }, f32Bytes(1, 2)))).toBe(
      "decodeSafetensors: the tensors cover 4 bytes but the byte buffer holds 8: bytes [4,8) belong to no tensor",
    );
    expect(decodeError(makeFile({}, [0]))).toMatch(/cover 0 bytes but the byte buffer holds 1/);
  });

  test("rejects input that is not a Uint8Array", () => {
    expect(() => decodeSafetensors(new ArrayBuffer(8) as never)).toThrow(
      "decodeSafetensors: expected the file as a Uint8Array, got ArrayBuffer",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Files on disk
// ---------------------------------------------------------------------------------------------

describe("node-io", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "zerograd-safetensors-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("saveSafetensors then loadSafetensors round-trips and leaves no temporary file", async () => {
    const path = join(dir, "model.safetensors");
    const tensors = { w: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) } };
    await saveSafetensors(path, tensors, { format: "pt" });
    const loaded = await loadSafetensors(path);
    expect(loaded.metadata).toEqual({ format: "pt" });
    expect(loaded.tensors["w"]).toEqual(tensors.w);
    expect(await readdir(dir)).toEqual(["model.safetensors"]);

    await saveSafetensors(path, { w: { shape: [1], data: Float32Array.of(9) } }); // replace
    expect(Array.from((await loadSafetensors(path)).tensors["w"]!.data)).toEqual([9]);
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
  });

  test("readFileBytes returns a plain Uint8Array, not a Buffer", async () => {
    const path = join(dir, "bytes.bin");
    await writeFile(path, Uint8Array.of(1, 2, 3));
    const bytes = await readFileBytes(path);
    expect(bytes.constructor).toBe(Uint8Array);
    expect(Array.from(bytes)).toEqual([1, 2, 3]);
  });

  test("a failure just before the rename leaves the old target untouched and no temporary file", async () => {
    const path = join(dir, "model.safetensors");
    await writeFile(path, "old contents");
    let seenTemp = "";
    const failing = writeFileAtomic(path, Uint8Array.of(1, 2, 3), {
      beforeRename: async (tempPath) => {
        seenTemp = tempPath;
        expect(Array.from(await readFile(tempPath))).toEqual([1, 2, 3]); // fully written by now
        throw new Error("simulated crash");
      },
    });
    await expect(failing).rejects.toThrow("simulated crash");
    expect(seenTemp).toMatch(new RegExp(`^${dir}/\\.model\\.safetensors\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`));
    expect(await readFile(path, "utf8")).toBe("old contents");
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
  });

  test("a failing rename (the target is a directory) cleans up and rethrows the real error", async () => {
    const path = join(dir, "taken");
    await mkdir(path);
    await writeFile(join(path, "inside"), "keep");
    await expect(writeFileAtomic(path, Uint8Array.of(1))).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST|EPERM/) });
    expect(await readdir(dir)).toEqual(["taken"]);
    expect(await readFile(join(path, "inside"), "utf8")).toBe("keep");
  });

  test("missing parent directories are created", async () => {
    const path = join(dir, "runs", "a", "model.safetensors");
    await saveSafetensors(path, { w: { shape: [1], data: Float32Array.of(5) } });
    expect(Array.from((await loadSafetensors(path)).tensors["w"]!.data)).toEqual([5]);
    expect(await readdir(join(dir, "runs", "a"))).toEqual(["model.safetensors"]);
    await writeFileAtomic(join(dir, "runs", "b", "c", "raw.bin"), Uint8Array.of(1, 2));
    expect(Array.from(await readFileBytes(join(dir, "runs", "b", "c", "raw.bin")))).toEqual([1, 2]);
  });

  test("file errors are FileErrors naming the operation and the path, with the system's code", async () => {
    const missing = join(dir, "missing.safetensors");
    const read = await loadSafetensors(missing).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(FileError);
    expect(read).toMatchObject({ op: "loadSafetensors", path: missing, code: "ENOENT", action: "read" });
    expect((read as Error).message).toBe(`loadSafetensors: cannot read ${JSON.stringify(missing)}: ${((read as Error).cause as Error).message}`);
    await expect(readFileBytes(missing)).rejects.toThrow(`readFileBytes: cannot read ${JSON.stringify(missing)}: ENOENT`);
    // A parent that is a file: the directory cannot be created.
    await writeFile(join(dir, "plain"), "x");
    const under = join(dir, "plain", "sub", "model.safetensors");
    const write = await saveSafetensors(under, {}).catch((e: unknown) => e);
    expect(write).toMatchObject({ name: "FileError", op: "saveSafetensors", path: under, action: "write", code: expect.stringMatching(/ENOTDIR|EEXIST/) });
    expect((write as Error).message.startsWith(`saveSafetensors: cannot write ${JSON.stringify(under)}: E`)).toBe(true);
    expect(await readdir(dir)).toEqual(["plain"]);
  });

  test("a malformed file's error names the operation and the path", async () => {
    const path = join(dir, "bad.safetensors");
    await writeFile(path, Uint8Array.of(1, 2, 3));
    await expect(loadSafetensors(path)).rejects.toThrow(
      `loadSafetensors: ${JSON.stringify(path)}: decodeSafetensors: file is 3 bytes long, shorter than the 8-byte header length that starts every file`,
    );
    await expect(loadSafetensors(path)).rejects.toThrow(SafetensorsError);
  });

  test("an encoding error in saveSafetensors leaves the old file untouched", async () => {
    const path = join(dir, "model.safetensors");
    await writeFile(path, "old contents");
    await expect(saveSafetensors(path, { w: { shape: [3], data: new Float32Array(2) } })).rejects.toThrow(SafetensorsError);
    await expect(writeFileAtomic(path, "not bytes" as never)).rejects.toThrow("writeFileAtomic: bytes must be a Uint8Array");
    expect(await readFile(path, "utf8")).toBe("old contents");
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
  });
});
