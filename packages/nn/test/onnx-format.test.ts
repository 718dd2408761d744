/** The protobuf encoder and decoder, the ModelProto exportOnnx writes, and its errors. */
import { readFileSync } from "node:fs";
import { Tensor, mul } from "@zerograd/autograd";
import { Conv2D, Dense, Dropout, Flatten, Functional, MaxPool2D, Module, MultiHead, ReLU, Sequential } from "@zerograd/nn";
import { ZEROGRAD_VERSION, exportOnnx } from "@zerograd/nn/onnx";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type OnnxModel, decodeModel, encodeModel } from "../src/onnx/proto.js";
import { ProtoWriter, readFields, readPackedFloats, readPackedInts } from "../src/onnx/protobuf.js";

describe("protobuf wire format", () => {
  test("varints: known encodings, including a negative int64 as ten bytes", () => {
    expect([...new ProtoWriter().int(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]); // the protobuf documentation's example
    const negative = new ProtoWriter().int(3, -1).finish();
    expect(negative.length).toBe(11);
    expect(readFields(negative).get(3)).toEqual([-1n]);
  });

  test("round trip: ints, floats, strings, bytes and packed runs come back as written", () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeInteger(), { maxLength: 20 }), fc.array(fc.float({ noNaN: true }), { maxLength: 20 }), fc.string(), fc.integer({ min: 5, max: 536870911 }), (ints, floats, text, field) => {
        const w = new ProtoWriter().packedInts(1, ints).packedFloats(2, floats).string(field, text);
        for (const i of ints) w.int(4, i);
        const f = readFields(w.finish());
        expect(readPackedInts(f.get(1)![0] as Uint8Array).map(Number)).toEqual(ints);
        expect([...readPackedFloats(f.get(2)![0] as Uint8Array)]).toEqual(floats.map(Math.fround));
        expect(new TextDecoder().decode(f.get(field)!.at(-1) as Uint8Array)).toBe(text);
        expect((f.get(4) ?? []).map(Number)).toEqual(ints);
      }),
      { seed: 13, numRuns: 200 },
    );
  });

  test("a truncated message is an error, not garbage", () => {
    const bytes = new ProtoWriter().string(1, "hello").finish();
    expect(() => readFields(bytes.subarray(0, 4))).toThrow(/runs past the end/);
    expect(() => readFields(Uint8Array.of(0x08, 0x80))).toThrow(/truncated varint/);
    expect(() => new ProtoWriter().int(1, 2 ** 60)).toThrow(RangeError);
  });

  test("an ONNX model object survives encode → decode", () => {
    const model: OnnxModel = {
      irVersion: 8,
      opsetVersion: 17,
      producerName: "p",
      producerVersion: "1",
      docString: "doc",
      metadata: { a: "1", vocabulary: '["x","y"]' },
      graph: {
        name: "g",
        nodes: [{ opType: "Gemm", inputs: ["x", "w"], outputs: ["y"], name: "n", attributes: { transB: { i: 1 }, alpha: { f: 0.5 }, perm: { ints: [0, -1] }, scales: { floats: [0.25] }, mode: { s: "x" } } }],
        initializers: [
          { name: "w", dims: [2, 3], type: "float", data: Float32Array.of(1, -2, 3.5, 0, 1e-8, -0) },
          { name: "shape", dims: [2], type: "int64", data: [0, -1] },
        ],
        inputs: [{ name: "x", type: "float", shape: ["batch", 3] }],
        outputs: [{ name: "y", type: "float", shape: ["batch", 2] }],
      },
    };
    const back = decodeModel(encodeModel(model));
    expect(back).toEqual(model);
  });
});

describe("the exported ModelProto", () => {
  const model = () => new MultiHead(new Sequential([new Dense(4, 6, { activation: "relu", seed: 1 }), new Dropout(0.3)]), { digit: new Dense(6, 3, { seed: 2 }), ink: new Dense(6, 2, { seed: 3 }) });

  test("inputs and outputs named as the model's, a dynamic batch, producer, opset and metadata", () => {
    const m = decodeModel(exportOnnx(model(), { inputs: { pixels: [null, 4] }, metadata: { classes: "0,1,2" }, docString: "digits" }));
    expect(m.producerName).toBe("zerograd");
    expect(m.producerVersion).toBe(ZEROGRAD_VERSION);
    expect(ZEROGRAD_VERSION).toBe(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version);
    expect([m.opsetVersion, m.irVersion]).toEqual([17, 8]);
    expect(m.metadata).toEqual({ classes: "0,1,2" });
    expect(m.docString).toBe("digits");
    expect(m.graph.inputs).toEqual([{ name: "pixels", type: "float", shape: ["batch", 4] }]);
    expect(m.graph.outputs).toEqual([
      { name: "digit", type: "float", shape: ["batch", 3] },
      { name: "ink", type: "float", shape: ["batch", 2] },
    ]);
    // The trunk is emitted once and feeds both heads; Dropout adds no node.
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(["Gemm", "Relu", "Gemm", "Gemm", "Identity", "Identity"]);
  });

  test("the weights are the initializers, in the layout ONNX reads (Gemm with transB keeps [out, in])", () => {
    const net = new Sequential([new Dense(3, 2, { seed: 4 })]);
    const m = decodeModel(exportOnnx(net, { inputs: { x: [null, 3] }, output: "logits" }));
    const weight = m.graph.initializers.find((t) => t.name === "0.weight")!;
    expect(weight.dims).toEqual([2, 3]);
    expect([...weight.data]).toEqual([...(net.at(0) as Dense).weight.value.flat()]);
    expect(m.graph.outputs[0]!.name).toBe("logits");
  });

  test("Conv2D → MaxPool2D → Conv2D stays channels-first: one Transpose in, one out", () => {
    const net = new Sequential([new Conv2D(1, 2, 3, { seed: 5 }), new ReLU(), new MaxPool2D(2), new Conv2D(2, 2, 1, { seed: 6 }), new Flatten()]);
    const ops = decodeModel(exportOnnx(net, { inputs: { image: [null, 8, 8, 1] } })).graph.nodes.map((n) => n.opType);
    expect(ops).toEqual(["Transpose", "Conv", "Relu", "MaxPool", "Conv", "Transpose", "Reshape", "Identity"]);
  });

  test("Conv2D → Flatten → Dense needs no Transpose back: the Dense weight columns are reordered instead", () => {
    const net = new Sequential([new Conv2D(2, 3, 3, { seed: 5 }), new Flatten(), new Dropout(0.5), new Dense(3 * 3 * 3, 2, { seed: 6 })]);
    const m = decodeModel(exportOnnx(net, { inputs: { image: [null, 5, 5, 2] } }));
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(["Transpose", "Conv", "Reshape", "Gemm", "Identity"]);
    const w = (net.at(3) as Dense).weight.value.flat(), exported = m.graph.initializers.find((t) => t.name === "3.weight")!.data;
    // Row 1, channel 2 at spatial position 4 (of 9): zerograd column 4·3 + 2, channels-first column 2·9 + 4.
    expect(exported[27 + 2 * 9 + 4]).toBe(w[27 + 4 * 3 + 2]);
  });

  test("named non-batch dimensions stay dynamic in the outputs", () => {
    const m = decodeModel(exportOnnx(new Sequential([new Dense(4, 2, { seed: 7 })]), { inputs: { x: [null, "time", 4] } }));
    expect(m.graph.inputs[0]!.shape).toEqual(["batch", "time", 4]);
    expect(m.graph.outputs[0]!.shape).toEqual(["batch", "output_1", "output_2"]);
  });

  test("export leaves the model as it was: training flags and the layers' call", () => {
    const net = model();
    net.train();
    (net.heads.ink as Module).eval();
    exportOnnx(net, { inputs: { x: [null, 4] } });
    expect(net.modules().map((m) => m.training)).toEqual([true, true, true, true, true, false]);
    expect(net.modules().some((m) => Object.hasOwn(m, "call"))).toBe(false);
  });
});

describe("what cannot be exported is a clear error", () => {
  class Scale extends Module {
    forward(x: Tensor): Tensor {
      return mul(x, 2);
    }
  }

  test("a layer with no export rule is named, with its path", () => {
    const net = new Sequential([new Dense(2, 2, { seed: 1 }), new Scale()]);
    expect(() => exportOnnx(net, { inputs: { x: [null, 2] } })).toThrow(/Scale at "1" has no ONNX export rule; layers that export: Dense/);
  });

  test("a tensor computed outside layers is refused where it is used", () => {
    const f = new Functional({ a: new Dense(2, 2, { seed: 1 }), b: new Dense(2, 2, { seed: 2 }) }, (m, x: Tensor) => m.b.call(mul(m.a.call(x), 2)));
    expect(() => exportOnnx(f, { inputs: { x: [null, 2] } })).toThrow(/argument 0 of Dense at "b" was not made by a layer/);
    const g = new Functional({ a: new Dense(2, 2, { seed: 1 }) }, (m, x: Tensor) => mul(m.a.call(x), 2));
    expect(() => exportOnnx(g, { inputs: { x: [null, 2] } })).toThrow(/output "output" was computed by operations outside layers/);
  });

  test("an activation function that is no known activation is refused", () => {
    const net = new Sequential([new Dense(2, 2, { seed: 1, activation: (x) => mul(x, 3) })]);
    expect(() => exportOnnx(net, { inputs: { x: [null, 2] } })).toThrow(/the activation of Dense at "0" is a function that is none of/);
  });

  test("bad options", () => {
    const net = new Sequential([new Dense(2, 2, { seed: 1 })]);
    expect(() => exportOnnx(net, { inputs: {} })).toThrow(/at least one input/);
    expect(() => exportOnnx(net, { inputs: { x: [null, 2] }, opset: 11 })).toThrow(/opset must be an integer from 13 to 21, got 11/);
    expect(() => exportOnnx(net, { inputs: { x: [null, -2] } })).toThrow(/dimension 1 is -2/);
    expect(() => exportOnnx(net, { inputs: { x: [null, 2] }, metadata: { n: 3 as never } })).toThrow(/metadata "n" must be a string/);
    expect(() => exportOnnx(net, { inputs: { x: [null, 2] }, output: "x" })).toThrow(/output name "x" is used twice/);
  });
});
