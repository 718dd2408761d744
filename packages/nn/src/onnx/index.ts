/** ONNX export: exportOnnx and its options; the per-layer rules are in rules.ts. */
export { exportOnnx, ZEROGRAD_VERSION, type OnnxExportOptions, type OnnxInputSpec, type OnnxDim } from "./export.js";
