import * as zg from "@zerograd/autograd";
import { Sequential, Dense, Conv2D, MaxPool2D, Flatten, Adam } from "@zerograd/nn";
import { sparseCategoricalCrossEntropy, binaryCrossEntropy } from "@zerograd/losses";
import { Random, useKernels } from "@zerograd/tensor";
const which = process.argv[2] ?? "mlp";
if (process.argv[3]) useKernels(process.argv[3] as "js");
const rng = new Random(1);
const randn = (shape: number[]) => { const n = shape.reduce((a, b) => a * b, 1); const v = new Float32Array(n); for (let i = 0; i < n; i++) v[i] = rng.normal(); return zg.tensor(v, { shape }); };
function stepFor(model: any, x: zg.Tensor, y: zg.Tensor) {
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  return () => { opt.zeroGrad(); const loss = sparseCategoricalCrossEntropy(model.call(x), y, { fromLogits: true }); loss.backward(); opt.step(); return loss; };
}
let step: () => unknown;
if (which === "mlp") {
  const b = Number(process.argv[4] ?? 128);
  const model = new Sequential([new Dense(784, 256, { activation: "relu" }), new Dense(256, 128, { activation: "relu" }), new Dense(128, 10)]);
  step = stepFor(model, randn([b, 784]), zg.tensor(Array.from({ length: b }, (_, i) => i % 10)));
} else if (which === "cnn") {
  const model = new Sequential([new Conv2D(1, 16, 3, { activation: "relu" }), new MaxPool2D(2), new Conv2D(16, 32, 3, { activation: "relu" }), new MaxPool2D(2), new Flatten(), new Dense(800, 10)]);
  step = stepFor(model, randn([32, 28, 28, 1]), zg.tensor(Array.from({ length: 32 }, (_, i) => i % 10)));
} else {
  const x = randn([4096, 64]); const xr = zg.tensor(x.data, { shape: [4096, 64], requiresGrad: true });
  const t = new Float32Array(4096 * 64).map((_, i) => (i * 7919) % 3 - 1);
  const tt = zg.tensor(t, { shape: [4096, 64] });
  step = () => { xr.grad = null as any; const l = binaryCrossEntropy(xr, tt, { fromLogits: true, maskValue: -1 }); l.backward(); return l; };
}
for (let i = 0; i < 5; i++) step();
const n = Number(process.env.STEPS ?? 30);
const t = performance.now(); for (let i = 0; i < n; i++) step(); console.log(which, process.argv[3] ?? "default", ((performance.now() - t) / n).toFixed(2), "ms/step");
