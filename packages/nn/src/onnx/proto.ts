/**
 * The ONNX messages an exported model uses, as plain objects, with their encoding (field
 * numbers from onnx.proto) and a decoder (for tests and inspection). Only the fields zerograd
 * writes are read back; others are skipped.
 */
import { utf8Decode } from "../utf8.js";
import { type ProtoValue, ProtoWriter, readFields, readPackedFloats, readPackedInts } from "./protobuf.js";

/** TensorProto.DataType values used here. */
export const DataType = { float: 1, int64: 7, bool: 9 } as const;
export type ElemType = keyof typeof DataType;

/** A constant tensor: float32 data, or int64 data given as numbers. */
export type OnnxTensor = { name: string; dims: number[] } & ({ type: "float"; data: Float32Array } | { type: "int64"; data: number[] });

/** An attribute value, tagged with its ONNX type. */
export type Attribute = { f: number } | { i: number } | { s: string } | { t: OnnxTensor } | { floats: number[] } | { ints: number[] };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, Attribute>;
}

/** A graph input or output: element type and shape, where a string is a named (dynamic) dimension. */
export interface ValueInfo {
  name: string;
  type: ElemType;
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: OnnxGraph;
  metadata: Record<string, string>;
}

// AttributeProto.AttributeType values, by the field that holds the value.
const attributeTypes = { f: [1, 2], i: [2, 3], s: [3, 4], t: [4, 5], floats: [6, 7], ints: [7, 8] } as const;

function encodeTensor(t: OnnxTensor): Uint8Array {
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, DataType[t.type]).string(8, t.name);
  return (t.type === "float" ? w.packedFloats(4, t.data) : w.packedInts(7, t.data)).finish();
}

function encodeAttribute(name: string, a: Attribute): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  const [kind, [type, field]] = Object.entries(attributeTypes).find(([k]) => k in a)!;
  w.int(20, type);
  const value = (a as Record<string, unknown>)[kind];
  if (kind === "f") w.float(field, value as number);
  else if (kind === "i") w.int(field, value as number);
  else if (kind === "s") w.string(field, value as string);
  else if (kind === "t") w.bytes(field, encodeTensor(value as OnnxTensor));
  else if (kind === "floats") w.packedFloats(field, value as number[]);
  else w.packedInts(field, value as number[]);
  return w.finish();
}

function encodeNode(n: OnnxNode): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes)) w.bytes(5, encodeAttribute(name, a));
  return w.finish();
}

function encodeValueInfo(v: ValueInfo): Uint8Array {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.bytes(1, typeof d === "string" ? new ProtoWriter().string(2, d).finish() : new ProtoWriter().int(1, d).finish());
  const tensorType = new ProtoWriter().int(1, DataType[v.type]).bytes(2, shape.finish()).finish();
  const type = new ProtoWriter().bytes(1, tensorType).finish();
  return new ProtoWriter().string(1, v.name).bytes(2, type).finish();
}

function encodeGraph(g: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.bytes(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.bytes(5, encodeTensor(t));
  for (const v of g.inputs) w.bytes(11, encodeValueInfo(v));
  for (const v of g.outputs) w.bytes(12, encodeValueInfo(v));
  return w.finish();
}

/** Encodes a ModelProto (default ONNX domain only). */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.bytes(7, encodeGraph(m.graph));
  w.bytes(8, new ProtoWriter().string(1, "").int(2, m.opsetVersion).finish());
  for (const [key, value] of Object.entries(m.metadata)) w.bytes(14, new ProtoWriter().string(1, key).string(2, value).finish());
  return w.finish();
}

// ---- decoding ----


/** The fields of one message, with typed getters that say which field was missing or malformed. */
class Fields {
  private readonly map: Map<number, ProtoValue[]>;
  constructor(
    bytes: Uint8Array,
    private readonly message: string,
  ) {
    this.map = readFields(bytes);
  }
  all(field: number): ProtoValue[] {
    return this.map.get(field) ?? [];
  }
  bytesList(field: number): Uint8Array[] {
    return this.all(field).map((v) => {
      if (typeof v === "bigint") throw new TypeError(`onnx: ${this.message} field ${field} should be length-delimited`);
      return v;
    });
  }
  bytes(field: number): Uint8Array | undefined {
    return this.bytesList(field).at(-1);
  }
  string(field: number): string {
    const b = this.bytes(field);
    return b ? this.text(field, b) : "";
  }
  strings(field: number): string[] {
    return this.bytesList(field).map((b) => this.text(field, b));
  }
  private text(field: number, bytes: Uint8Array): string {
    const text = utf8Decode(bytes, 0, bytes.length);
    if (typeof text === "number") throw new TypeError(`onnx: ${this.message} field ${field} is not UTF-8 (byte ${text})`);
    return text;
  }
  int(field: number): number {
    const v = this.all(field).at(-1);
    if (v === undefined) return 0;
    if (typeof v !== "bigint") throw new TypeError(`onnx: ${this.message} field ${field} should be a varint`);
    return Number(v);
  }
  /** A repeated int64 field, packed or not. */
  ints(field: number): number[] {
    return this.all(field).flatMap((v) => (typeof v === "bigint" ? [Number(v)] : readPackedInts(v).map(Number)));
  }
  /** A repeated float field, packed or not. */
  floats(field: number): number[] {
    return this.bytesList(field).flatMap((b) => [...readPackedFloats(b)]);
  }
}

function decodeTensor(bytes: Uint8Array): OnnxTensor {
  const f = new Fields(bytes, "TensorProto");
  const type = f.int(2), name = f.string(8), dims = f.ints(1);
  const raw = f.bytes(9);
  if (type === DataType.float) return { name, dims, type: "float", data: raw ? readPackedFloats(raw) : Float32Array.from(f.floats(4)) };
  if (type === DataType.int64 && !raw) return { name, dims, type: "int64", data: f.ints(7) };
  throw new TypeError(`onnx: tensor ${JSON.stringify(name)} has data type ${type}${raw ? " in raw_data" : ""}, which this decoder does not read`);
}

function decodeAttribute(bytes: Uint8Array): [string, Attribute] {
  const f = new Fields(bytes, "AttributeProto");
  const name = f.string(1), type = f.int(20);
  const entry = Object.entries(attributeTypes).find(([, [t]]) => t === type);
  if (!entry) throw new TypeError(`onnx: attribute ${JSON.stringify(name)} has type ${type}, which this decoder does not read`);
  const [kind, [, field]] = entry;
  const float = () => new DataView(f.bytes(field)!.buffer, f.bytes(field)!.byteOffset).getFloat32(0, true);
  const value = { f: float, i: () => f.int(field), s: () => f.string(field), t: () => decodeTensor(f.bytes(field)!), floats: () => f.floats(field), ints: () => f.ints(field) }[kind as keyof typeof attributeTypes]();
  return [name, { [kind]: value } as Attribute];
}

function decodeNode(bytes: Uint8Array): OnnxNode {
  const f = new Fields(bytes, "NodeProto");
  return { opType: f.string(4), inputs: f.strings(1), outputs: f.strings(2), name: f.string(3), attributes: Object.fromEntries(f.bytesList(5).map(decodeAttribute)) };
}

function decodeValueInfo(bytes: Uint8Array): ValueInfo {
  const f = new Fields(bytes, "ValueInfoProto");
  const tensorType = new Fields(new Fields(f.bytes(2) ?? new Uint8Array(), "TypeProto").bytes(1) ?? new Uint8Array(), "TypeProto.Tensor");
  const elem = tensorType.int(1);
  const type = (Object.keys(DataType) as ElemType[]).find((k) => DataType[k] === elem);
  if (!type) throw new TypeError(`onnx: value ${JSON.stringify(f.string(1))} has element type ${elem}, which this decoder does not read`);
  const dims = new Fields(tensorType.bytes(2) ?? new Uint8Array(), "TensorShapeProto").bytesList(1).map((b) => new Fields(b, "Dimension"));
  return { name: f.string(1), type, shape: dims.map((d) => (d.all(2).length > 0 ? d.string(2) : d.int(1))) };
}

function decodeGraph(bytes: Uint8Array): OnnxGraph {
  const f = new Fields(bytes, "GraphProto");
  return {
    name: f.string(2),
    nodes: f.bytesList(1).map(decodeNode),
    initializers: f.bytesList(5).map(decodeTensor),
    inputs: f.bytesList(11).map(decodeValueInfo),
    outputs: f.bytesList(12).map(decodeValueInfo),
  };
}

/** Decodes a ModelProto written by exportOnnx (or any model using only the fields above). */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const f = new Fields(bytes, "ModelProto");
  const graph = f.bytes(7);
  if (!graph) throw new TypeError("onnx: the model has no graph");
  const opsets = f.bytesList(8).map((b) => new Fields(b, "OperatorSetIdProto")).filter((o) => o.string(1) === "" || o.string(1) === "ai.onnx");
  if (opsets.length !== 1) throw new TypeError(`onnx: expected one import of the default operator set, found ${opsets.length}`);
  const metadata: Record<string, string> = {};
  for (const b of f.bytesList(14)) {
    const e = new Fields(b, "StringStringEntryProto");
    metadata[e.string(1)] = e.string(2);
  }
  return { irVersion: f.int(1), opsetVersion: opsets[0]!.int(2), producerName: f.string(2), producerVersion: f.string(3), docString: f.string(6), graph: decodeGraph(graph), metadata };
}
