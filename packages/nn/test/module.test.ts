import { Tensor, sum, tensor } from "@zerograd/autograd";
import { NDArray, ShapeError } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import {
  BatchNormalization,
  Dense,
  Dropout,
  Functional,
  Module,
  MultiHead,
  Parameter,
  ReLU,
  Sequential,
  StateBuffer,
  StateDictError,
  functionalCall,
} from "../src/index.js";

class Block extends Module {
  lin = new Dense(3, 4, { seed: 1 });
  norm = new BatchNormalization(4);
  forward(x: Tensor): Tensor {
    return this.norm.call(this.lin.call(x));
  }
}

class Net extends Module<[Tensor], Record<string, Tensor>> {
  scale = new Parameter(new NDArray(new Float32Array([2]), [1]));
  blocks = [new Block(), new Block()];
  heads = { a: new Dense(4, 1, { seed: 2 }), b: new Dense(4, 2, { seed: 3 }) };
  note = "not a module";
  plain = tensor([1, 2, 3]); // a plain tensor is not state
  forward(x: Tensor): Record<string, Tensor> {
    let h = x.mul(this.scale);
    for (const b of this.blocks) h = b.call(h);
    return { a: this.heads.a.call(h), b: this.heads.b.call(h) };
  }
}

const values = (m: Module<any, any>) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.flat())]));

describe("Module: discovery and names", () => {
  test("parameters are named by their path, in declaration order, parents before children", () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      "scale",
      "blocks.0.lin.weight",
      "blocks.0.lin.bias",
      "blocks.0.norm.weight",
      "blocks.0.norm.bias",
      "blocks.1.lin.weight",
      "blocks.1.lin.bias",
      "blocks.1.norm.weight",
      "blocks.1.norm.bias",
      "heads.a.weight",
      "heads.a.bias",
      "heads.b.weight",
      "heads.b.bias",
    ]);
    expect(net.parameters()).toHaveLength(13);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(["blocks.0.norm.running_mean", "blocks.0.norm.running_var", "blocks.1.norm.running_mean", "blocks.1.norm.running_var"]);
    expect(net.namedChildren().map(([n]) => n)).toEqual(["blocks.0", "blocks.1", "heads.a", "heads.b"]);
    expect(net.namedModules().map(([n]) => n)).toEqual(["", "blocks.0", "blocks.0.lin", "blocks.0.norm", "blocks.1", "blocks.1.lin", "blocks.1.norm", "heads.a", "heads.b"]);
    // 1 + 2·(12 + 4 + 4 + 4) + (4 + 1) + (8 + 2)
    expect(net.numParameters()).toBe(1 + 2 * 24 + 5 + 10);
  });

  test("the state dict holds parameters and buffers; the order is stable between instances", () => {
    const keys = Object.keys(new Net().stateDict());
    expect(keys).toEqual(Object.keys(new Net().stateDict()));
    expect(keys).toContain("blocks.1.norm.running_var");
    expect(keys).toHaveLength(13 + 4);
  });

  test("a module or parameter reachable twice is listed once (under its first name)", () => {
    const shared = new Dense(2, 2, { seed: 4 });
    class Tied extends Module {
      first = shared;
      second = shared;
      forward(x: Tensor) {
        return this.second.call(this.first.call(x));
      }
    }
    const m = new Tied();
    expect(m.namedParameters().map(([n]) => n)).toEqual(["first.weight", "first.bias"]);
    expect(m.namedModules().map(([n]) => n)).toEqual(["", "first"]);
  });

  test("Sequential names its children 0, 1, … as torch.nn.Sequential", () => {
    const s = new Sequential([new Dense(2, 3), new ReLU(), new Dense(3, 1)]);
    expect(s.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    expect(s.length).toBe(3);
    expect(s.at(-1)).toBeInstanceOf(Dense);
    expect(() => s.at(3)).toThrow(/index 3 is out of range for 3 layers/);
    s.add(new ReLU());
    expect(s.length).toBe(4);
    const named = new Sequential({ hidden: new Dense(2, 2), out: new Dense(2, 1) });
    expect(named.namedParameters().map(([n]) => n)).toEqual(["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
    expect(() => new Sequential({ "a.b": new ReLU() })).toThrow(/contain no "\."/);
  });

  test("MultiHead and Functional compose multi-output models", () => {
    const trunk = new Sequential([new Dense(3, 4, { seed: 1, activation: "relu" })]);
    const mh = new MultiHead(trunk, { digit: new Dense(4, 10, { seed: 2 }), parity: new Dense(4, 1, { seed: 3 }) });
    expect(mh.namedParameters().map(([n]) => n)).toEqual(["trunk.0.weight", "trunk.0.bias", "heads.digit.weight", "heads.digit.bias", "heads.parity.weight", "heads.parity.bias"]);
    const x = tensor([[1, 2, 3]]);
    const out = mh.call(x);
    expect(Object.keys(out)).toEqual(["digit", "parity"]);
    expect(out.digit.shape).toEqual([1, 10]);

    const fn = new Functional({ trunk, digit: mh.heads.digit }, (m, input: Tensor) => ({ digit: m.digit.call(m.trunk.call(input)) }));
    expect(fn.namedParameters().map(([n]) => n)).toEqual(["trunk.0.weight", "trunk.0.bias", "digit.weight", "digit.bias"]);
    expect(Array.from(fn.call(x).digit.data)).toEqual(Array.from(out.digit.data));
  });

  test("toString shows the architecture", () => {
    const s = new Sequential([new Dense(2, 3), new ReLU()]);
    expect(s.toString()).toBe("Sequential\n  (0): Dense(2 → 3) {weight[3,2], bias[3]}\n  (1): ReLU");
  });
});

describe("Module: modes and gradients", () => {
  test("train() and eval() reach every descendant", () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.train(false);
    expect(net.blocks[1]!.norm.training).toBe(false);
  });

  test("zeroGrad clears every parameter's gradient", () => {
    const s = new Sequential([new Dense(2, 2, { seed: 1 }), new Dense(2, 1, { seed: 2 })]);
    sum(s.call(tensor([[1, 2]]))).backward();
    expect(s.parameters().every((p) => p.grad !== null)).toBe(true);
    s.zeroGrad();
    expect(s.parameters().every((p) => p.grad === null)).toBe(true);
  });

  test("parameters own contiguous storage and require grad; buffers do not", () => {
    const source = new NDArray(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const p = new Parameter(source);
    expect(p.value.data).not.toBe(source.data); // a copy: writing into p never changes the source
    expect(p.requiresGrad && p.isLeaf).toBe(true);
    expect(new StateBuffer(source).requiresGrad).toBe(false);
  });
});

describe("Module: stateDict and loadStateDict", () => {
  test("stateDict returns copies", () => {
    const d = new Dense(2, 2, { seed: 1 });
    const state = d.stateDict();
    state.weight!.data.fill(123);
    expect(Array.from(d.weight.data)).not.toContain(123);
  });

  test("loadStateDict writes in place: parameter objects keep their identity", () => {
    const a = new Net(), b = new Net();
    a.heads.a.weight.value.data.fill(0.25);
    a.blocks[0]!.norm.running_mean.value.data.fill(-3);
    const weight = b.heads.a.weight;
    b.loadStateDict(a.stateDict());
    expect(b.heads.a.weight).toBe(weight);
    expect(values(b)).toEqual(values(a));
  });

  test("missing and unexpected keys are named, and the model is left untouched", () => {
    const net = new Net();
    const before = values(net);
    const state: Record<string, NDArray> = net.stateDict();
    for (const v of Object.values(state)) v.data.fill(7);
    delete state["heads.b.bias"];
    state["heads.c.weight"] = new NDArray(new Float32Array(2), [2]);
    let error: unknown;
    try {
      net.loadStateDict(state);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect((error as StateDictError).missing).toEqual(["heads.b.bias"]);
    expect((error as StateDictError).unexpected).toEqual(["heads.c.weight"]);
    expect((error as Error).message).toBe('loadStateDict: the state does not match the model: missing keys ["heads.b.bias"]; unexpected keys ["heads.c.weight"]');
    expect(values(net)).toEqual(before);
  });

  test("a shape mismatch is a ShapeError naming the key and both shapes; nothing is written", () => {
    const net = new Net();
    const before = values(net);
    const state = net.stateDict();
    for (const v of Object.values(state)) v.data.fill(7);
    state["heads.b.weight"] = new NDArray(new Float32Array(8), [4, 2]); // the model's is [2,4]
    expect(() => net.loadStateDict(state)).toThrow(ShapeError);
    expect(() => net.loadStateDict(state)).toThrow('loadStateDict: "heads.b.weight": the saved shape differs from the model\'s: [4,2] x [2,4]');
    expect(values(net)).toEqual(before);
  });

  test("strict: false loads what matches and ignores the rest", () => {
    const d = new Dense(2, 2, { seed: 1 });
    d.loadStateDict({ bias: new NDArray(new Float32Array([5, 6]), [2]), extra: new NDArray(new Float32Array(1), [1]) }, { strict: false });
    expect(Array.from(d.bias!.data)).toEqual([5, 6]);
  });

  test("values may be { shape, data } as decoded from safetensors, in float64", () => {
    const d = new Dense(1, 1, { seed: 1 });
    d.loadStateDict({ weight: { shape: [1, 1], data: new Float64Array([0.1]) }, bias: { shape: [1], data: new Float64Array([2]) } });
    expect(d.weight.data[0]).toBe(Math.fround(0.1));
    expect(() => d.loadStateDict({ weight: { shape: [1, 1], data: new Float64Array([1, 2]) }, bias: { shape: [1], data: new Float64Array([2]) } })).toThrow(/2 values do not fill the shape/);
  });
});

describe("functionalCall", () => {
  test("runs the module with replaced parameters, then restores them", () => {
    const d = new Dense(2, 1, { seed: 1 });
    const original = d.weight;
    const y = functionalCall(d, { weight: tensor([[1, 1]]), bias: tensor([10]) }, tensor([[2, 3]]));
    expect(Array.from(y.data)).toEqual([15]);
    expect(d.weight).toBe(original);
    expect(() => functionalCall(d, { nope: tensor([1]) }, tensor([[2, 3]]))).toThrow(StateDictError);
    expect(() => functionalCall(d, { weight: tensor([1, 1]) }, tensor([[2, 3]]))).toThrow(/replacement's shape differs/);
  });

  test("restores the parameters even when the forward throws", () => {
    const d = new Dense(2, 1, { seed: 1 });
    const original = d.weight;
    expect(() => functionalCall(d, { weight: tensor([[1, 1]]) }, tensor([[1, 2, 3]]))).toThrow(ShapeError);
    expect(d.weight).toBe(original);
  });

  test("dropout generators are found for checkpoints", () => {
    const s = new Sequential([new Dense(2, 2), new Dropout(0.5, { seed: 1 }), new Sequential([new Dropout(0.1, { seed: 2 })])]);
    expect(s.namedGenerators().map(([n]) => n)).toEqual(["1.generator", "2.0.generator"]);
  });
});
