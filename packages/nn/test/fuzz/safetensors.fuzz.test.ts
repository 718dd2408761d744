/**
 * Fuzzing the safetensors reader: files encoded from random tensors, then mutated (flipped
 * bits, truncation, spliced bytes, edited header fields), and random bytes. decodeSafetensors
 * returns or throws a SafetensorsError (or a contract error) naming itself; an unmutated file
 * round-trips; loadWeights either loads a file into a model or throws with the model unchanged.
 */
import * as N from "@zerograd/nn";
import fc from "fast-check";
import { expect, test } from "vitest";
import { SPECIAL_VALUES, Tally, junk, probe, runs, shapeArb, sizeOf } from "./harness.js";

const tally = new Tally("safetensors");
const allowed = { alsoAllowed: ["SafetensorsError"] };

const namedTensorArb = shapeArb({ maxRank: 3 }).chain((shape) => fc.record({
  shape: fc.constant(shape),
  data: fc.tuple(fc.array(fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constantFrom(...SPECIAL_VALUES)), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }), fc.boolean())
    .map(([values, f64]) => (f64 ? Float64Array.from(values) : Float32Array.from(values))),
}));
const fileArb = fc.tuple(
  fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("__proto__", "constructor", "toString", "__metadata__")), namedTensorArb, { maxKeys: 3 }),
  fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }), { nil: undefined }),
);

/** Text edits of the JSON header: the fields a broken writer (or an attacker) gets wrong. */
const HEADER_EDITS: readonly [RegExp, string][] = [
  [/"F32"/, '"F17"'], [/"F64"/, '"I64"'], [/"F32"/, '"BOOL"'], [/"F64"/, '"F16"'], [/\[(\d+),/, "[$1e9,"], [/\[(\d+),/, "[-4,"], [/,(\d+)\]/, ",99999]"],
  [/"shape":\[/, '"shape":[0,'], [/"shape":\[[^\]]*\]/, '"shape":[9007199254740993]'], [/"shape":\[/, '"shape":["a",'], [/\{/, "["], [/"data_offsets"/, '"data_offset"'], [/\}$/, ""],
  [/"dtype"/, '"__proto__":{"x":1},"dtype"'],
];

const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant("header" as const), edit: fc.nat({ max: HEADER_EDITS.length - 1 }) }),
  fc.record({ kind: fc.constant("length" as const), value: fc.constantFrom(0, 1, 7, 2 ** 31, 2 ** 53 + 1, 1e8) }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutate(file: Uint8Array, m: Mutation): Uint8Array {
  const out = file.slice();
  if (m.kind === "flip") out[m.at % out.length]! ^= 1 << m.bit;
  if (m.kind === "truncate") return out.slice(0, m.at % out.length);
  if (m.kind === "splice") return Uint8Array.from([...out.slice(0, m.at % out.length), ...m.bytes, ...out.slice(m.at % out.length)]);
  if (out.length < 8) return out; // no length prefix left to edit
  if (m.kind === "length") new DataView(out.buffer).setBigUint64(0, BigInt(m.value), true);
  if (m.kind === "header") {
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const [pattern, replacement] = HEADER_EDITS[m.edit]!;
    const header = new TextEncoder().encode(new TextDecoder().decode(out.slice(8, 8 + n)).replace(pattern, replacement));
    const rest = out.slice(8 + n);
    const result = new Uint8Array(8 + header.length + rest.length);
    new DataView(result.buffer).setBigUint64(0, BigInt(header.length), true);
    result.set(header, 8);
    result.set(rest, 8 + header.length);
    return result;
  }
  return out;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

test("fuzz: decodeSafetensors on encoded, mutated and random bytes", () => {
  fc.assert(fc.property(fileArb, fc.array(mutationArb, { maxLength: 2 }), ([tensors, metadata], mutations) => {
    const file = probe(tally, "encodeSafetensors", () => N.encodeSafetensors(tensors, metadata), allowed);
    if (file === undefined) return;
    const bytes = mutations.reduce(mutate, file);
    const decoded = probe(tally, "decodeSafetensors", () => N.decodeSafetensors(bytes), allowed);
    if (decoded === undefined || mutations.length > 0) return;
    // Unmutated: every tensor comes back bit for bit, and nothing else.
    expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      expect(Object.hasOwn(decoded.tensors, name) && same(decoded.tensors[name]!.data, t.data)).toBe(true);
    }
  }), runs(1000));
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), junk), (bytes) => {
    probe(tally, "decodeSafetensors", () => N.decodeSafetensors(bytes as Uint8Array), allowed);
  }), runs(200));
});

test("fuzz: loadWeights of mutated files loads or throws with the model unchanged", () => {
  const model = new N.Sequential([new N.Dense(3, 2, { seed: 1 }), new N.BatchNormalization(2), new N.Dense(2, 1, { seed: 2 })]);
  const file = N.encodeWeights(model);
  fc.assert(fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 2 }), fc.boolean(), (mutations, strict) => {
    const target = new N.Sequential([new N.Dense(3, 2, { seed: 3 }), new N.BatchNormalization(2), new N.Dense(2, 1, { seed: 4 })]);
    const bytes = mutations.reduce(mutate, file);
    probe(tally, ["loadWeights", "decodeSafetensors", "loadStateDict"], () => N.loadWeights(target, bytes, { strict }), {
      ...allowed,
      alsoAllowed: ["SafetensorsError", "StateDictError"],
      state: () => target.stateDict(),
    });
  }), runs(600));
});
