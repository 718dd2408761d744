/**
 * A training run with no I/O and no runtime-specific API: a 2-8-1 perceptron learns XOR with
 * plain SGD. It is bundled and run unchanged in Node, QuickJS (no JIT, no WebAssembly) and a
 * browser by the portability tests, which compare the loss curves.
 */
import { Random, kernels } from "@zerograd/tensor";
import { add, matmul, mean, mul, noGrad, randn, sigmoid, square, sub, tanh, tensor, zeros } from "@zerograd/autograd";

export function run(steps = 200): { losses: number[]; predictions: number[]; kernels: string; product: number[] } {
  const rng = new Random(3);
  const w1 = randn([2, 8], { seed: rng, requiresGrad: true });
  const b1 = zeros([8], { requiresGrad: true });
  const w2 = randn([8, 1], { seed: rng, requiresGrad: true });
  const b2 = zeros([1], { requiresGrad: true });
  const params = [w1, b1, w2, b2];
  const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = tensor([[0], [1], [1], [0]]);
  const forward = () => sigmoid(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2));
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = mean(square(sub(forward(), y)));
    for (const p of params) p.grad = null;
    loss.backward();
    noGrad(() => params.forEach((p) => p.value.data.set(sub(p, mul(p.grad!, 2)).data)));
    losses.push(loss.item());
  }
  // A product large enough for the WebAssembly kernels where the runtime selects them.
  const product = matmul(randn([48, 40], { seed: rng }), randn([40, 36], { seed: rng }));
  return { losses, predictions: Array.from(noGrad(forward).data), kernels: kernels().name, product: Array.from(product.data.subarray(0, 64)) };
}
