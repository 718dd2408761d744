/**
 * @zerograd/nn/node — files on disk for Node (and Bun and Deno through their `node:` modules):
 * weights and checkpoints written atomically (a crash never leaves a half-written file), into
 * directories created as needed. A file-system error is a FileError naming the helper and the
 * path; a bad file's format error names them too.
 */
import type { AnyModule } from "./module.js";
import { decodeFile, readBytes, writeAtomically } from "./node-io.js";
import { type TrainingCheckpoint, type WeightsLayout, type WeightsOptions, decodeCheckpoint, encodeCheckpoint, encodeWeights, loadWeights } from "./serialize.js";
import { type Callback, type ModelCheckpointOptions, modelCheckpoint } from "./train/callbacks.js";

export { saveOnnxFile } from "./onnx/node-file.js";
export { writeFileAtomic, readFileBytes, saveSafetensors, loadSafetensors, FileError, type AtomicWriteHooks } from "./node-io.js";

/** Writes the model's weights as a safetensors file, atomically. */
export async function saveWeightsFile(model: AnyModule, path: string, options: WeightsOptions = {}): Promise<void> {
  await writeAtomically("saveWeightsFile", path, encodeWeights(model, options));
}

/** Loads a safetensors file into the model; the file and every shape are checked first, so on an error the model is untouched. */
export async function loadWeightsFile(model: AnyModule, path: string, options: { strict?: boolean; layout?: WeightsLayout } = {}): Promise<void> {
  const op = "loadWeightsFile";
  decodeFile(op, path, await readBytes(op, path), (bytes) => loadWeights(model, bytes, options));
}

/** Writes a training checkpoint, atomically. */
export async function saveCheckpointFile(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  await writeAtomically("saveCheckpointFile", path, encodeCheckpoint(checkpoint));
}

/** Reads a training checkpoint (give it to fit() as `resume`); a damaged file (its checksum differs) is refused. */
export async function loadCheckpointFile(path: string): Promise<TrainingCheckpoint> {
  const op = "loadCheckpointFile";
  return decodeFile(op, path, await readBytes(op, path), decodeCheckpoint);
}

/**
 * modelCheckpoint writing to files: `{epoch}` in the path becomes the 1-based epoch number
 * (e.g. "checkpoints/epoch-{epoch}.safetensors"; the directory is created if missing); without
 * it, each save replaces the file.
 */
export function modelCheckpointFile(path: string, options: Omit<ModelCheckpointOptions, "save"> = {}): Callback {
  return modelCheckpoint({ ...options, save: (bytes, { epoch }) => writeAtomically("modelCheckpointFile", path.replaceAll("{epoch}", String(epoch + 1)), bytes) });
}
