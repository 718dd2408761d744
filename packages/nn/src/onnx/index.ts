/**
 * @zerograd/nn/onnx — ONNX export, an entry point of its own (as torch.onnx is apart from
 * training): exportOnnx and its options. The per-layer rules are in rules.ts and sequence-rules.ts;
 * saveOnnxFile (a file on disk) is in `@zerograd/nn/node`.
 */
export { exportOnnx, ZEROGRAD_VERSION, type OnnxExportOptions, type OnnxInputSpec, type OnnxDim } from "./export.js";
