/**
 * A two-layer perceptron on the embedded digits, written with nothing but autograd ops and a
 * hand-written SGD step — the whole of training in one screen. Run:
 *   npx -y pnpm@10.34.9 exec tsx --conditions=@zerograd/source examples/src/mlp-from-scratch.ts
 */
import { Random } from "@zerograd/tensor";
import { type Tensor, argmax, logSoftmax, matmul, mean, mul, noGrad, oneHot, randn, relu, sub, sum, take, tensor, zeros, add } from "@zerograd/autograd";
import { loadDigits, splitDataset } from "./data/index.js";

const { train, test } = splitDataset(await loadDigits(), 0.2, 7);
const features = train.height * train.width, hidden = 64, classes = 10;

// He initialisation: weights ~ N(0, 2 / fan_in) keep ReLU activations at a steady scale.
const rng = new Random(7);
const w1 = mul(randn([features, hidden], { seed: rng }), Math.sqrt(2 / features)).detach().requireGrad();
const b1 = zeros([hidden], { requiresGrad: true });
const w2 = mul(randn([hidden, classes], { seed: rng }), Math.sqrt(2 / hidden)).detach().requireGrad();
const b2 = zeros([classes], { requiresGrad: true });
const params = [w1, b1, w2, b2];

const forward = (x: Tensor) => add(matmul(relu(add(matmul(x, w1), b1)), w2), b2);
const trainImages = tensor(train.images, { shape: [train.count, features] }), trainLabels = tensor(train.labels);
const testImages = tensor(test.images, { shape: [test.count, features] });

const learningRate = 0.1, batch = 32;
for (let epoch = 1; epoch <= 15; epoch++) {
  const order = rng.permutation(train.count);
  let total = 0;
  for (let start = 0; start < train.count; start += batch) {
    const idx = order.subarray(start, Math.min(start + batch, train.count));
    const x = take(trainImages, idx, 0);
    const y = oneHot(take(trainLabels, idx, 0), classes);
    // Cross-entropy: −mean over the batch of Σ_c y_c · log softmax(logits)_c.
    const loss = mean(sum(mul(y, logSoftmax(forward(x))), { axis: -1 })).neg();
    for (const p of params) p.grad = null;
    loss.backward();
    // SGD: p ← p − η·∂loss/∂p, outside the graph.
    noGrad(() => params.forEach((p) => p.value.data.set(sub(p, mul(p.grad!, learningRate)).data)));
    total += loss.item() * idx.length;
  }
  const predicted = argmax(noGrad(() => forward(testImages)), { axis: -1 }).data;
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
  console.log(`epoch ${String(epoch).padStart(2)}  loss ${(total / train.count).toFixed(4)}  test accuracy ${((100 * correct) / test.count).toFixed(1)}%`);
}
