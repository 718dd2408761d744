import { execFileSync } from "node:child_process";
import { crc32 } from "node:zlib";
import { torchPython } from "../../../tools/testing/torch.js";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tensor } from "@zerograd/autograd";
import { meanSquaredError, sparseCategoricalCrossEntropy } from "@zerograd/losses";
import { NDArray, Random, ShapeError } from "@zerograd/tensor";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  Adam,
  BatchNormalization,
  Conv2D,
  Dense,
  Dropout,
  Embedding,
  Flatten,
  LayerNormalization,
  type Module,
  type NamedTensor,
  SafetensorsError,
  Sequential,
  StateDictError,
  type TrainingCheckpoint,
  decodeCheckpoint,
  earlyStopping,
  encodeCheckpoint,
  encodeSafetensors,
  encodeWeights,
  fit,
  learningRateScheduler,
  loadWeights,
  manualSeed,
  modelCheckpoint,
  predict,
  cosineDecay,
  weightsAsTensors,
} from "../src/index.js";
import { loadCheckpointFile, loadWeightsFile, modelCheckpointFile, saveCheckpointFile, saveWeightsFile } from "@zerograd/nn/node";

function convNet(seed: number): Sequential {
  manualSeed(seed);
  return new Sequential([
    new Conv2D(1, 3, 2, { padding: "same" }),
    new BatchNormalization(3),
    new Flatten(),
    new Dropout(0.3),
    new Dense(3 * 4 * 4, 5, { activation: "relu" }),
    new LayerNormalization(5),
    new Dense(5, 3),
  ]);
}

function toyData(n: number, seed: number) {
  const rng = new Random(seed);
  const x = new Float32Array(n * 16), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 16; j++) x[i * 16 + j] = rng.normal();
    y[i] = (x[i * 16]! > 0 ? 1 : 0) + (x[i * 16 + 5]! > 0 ? 1 : 0);
  }
  return { x: new NDArray(x, [n, 4, 4, 1]), y: new NDArray(y, [n]) };
}

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const snapshot = (m: Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, bits(v.flat())]));

/** A file's header, parsed by hand with the format's rules (not with the decoder under test). */
function parseByHand(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  return { headerLength, header, bufferStart: 8 + headerLength, view };
}

/** Rewrites a file's header (the byte buffer is kept as it is). */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, any>) => void): Uint8Array {
  const { header, bufferStart } = parseByHand(bytes);
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + (bytes.length - bufferStart));
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(bufferStart), 8 + json.length);
  return out;
}

describe("weights: save → load → predict", () => {
  test("round-trips exactly, buffers (running statistics) included", async () => {
    const model = convNet(1);
    const data = toyData(32, 2);
    await fit(model, data, { optimizer: new Adam(model.parameters(), { lr: 0.01 }), loss: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } }, epochs: 2, verbose: "silent" });
    const bytes = encodeWeights(model);
    const copy = convNet(99);
    expect(snapshot(copy)).not.toEqual(snapshot(model));
    loadWeights(copy, bytes);
    expect(snapshot(copy)).toEqual(snapshot(model));
    const a = predict(model, data.x) as NDArray, b = predict(copy, data.x) as NDArray;
    expect(bits(b.data)).toEqual(bits(a.data));
  });

  test("the file follows the format: header length, JSON header, packed and aligned offsets, PyTorch names", () => {
    const model = convNet(3);
    const bytes = encodeWeights(model);
    const { headerLength, header, bufferStart, view } = parseByHand(bytes);
    expect(headerLength % 8).toBe(0); // the buffer starts 8-byte aligned
    expect(header.__metadata__).toEqual({ format: "pt" });
    const names = Object.keys(header).filter((k) => k !== "__metadata__");
    expect(names.sort()).toEqual(Object.keys(model.stateDict()).sort());
    expect(names).toContain("4.weight");
    expect(names).toContain("1.running_var");
    // Sorted by offset, the tensors tile the buffer from 0 to its end with no gap or overlap.
    const ranges = names.map((n) => header[n]!.data_offsets).sort((p, q) => p[0] - q[0]);
    let at = 0;
    for (const [begin, end] of ranges) {
      expect(begin).toBe(at);
      expect(begin % 4).toBe(0);
      at = end;
    }
    expect(at).toBe(bytes.length - bufferStart);
    // Each tensor: F32, its shape, little-endian values equal to the parameter's.
    const state = model.stateDict();
    for (const n of names) {
      const { dtype, shape, data_offsets: [begin, end] } = header[n]!;
      expect(dtype).toBe("F32");
      expect(shape).toEqual([...state[n]!.shape]);
      expect(end - begin).toBe(state[n]!.size * 4);
      const values = Array.from({ length: state[n]!.size }, (_, i) => view.getFloat32(bufferStart + begin + 4 * i, true));
      expect(values).toEqual(Array.from(state[n]!.flat()));
    }
  });

  test("PyTorch layout: conv filters stored as [out, in, kh, kw], read back the same way", () => {
    const model = convNet(4);
    const bytes = encodeWeights(model, { layout: "pytorch" });
    const { header, bufferStart, view } = parseByHand(bytes);
    const conv = (model.at(0) as Conv2D).weight; // [kh, kw, in, out] = [2, 2, 1, 3]
    expect(header["0.weight"]!.shape).toEqual([3, 1, 2, 2]);
    const begin = header["0.weight"]!.data_offsets[0];
    const torchAt = (o: number, i: number, y: number, x: number) => view.getFloat32(bufferStart + begin + 4 * (((o * 1 + i) * 2 + y) * 2 + x), true);
    for (let o = 0; o < 3; o++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) expect(torchAt(o, 0, y, x)).toBe(conv.value.get(y, x, 0, o));
    expect(header["4.weight"]!.shape).toEqual([5, 48]); // Dense is stored as it is: PyTorch's Linear layout
    const copy = convNet(5);
    loadWeights(copy, bytes, { layout: "pytorch" });
    expect(snapshot(copy)).toEqual(snapshot(model));
  });

  test("an F64 file loads, converted to the parameters' float32", () => {
    const d = new Dense(2, 1, { seed: 1 });
    loadWeights(d, encodeSafetensors({ weight: { shape: [1, 2], data: new Float64Array([0.1, 0.2]) }, bias: { shape: [1], data: new Float64Array([3]) } }));
    expect(Array.from(d.weight.data)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect(Array.from(d.bias!.data)).toEqual([3]);
  });
});

describe("malformed weight files: a clear error and an untouched model", () => {
  const model = convNet(6);
  const good = encodeWeights(convNet(7));
  const before = snapshot(model);
  const rejects = (bytes: Uint8Array, error: RegExp, kind: new (...args: any[]) => Error = SafetensorsError) => {
    expect(() => loadWeights(model, bytes)).toThrow(kind);
    expect(() => loadWeights(model, bytes)).toThrow(error);
    expect(snapshot(model)).toEqual(before);
  };

  test("truncated", () => {
    rejects(good.subarray(0, 5), /shorter than the 8-byte header length/);
    rejects(good.subarray(0, good.length - 4), /the byte buffer|run past the end/);
    rejects(good.subarray(0, 40), /runs past the end of the file/);
  });

  test("header too large", () => {
    const big = good.slice();
    new DataView(big.buffer).setBigUint64(0, 200_000_000n, true);
    rejects(big, /header length 200000000 exceeds the limit/);
  });

  test("offsets out of range or overlapping", () => {
    rejects(withHeader(good, (h) => (h["6.bias"].data_offsets = [h["6.bias"].data_offsets[0], 1e9])), /run past the end of the byte buffer/);
    rejects(withHeader(good, (h) => (h["6.bias"].data_offsets = [0, 12])), /overlap|hold 12 bytes/);
    rejects(
      withHeader(good, (h) => {
        h["6.bias"].data_offsets = [...h["0.bias"].data_offsets];
      }),
      /overlap/,
    );
  });

  test("wrong dtype", () => {
    rejects(withHeader(good, (h) => (h["6.bias"].dtype = "C64")), /dtype C64 is not supported; only F64, F32, F16, BF16, I64/);
    rejects(withHeader(good, (h) => (h["6.bias"].dtype = "Q4")), /unknown dtype "Q4"/);
  });

  test("shape mismatch with the model, missing and unexpected tensors", () => {
    const other = encodeWeights(new Sequential([new Conv2D(1, 3, 2, { padding: "same" }), new BatchNormalization(3), new Flatten(), new Dropout(0.3), new Dense(48, 6)]));
    expect(() => loadWeights(model, other)).toThrow(StateDictError);
    expect(snapshot(model)).toEqual(before);
    const bent = encodeWeights(convNet(8));
    const swapped = withHeader(bent, (h) => {
      const s = h["6.weight"].shape; // [3, 5] → [5, 3]: same bytes, wrong shape
      h["6.weight"].shape = [s[1], s[0]];
    });
    rejects(swapped, /"6.weight": the saved shape differs from the model's: \[5,3\] x \[3,5\]/, ShapeError);
  });

  test("not JSON, not an object", () => {
    rejects(withHeader(good, (h) => (h["6.bias"] = 7)), /expected \{ "dtype", "shape", "data_offsets" \}/);
  });
});

/** Appends one tensor (raw little-endian bytes) to a file, after the others. */
function withTensor(bytes: Uint8Array, name: string, dtype: string, shape: number[], raw: number[]): Uint8Array {
  const { bufferStart } = parseByHand(bytes);
  const end = bytes.length - bufferStart;
  const edited = withHeader(bytes, (h) => (h[name] = { dtype, shape, data_offsets: [end, end + raw.length] }));
  return Uint8Array.from([...edited, ...raw]);
}

describe("values and PyTorch's extra entries", () => {
  test("NaN or Infinity in a state dict or a weights file: refused, naming the tensor; the model untouched", () => {
    const model = convNet(11);
    const before = snapshot(model);
    const state = model.stateDict();
    state["4.bias"]!.data[2] = NaN;
    expect(() => model.loadStateDict(state)).toThrow('loadStateDict: "4.bias" holds NaN at element 2; saved values must be finite');
    expect(snapshot(model)).toEqual(before);
    const weights = weightsAsTensors(convNet(12));
    weights["6.weight"]!.data[0] = -Infinity;
    expect(() => loadWeights(model, encodeSafetensors(weights))).toThrow('loadStateDict: "6.weight" holds -Infinity at element 0; saved values must be finite');
    expect(snapshot(model)).toEqual(before);
  });

  test("a BatchNorm counter num_batches_tracked (I64, as PyTorch writes it) is skipped, even with strict", () => {
    const source = convNet(13);
    const file = withTensor(encodeWeights(source), "1.num_batches_tracked", "I64", [], [7, 0, 0, 0, 0, 0, 0, 0]);
    const model = convNet(14);
    loadWeights(model, file);
    expect(snapshot(model)).toEqual(snapshot(source));
    // Only where a BatchNormalization lives: elsewhere the name is an unexpected key.
    const misplaced = withTensor(encodeWeights(source), "4.num_batches_tracked", "I64", [], [7, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => loadWeights(model, misplaced)).toThrow(/unexpected keys \["4.num_batches_tracked"\]/);
  });
});

describe("names are data: __proto__, constructor and toString are ordinary (unexpected) names", () => {
  const model = convNet(21);
  const before = snapshot(model);
  /** The model's own weights, with `edit` applied to the (prototype-free) map of tensors. */
  const file = (edit: (w: Record<string, NamedTensor>) => void) => {
    const weights = weightsAsTensors(convNet(22));
    edit(weights);
    return encodeSafetensors(weights);
  };
  const extra = { shape: [1], data: Float32Array.of(1) };

  test.each(["__proto__", "constructor", "toString"])("a file with an extra tensor named %s is refused by strict loadWeights", (name) => {
    const bytes = file((w) => (w[name] = extra));
    expect(() => loadWeights(model, bytes)).toThrow(`loadStateDict: the state does not match the model: unexpected keys [${JSON.stringify(name)}]`);
    expect(snapshot(model)).toEqual(before);
    loadWeights(model, bytes, { strict: false }); // not strict: ignored, the rest loads
    expect(snapshot(model)).toEqual(snapshot(convNet(22)));
    loadWeights(model, encodeWeights(convNet(21)));
  });

  test("a real tensor renamed to __proto__: both the missing and the unexpected key are reported", () => {
    const bytes = file((w) => {
      w["__proto__"] = w["6.bias"]!;
      delete w["6.bias"];
    });
    const error = (() => {
      try {
        loadWeights(model, bytes);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StateDictError);
    expect(error).toMatchObject({ missing: ["6.bias"], unexpected: ["__proto__"] });
    expect(snapshot(model)).toEqual(before);
  });

  test("a checkpoint whose weights include such names keeps them as names", () => {
    const weights: Record<string, NDArray> = Object.create(null);
    weights["__proto__"] = new NDArray(Float32Array.of(1, 2), [2]);
    weights["constructor"] = new NDArray(Float32Array.of(3), [1]);
    const ck: TrainingCheckpoint = { epoch: 0, globalStep: 0, weights, optimizer: { type: "SGD", lr: 0.1, options: {}, steps: [0, 0], slots: {} }, rng: { shuffle: [1, 2, 3, 4, 0], model: {} }, history: {}, groupWeights: {}, callbacks: [] };
    const back = decodeCheckpoint(encodeCheckpoint(ck));
    expect(Object.keys(back.weights)).toEqual(["__proto__", "constructor"]);
    expect(Array.from(back.weights["__proto__"]!.data)).toEqual([1, 2]);
    expect(Object.getPrototypeOf(back.weights)).toBeNull();
  });
});

describe("checkpoints carry a CRC-32 of the whole file, verified on load", () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    const model = new Sequential([new Flatten(), new Dense(16, 3, { seed: 1 })]);
    const data = toyData(16, 5);
    await fit(model, data, {
      optimizer: new Adam(model.parameters(), { lr: 0.01 }),
      loss: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } },
      epochs: 1,
      verbose: "silent",
      callbacks: [earlyStopping({ monitor: "loss", patience: 3, restoreBestWeights: true }), modelCheckpoint({ save: (b) => void (bytes = b) })],
    });
  });
  const damage = (at: number, bit: number) => {
    const copy = bytes.slice();
    copy[at]! ^= 1 << bit;
    return copy;
  };

  test("the metadata holds eight hex digits: zlib's crc32 of the file with those digits set to zeros", () => {
    const { header, headerLength } = parseByHand(bytes);
    const stored = header.__metadata__!.crc32!;
    expect(stored).toMatch(/^[0-9a-f]{8}$/);
    const zeroed = bytes.slice();
    const at = new TextDecoder().decode(bytes.subarray(0, 8 + headerLength)).indexOf(`"crc32":"${stored}"`) + '"crc32":"'.length;
    zeroed.set(new TextEncoder().encode("00000000"), at);
    expect(crc32(zeroed)).toBe(parseInt(stored, 16));
  });

  test("every single flipped bit of the tensor payload: a clear error", () => {
    const { bufferStart } = parseByHand(bytes);
    expect(bytes.length - bufferStart).toBeGreaterThan(200);
    for (let at = bufferStart; at < bytes.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        expect(() => decodeCheckpoint(damage(at, bit))).toThrow(/^decodeCheckpoint: the file is damaged: its checksum \(crc32 "[0-9a-f]{8}"\) does not match its contents \([0-9a-f]{8}\); nothing was loaded$/);
      }
    }
  });

  test("one flipped bit anywhere in the header or the length prefix: an error too", () => {
    const { bufferStart } = parseByHand(bytes);
    const rng = new Random(7);
    for (let at = 0; at < bufferStart; at++) {
      expect(() => decodeCheckpoint(damage(at, rng.int(8))), `byte ${at}`).toThrow(SafetensorsError);
    }
  });

  test("a damaged checkpoint file changes nothing: model, optimizer and callbacks untouched", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-crc-"));
    try {
      const path = join(dir, "ck.safetensors");
      const { bufferStart } = parseByHand(bytes);
      await writeFile(path, damage(bufferStart + 5, 3));
      const model = new Sequential([new Flatten(), new Dense(16, 3, { seed: 9 })]);
      const optimizer = new Adam(model.parameters(), { lr: 0.01 });
      const stopper = earlyStopping({ monitor: "loss", patience: 3, restoreBestWeights: true });
      const state = () => ({ model: snapshot(model), optimizer: optimizer.stateDict(), callback: stopper.getState?.() ?? null });
      const before = state();
      await expect(loadCheckpointFile(path)).rejects.toThrow(`loadCheckpointFile: ${JSON.stringify(path)}: decodeCheckpoint: the file is damaged`);
      expect(state()).toEqual(before);
      await writeFile(path, bytes); // the intact file resumes
      const resumed = await fit(model, toyData(16, 5), { optimizer, loss: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } }, epochs: 2, verbose: "silent", callbacks: [stopper], resume: await loadCheckpointFile(path) });
      expect(resumed.epochs).toEqual([0, 1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a checkpoint written before checksums (no crc32) still loads, unverified; an unknown metadata key is refused", () => {
    const old = withHeader(bytes, (h) => delete h.__metadata__.crc32);
    expect(parseByHand(old).header.__metadata__).not.toHaveProperty("crc32");
    expect(decodeCheckpoint(old)).toEqual(decodeCheckpoint(bytes));
    const renamed = withHeader(bytes, (h) => {
      h.__metadata__.crc33 = h.__metadata__.crc32;
      delete h.__metadata__.crc32;
    });
    expect(() => decodeCheckpoint(renamed)).toThrow('decodeCheckpoint: unexpected metadata "crc33": a checkpoint holds only "format", "state" and "crc32" (is the file damaged?)');
  });
});

describe("checkpoints: resume equals an uninterrupted run, bitwise", () => {
  const loss = { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } };
  // Dropout and shuffling use generators; BN has running statistics; Adam has moments; the schedule changes lr.
  const options = (model: Module, extra: object = {}) => ({
    optimizer: new Adam(model.parameters(), { lr: 0.01 }),
    loss,
    metrics: ["accuracy" as const],
    batchSize: 8,
    seed: 3,
    validationSplit: 0.25,
    callbacks: [learningRateScheduler(cosineDecay(0.01, 4))],
    verbose: "silent" as const,
    ...extra,
  });

  test("4 epochs in one go = 2 epochs, a checkpoint, a fresh model and optimizer, 2 more epochs", async () => {
    const data = toyData(40, 9);
    const whole = convNet(1);
    const wholeHistory = await fit(whole, data, { ...options(whole), epochs: 4 });

    const first = convNet(1);
    let saved: Uint8Array | null = null;
    const firstOptions = options(first);
    await fit(first, data, { ...firstOptions, epochs: 2, callbacks: [...firstOptions.callbacks, modelCheckpoint({ save: (b) => void (saved = b) })] });

    const resumed = convNet(123); // different initial weights and dropout streams: the checkpoint replaces them
    const checkpoint = decodeCheckpoint(saved!);
    expect(checkpoint.epoch).toBe(2);
    const history = await fit(resumed, data, { ...options(resumed), epochs: 4, resume: checkpoint });
    expect(snapshot(resumed)).toEqual(snapshot(whole));
    expect(history.history).toEqual(wholeHistory.history);
    expect(history.epochs).toEqual([0, 1, 2, 3]);
  });

  test("the checkpoint keeps optimizer state, generator states, history and NaN/Infinity exactly", () => {
    const ck: TrainingCheckpoint = {
      epoch: 3,
      globalStep: 12,
      weights: { w: new NDArray(new Float32Array([1, -2]), [2]) },
      optimizer: { type: "Adam", lr: 0.001, options: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, steps: [12, 0], slots: { m: [new NDArray(new Float32Array([0.5, 0.25]), [2]), null], v: [new NDArray(new Float32Array([1, 2]), [2]), null] } },
      rng: { shuffle: [1, 2, 3, 4, NaN], model: { "3.generator": [5, 6, 7, 8, 0.123456789012345] } },
      history: { loss: [1.5, Infinity, NaN], val_loss: [-Infinity, 0.1, 0.2] },
      groupWeights: { "": { 0: 0.25, 7: 0.75 } },
      callbacks: [
        { kind: "learningRateScheduler", state: null },
        { kind: "earlyStopping", state: { best: 0.1, wait: 2, bestWeights: { "0.weight": new NDArray(new Float32Array([3, -4]), [1, 2]) } } },
      ],
    };
    const back = decodeCheckpoint(encodeCheckpoint(ck));
    expect(back).toEqual(ck);
    expect(Object.is(back.rng.shuffle[4], NaN)).toBe(true);
  });

  test("a weights file is not a checkpoint; a checkpoint for another model leaves the model untouched", async () => {
    expect(() => decodeCheckpoint(encodeWeights(convNet(1)))).toThrow(/not a training checkpoint/);
    const data = toyData(16, 1);
    const small = new Sequential([new Flatten(), new Dense(16, 3)]);
    let saved: Uint8Array | null = null;
    await fit(small, data, { ...options(small), epochs: 1, callbacks: [modelCheckpoint({ save: (b) => void (saved = b) })] });
    const other = convNet(2);
    const before = snapshot(other);
    await expect(fit(other, data, { ...options(other), epochs: 2, resume: decodeCheckpoint(saved!) })).rejects.toThrow(/generators|does not match/);
    expect(snapshot(other)).toEqual(before);
  });
});

describe("Node file helpers (@zerograd/nn/node)", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "zerograd-nn-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("weights and checkpoints on disk, written atomically", async () => {
    const model = new Sequential([new Embedding(5, 2, { seed: 1 }), new Flatten(), new Dense(6, 1, { seed: 2 })]);
    const path = join(dir, "model.safetensors");
    await saveWeightsFile(model, path);
    const copy = new Sequential([new Embedding(5, 2, { seed: 8 }), new Flatten(), new Dense(6, 1, { seed: 9 })]);
    await loadWeightsFile(copy, path);
    expect(snapshot(copy)).toEqual(snapshot(model));
    await writeFile(join(dir, "bad.safetensors"), new Uint8Array([1, 2, 3]));
    await expect(loadWeightsFile(copy, join(dir, "bad.safetensors"))).rejects.toThrow(SafetensorsError);

    const x = new Tensor(new NDArray(new Float32Array([0, 1, 2, 3, 4, 0, 1, 2, 3]), [3, 3]));
    const y = new NDArray(new Float32Array([1, 2, 3]), [3, 1]);
    await fit(model, { x, y }, { optimizer: new Adam(model.parameters()), loss: meanSquaredError, epochs: 2, verbose: "silent", callbacks: [modelCheckpointFile(join(dir, "ck-{epoch}.safetensors"))] });
    expect((await readdir(dir)).filter((f) => f.startsWith("ck-")).sort()).toEqual(["ck-1.safetensors", "ck-2.safetensors"]); // no temporary files left
    const ck = await loadCheckpointFile(join(dir, "ck-2.safetensors"));
    expect(ck.epoch).toBe(2);
    await saveCheckpointFile(join(dir, "copy.safetensors"), ck);
    expect((await loadCheckpointFile(join(dir, "copy.safetensors"))).history).toEqual(ck.history);
  });

  test('modelCheckpointFile("ckpt/epoch-{epoch}.safetensors") creates its missing directories (it crashed with ENOENT after the first epoch)', async () => {
    const model = new Sequential([new Flatten(), new Dense(16, 3, { seed: 4 })]);
    const pattern = join(dir, "ckpt", "run-1", "epoch-{epoch}.safetensors");
    const options = { optimizer: new Adam(model.parameters()), loss: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } }, epochs: 3, verbose: "silent" as const };
    await fit(model, toyData(8, 3), { ...options, callbacks: [modelCheckpointFile(pattern)] });
    expect((await readdir(join(dir, "ckpt", "run-1"))).sort()).toEqual(["epoch-1.safetensors", "epoch-2.safetensors", "epoch-3.safetensors"]);
    expect((await loadCheckpointFile(pattern.replace("{epoch}", "3"))).epoch).toBe(3);
    await saveWeightsFile(model, join(dir, "weights", "final.safetensors"));
    await saveCheckpointFile(join(dir, "more", "deep", "ck.safetensors"), await loadCheckpointFile(pattern.replace("{epoch}", "1")));
    expect(await readdir(join(dir, "more", "deep"))).toEqual(["ck.safetensors"]);
  });

  test("file errors name the helper and the path", async () => {
    const missing = join(dir, "nowhere", "ck.safetensors");
    const quoted = (path: string) => JSON.stringify(path).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    await expect(loadCheckpointFile(missing)).rejects.toMatchObject({ name: "FileError", code: "ENOENT", message: expect.stringMatching(new RegExp(`^loadCheckpointFile: cannot read ${quoted(missing)}: ENOENT`)) });
    await expect(loadWeightsFile(new Dense(1, 1), missing)).rejects.toThrow(new RegExp(`^loadWeightsFile: cannot read ${quoted(missing)}: ENOENT`));
    await writeFile(join(dir, "a-file"), "x");
    const model = new Sequential([new Flatten(), new Dense(16, 3, { seed: 4 })]);
    const blocked = join(dir, "a-file", "epoch-{epoch}.safetensors");
    const fitting = fit(model, toyData(8, 3), { optimizer: new Adam(model.parameters()), loss: { loss: sparseCategoricalCrossEntropy, options: { fromLogits: true } }, epochs: 1, verbose: "silent", callbacks: [modelCheckpointFile(blocked)] });
    await expect(fitting).rejects.toThrow(new RegExp(`^modelCheckpointFile: cannot write ${quoted(blocked.replace("{epoch}", "1"))}: (ENOTDIR|EEXIST)`));
    await expect(saveWeightsFile(model, join(dir, "a-file", "w.safetensors"))).rejects.toThrow(/^saveWeightsFile: cannot write /);
  });
});

describe.skipIf(!torchPython)("PyTorch reads our files (optional: runs only where python3 has torch)", () => {
  test("a Dense/Conv model loads into the matching torch.nn modules and predicts the same", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-torch-"));
    try {
      manualSeed(1);
      const model = new Sequential([new Conv2D(1, 2, 2), new Flatten(), new Dense(18, 3, { activation: "relu" }), new Dense(3, 2)]);
      const x = new NDArray(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)), [2, 4, 4, 1]);
      const ours = Array.from((predict(model, x) as NDArray).data);
      await saveWeightsFile(model, join(dir, "m.safetensors"), { layout: "pytorch" });
      // The file is parsed with the format's rules in Python, without the safetensors package.
      const script = `
import json, struct, sys, torch
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
state = {k: torch.frombuffer(bytearray(raw[8 + n + v["data_offsets"][0]: 8 + n + v["data_offsets"][1]]), dtype=torch.float32).reshape(v["shape"]) for k, v in header.items() if k != "__metadata__"}
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv2d(1, 2, 2); self.l1 = torch.nn.Linear(18, 3); self.l2 = torch.nn.Linear(3, 2)
    def forward(self, x):  # x is NHWC; flatten in NHWC order as Flatten does
        h = self.c(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return self.l2(torch.relu(self.l1(h)))
net = Net()
net.load_state_dict({"c.weight": state["0.weight"], "c.bias": state["0.bias"], "l1.weight": state["2.weight"], "l1.bias": state["2.bias"], "l2.weight": state["3.weight"], "l2.bias": state["3.bias"]})
x = torch.tensor(json.loads(sys.argv[2]), dtype=torch.float32).reshape(2, 4, 4, 1)
print(json.dumps(net(x).detach().reshape(-1).tolist()))
`;
      const out = JSON.parse(execFileSync(torchPython!, ["-c", script, join(dir, "m.safetensors"), JSON.stringify(Array.from(x.data))]).toString()) as number[];
      out.forEach((v, i) => expect(v).toBeCloseTo(ours[i]!, 5));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!torchPython)("we read PyTorch's files (optional: runs only where python3 has torch)", () => {
  test("a trained BatchNorm model, written by torch with its I64 counter, loads and predicts the same", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerograd-torch-"));
    try {
      const x = Array.from({ length: 15 }, (_, i) => Math.sin(i) * 2 + 1);
      // torch writes the safetensors bytes itself, by the format's rules (struct + json; no safetensors package).
      const script = `
import json, struct, sys, torch
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
net.train()
for _ in range(3):
    net(torch.randn(8, 3) * 2 + 1)  # moves the running statistics; num_batches_tracked = 3
net.eval()
header, chunks, offset = {}, [], 0
for name, v in net.state_dict().items():
    values = v.detach().reshape(-1).tolist()
    dtype, code = {torch.float32: ("F32", "f"), torch.int64: ("I64", "q")}[v.dtype]
    raw = struct.pack("<%d%s" % (len(values), code), *values)
    header[name] = {"dtype": dtype, "shape": list(v.shape), "data_offsets": [offset, offset + len(raw)]}
    chunks.append(raw)
    offset += len(raw)
text = json.dumps(header).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
x = torch.tensor(json.loads(sys.argv[2]), dtype=torch.float32).reshape(-1, 3)
print(json.dumps({"y": net(x).detach().reshape(-1).tolist(), "tracked": int(net[1].num_batches_tracked)}))
`;
      const path = join(dir, "bn.safetensors");
      const out = JSON.parse(execFileSync(torchPython!, ["-c", script, path, JSON.stringify(x)]).toString()) as { y: number[]; tracked: number };
      expect(out.tracked).toBe(3);
      const model = new Sequential([new Dense(3, 4), new BatchNormalization(4), new Dense(4, 2)]);
      await loadWeightsFile(model, path);
      expect(Array.from((model.at(1) as BatchNormalization).running_mean.data)).not.toEqual([0, 0, 0, 0]);
      const ours = Array.from((predict(model, new NDArray(Float32Array.from(x), [5, 3])) as NDArray).data);
      out.y.forEach((v, i) => expect(ours[i]).toBeCloseTo(v, 5));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
