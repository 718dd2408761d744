/**
 * Optional checks against PyTorch (they run only where python3 can import torch; CI installs
 * Debian's python3-torch). PyTorch builds the layer, writes its state dict as a safetensors file
 * (by the format's rules, with struct + json), runs it on padded data (pack_padded_sequence for
 * the recurrent layers, key_padding_mask and a causal mask for attention), and reports outputs
 * and gradients; we load the file and must agree.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tensor, mul, sum } from "@zerograd/autograd";
import { NDArray } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { torchPython } from "../../../tools/testing/torch.js";
import { type AnyModule, Bidirectional, GRU, LSTM, MultiHeadAttention, maskFromLengths } from "../src/index.js";
import { loadWeightsFile } from "../src/node.js";

const WRITE_SAFETENSORS = `
import json, struct, sys, torch
def save(module, path):
    header, chunks, offset = {}, [], 0
    for name, v in module.state_dict().items():
        values = v.detach().reshape(-1).tolist()
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
def flat(t):
    return t.detach().reshape(-1).tolist()
torch.manual_seed(0)
`;

interface TorchResult { x: number[]; r: number[]; rh: number[]; out: number[]; h: number[]; c?: number[]; xGrad: number[]; grads: Record<string, number[]> }

async function withTorch(script: string, args: string[], check: (path: string, result: TorchResult) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "zerograd-torch-seq-"));
  try {
    const path = join(dir, "m.safetensors");
    const result = JSON.parse(execFileSync(torchPython!, ["-c", WRITE_SAFETENSORS + script, path, ...args]).toString()) as TorchResult;
    await check(path, result);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const expectClose = (ours: ArrayLike<number>, theirs: readonly number[], tol = 1e-4) => {
  expect(ours.length).toBe(theirs.length);
  theirs.forEach((v, i) => expect(Math.abs(ours[i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
};

const N = 3, T = 5, IN = 3, H = 4;
const LENGTHS = [5, 3, 1];

describe.skipIf(!torchPython)("recurrent layers agree with PyTorch's pack_padded_sequence (optional)", () => {
  test.each([["GRU", false], ["GRU", true], ["LSTM", false], ["LSTM", true]] as const)("%s, bidirectional %s: outputs, final state and gradients", async (kind, bidirectional) => {
    const script = `
kind, bi = sys.argv[2], sys.argv[3] == "1"
lengths = [${LENGTHS.join(",")}]
net = getattr(torch.nn, kind)(${IN}, ${H}, batch_first=True, bidirectional=bi)
x = torch.randn(${N}, ${T}, ${IN}, requires_grad=True)
packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
out, state = net(packed)
out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=${T})
h, c = (state if kind == "LSTM" else (state, None))
r, rh = torch.randn(out.shape), torch.randn(h.shape)
loss = (out * r).sum() + (h * rh).sum() + ((c * rh).sum() if c is not None else 0)
loss.backward()
save(net, sys.argv[1])
print(json.dumps({"x": flat(x), "r": flat(r), "rh": flat(rh), "out": flat(out), "h": flat(h), "c": flat(c) if c is not None else None,
  "xGrad": flat(x.grad), "grads": {k: flat(p.grad) for k, p in net.named_parameters()}}))
`;
    await withTorch(script, [kind, bidirectional ? "1" : "0"], async (path, t) => {
      const make = () => (kind === "GRU" ? new GRU(IN, H, { returnSequences: true, returnState: true }) : new LSTM(IN, H, { returnSequences: true, returnState: true }));
      const layer: AnyModule = bidirectional ? new Bidirectional(make()) : make();
      await loadWeightsFile(layer, path);
      const x = new Tensor(new NDArray(Float32Array.from(t.x), [N, T, IN]), true);
      const { output, h, c } = layer.call(x, { mask: maskFromLengths(LENGTHS, T) }) as { output: Tensor; h: Tensor; c?: Tensor };
      expectClose(output.data, t.out);
      expectClose(h.data, t.h); // [N, H] here, [1, N, H] in PyTorch: the same elements; [2, N, H] for both
      if (c) expectClose(c.data, t.c!);
      const rh = new Tensor(new NDArray(Float32Array.from(t.rh), h.shape));
      let loss = sum(mul(output, new Tensor(new NDArray(Float32Array.from(t.r), output.shape)))).add(sum(mul(h, rh)));
      if (c) loss = loss.add(sum(mul(c, rh)));
      loss.backward();
      expectClose(x.grad!.data, t.xGrad);
      for (const [name, p] of layer.namedParameters()) expectClose(p.grad!.data, t.grads[name]!);
    });
  });
});

describe.skipIf(!torchPython)("MultiHeadAttention agrees with PyTorch's (optional)", () => {
  test.each([[false], [true]])("key_padding_mask (= not our key mask), causal %s: outputs at real queries and gradients", async (causal) => {
    const E = 8, heads = 2, n = 2, steps = 4, lengths = [4, 2];
    const script = `
causal = sys.argv[2] == "1"
lengths = [${lengths.join(",")}]
net = torch.nn.MultiheadAttention(${E}, ${heads}, batch_first=True)
with torch.no_grad():
    net.in_proj_bias.normal_(); net.out_proj.bias.normal_()
x = torch.randn(${n}, ${steps}, ${E}, requires_grad=True)
exists = torch.arange(${steps})[None, :] < torch.tensor(lengths)[:, None]
attn_mask = torch.triu(torch.ones(${steps}, ${steps}, dtype=torch.bool), 1) if causal else None
out, _ = net(x, x, x, key_padding_mask=~exists, attn_mask=attn_mask, need_weights=False)
out = out * exists[:, :, None]   # only real queries are compared (ours are 0 at masked ones)
r = torch.randn(out.shape)
(out * r).sum().backward()
save(net, sys.argv[1])
print(json.dumps({"x": flat(x), "r": flat(r), "rh": [], "out": flat(out), "h": [], "xGrad": flat(x.grad), "grads": {k: flat(p.grad) for k, p in net.named_parameters()}}))
`;
    await withTorch(script, [causal ? "1" : "0"], async (path, t) => {
      const mha = new MultiHeadAttention(E, heads);
      await loadWeightsFile(mha, path);
      const x = new Tensor(new NDArray(Float32Array.from(t.x), [n, steps, E]), true);
      const out = mha.call(x, { mask: maskFromLengths(lengths, steps), causal });
      expectClose(out.data, t.out);
      sum(mul(out, new Tensor(new NDArray(Float32Array.from(t.r), out.shape)))).backward();
      expectClose(x.grad!.data, t.xGrad);
      for (const [name, p] of mha.namedParameters()) expectClose(p.grad!.data, t.grads[name]!);
    });
  });
});
