/**
 * Optional cross-check against PyTorch itself (runs only where a python3 with torch exists, e.g.
 * Debian's python3-torch): the same inputs through torch.nn.functional and through our losses,
 * values and gradients compared. The hand-computed tests elsewhere do not need torch.
 */
import { execFileSync } from "node:child_process";
import { Tensor, tensor } from "@zerograd/autograd";
import { Random } from "@zerograd/tensor";
import { describe, expect, test } from "vitest";
import { binaryCrossEntropy, huber, sparseCategoricalCrossEntropy } from "../src/index.js";
import { torchPython } from "../../../tools/testing/torch.js";


/** Runs a Python snippet that prints JSON [value, gradient list]. */
function torch(script: string, inputs: unknown): [number, number[]] {
  const out = execFileSync(torchPython!, ["-c", `import json, sys, torch\nimport torch.nn.functional as F\ninp = json.loads(sys.argv[1])\n${script}`, JSON.stringify(inputs)]).toString();
  return JSON.parse(out);
}

function ours(loss: (x: Tensor) => Tensor, x: number[][]): [number, number[]] {
  const t = tensor(x, { dtype: "float64", requiresGrad: true });
  const l = loss(t);
  l.backward();
  return [l.item(), Array.from(t.grad!.data)];
}

const rng = new Random(11);
const matrix = (rows: number, cols: number, scale = 3) => Array.from({ length: rows }, () => Array.from({ length: cols }, () => scale * rng.normal()));

describe.skipIf(!torchPython)("PyTorch agrees (optional: runs only where python3 has torch)", () => {
  test("cross_entropy with weight, ignore_index and label_smoothing (mean = weighted mean)", () => {
    const logits = matrix(7, 4);
    const labels = [0, 3, -100, 2, 1, -100, 3];
    const weight = [0.5, 2, 1, 3];
    const [value, grad] = torch(
      `x = torch.tensor(inp["x"], dtype=torch.float64, requires_grad=True)
l = F.cross_entropy(x, torch.tensor(inp["y"]), weight=torch.tensor(inp["w"], dtype=torch.float64), ignore_index=-100, label_smoothing=0.1)
l.backward(); print(json.dumps([l.item(), x.grad.reshape(-1).tolist()]))`,
      { x: logits, y: labels, w: weight },
    );
    const [v, g] = ours((x) => sparseCategoricalCrossEntropy(x, labels, { fromLogits: true, ignoreIndex: -100, classWeights: weight, labelSmoothing: 0.1, reduction: "weightedMean" }), logits);
    expect(v).toBeCloseTo(value, 10);
    g.forEach((gi, i) => expect(gi).toBeCloseTo(grad[i]!, 10));
  });

  test("binary_cross_entropy_with_logits with pos_weight and weight", () => {
    const logits = matrix(5, 3, 6);
    const target = Array.from({ length: 5 }, () => Array.from({ length: 3 }, () => (rng.next() < 0.5 ? 1 : 0)));
    const posWeight = [1, 2.5, 0.3];
    const weight = [[1], [2], [0.5], [1], [3]];
    const [value, grad] = torch(
      `x = torch.tensor(inp["x"], dtype=torch.float64, requires_grad=True)
l = F.binary_cross_entropy_with_logits(x, torch.tensor(inp["z"], dtype=torch.float64), weight=torch.tensor(inp["w"], dtype=torch.float64), pos_weight=torch.tensor(inp["pw"], dtype=torch.float64))
l.backward(); print(json.dumps([l.item(), x.grad.reshape(-1).tolist()]))`,
      { x: logits, z: target, w: weight, pw: posWeight },
    );
    // PyTorch's 'mean' divides Σ w·ℓ by the element count: our 'mean'.
    const [v, g] = ours((x) => binaryCrossEntropy(x, target, { fromLogits: true, posWeight: [posWeight], weights: weight }), logits);
    expect(v).toBeCloseTo(value, 10);
    g.forEach((gi, i) => expect(gi).toBeCloseTo(grad[i]!, 10));
  });

  test("huber_loss with delta", () => {
    const pred = matrix(4, 5);
    const target = matrix(4, 5);
    const [value, grad] = torch(
      `x = torch.tensor(inp["x"], dtype=torch.float64, requires_grad=True)
l = F.huber_loss(x, torch.tensor(inp["z"], dtype=torch.float64), delta=1.5)
l.backward(); print(json.dumps([l.item(), x.grad.reshape(-1).tolist()]))`,
      { x: pred, z: target },
    );
    const [v, g] = ours((x) => huber(x, target, { delta: 1.5 }), pred);
    expect(v).toBeCloseTo(value, 10);
    g.forEach((gi, i) => expect(gi).toBeCloseTo(grad[i]!, 10));
  });
});
