/** --export-onnx: the masked-loss model of the main job as an ONNX file, with what a server needs to read its outputs. */
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { AnyModule } from "@zerograd/nn";
import { saveOnnxFile } from "@zerograd/nn/node";
import { INK } from "./targets.js";

export interface ExportInfo {
  dataset: string;
  /** Pixels per image (height × width). */
  features: number;
  classes: number;
  attributeNames: readonly string[];
  /** The ink head predicts standardised values: ink = output · std + mean. */
  inkScale: { mean: number[]; std: number[] };
}

/**
 * Writes the model with one input, `pixels` ([batch, height·width], row-major, scaled to [0, 1]),
 * and three outputs, `digit` (logits), `attributes` (logits) and `ink` (standardised); the
 * metadata has the labels and the ink scale. Returns the absolute path written.
 */
export async function exportJobModel(path: string, model: AnyModule, info: ExportInfo): Promise<string> {
  const file = resolve(path);
  await mkdir(dirname(file), { recursive: true });
  await saveOnnxFile(model, file, {
    inputs: { pixels: [null, info.features] },
    docString: `zerograd multi-task digits model (masked losses), trained on ${info.dataset}`,
    metadata: {
      classes: JSON.stringify(Array.from({ length: info.classes }, (_, i) => String(i))),
      attributes: JSON.stringify(info.attributeNames),
      ink: JSON.stringify({ names: INK, mean: info.inkScale.mean, std: info.inkScale.std }),
      input: "pixels: [batch, height·width], row-major, scaled to [0, 1]",
    },
  });
  return file;
}
