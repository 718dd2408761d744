/** Writing an exported ONNX model to a file (Node). */
import type { AnyModule } from "../module.js";
import { writeFileAtomic } from "../node-io.js";
import { type OnnxExportOptions, exportOnnx } from "./export.js";

/** Exports the model (see exportOnnx) and writes the .onnx file atomically. */
export async function saveOnnxFile(model: AnyModule, path: string, options: OnnxExportOptions): Promise<void> {
  await writeFileAtomic(path, exportOnnx(model, options));
}
