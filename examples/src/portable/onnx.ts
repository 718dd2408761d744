/**
 * ONNX export with no runtime-specific API: a token classifier (Embedding with a padding mask, a
 * GRU, a Dense head) with a vocabulary in its metadata (non-ASCII text included) is exported, and
 * the file's bytes are returned as hex. The weights are set from a formula, not drawn: engines may
 * differ in the last bit of Math.log or Math.cos, which the seeded initialisers use. examples/test/onnx-portable.test.ts runs it in Node and,
 * bundled, in QuickJS (no TextEncoder there) and compares the bytes.
 */
import { Dense, Embedding, GRU, Sequential } from "@zerograd/nn";
import { exportOnnx } from "@zerograd/nn/onnx";

export function run(): string {
  const model = new Sequential([new Embedding(12, 4, { maskZero: true, seed: 1 }), new GRU(4, 5, { seed: 2 }), new Dense(5, 3, { seed: 3 })]);
  for (const [i, p] of model.parameters().entries()) p.value.data.forEach((_, j, data) => (data[j] = ((i + 1) * (j - 7)) / 64));
  const vocabulary = JSON.stringify(["<pad>", "naïve", "Grüße", "日本", "𝄞"]);
  const bytes = exportOnnx(model, { inputs: { ids: { shape: [null, null], type: "int64" } }, output: "logits", metadata: { vocabulary }, docString: "tokens → classes" });
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
