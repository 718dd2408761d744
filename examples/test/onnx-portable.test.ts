/**
 * ONNX export runs in QuickJS, which has no TextEncoder and whose BigInt.asUintN leaves negative
 * values negative (int64 fields such as a Reshape's -1 were written as one bad byte): bundled, the
 * exporter (with the sequence layers' rules) writes there byte for byte the file Node writes.
 */
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { decodeModel } from "../../packages/nn/src/onnx/proto.js";
import { run } from "../src/portable/onnx.js";
import { bundle, runInQuickJS } from "./runtimes.js";

test("QuickJS exports bitwise the ONNX file Node exports (a GRU, non-ASCII metadata)", async () => {
  const inNode = run();
  const model = decodeModel(Uint8Array.from(inNode.match(/../g)!, (h) => parseInt(h, 16)));
  expect(model.graph.nodes.map((n) => n.opType)).toContain("GRU");
  expect(JSON.parse(model.metadata.vocabulary!)).toEqual(["<pad>", "naïve", "Grüße", "日本", "𝄞"]);
  expect(model.docString).toBe("tokens → classes");
  const entry = fileURLToPath(new URL("../src/portable/onnx.ts", import.meta.url));
  const inQuickJS = await runInQuickJS<string>(await bundle(entry), `import { run } from "zerograd-program"; globalThis.result = JSON.stringify(run());`);
  expect(inQuickJS).toBe(inNode);
});
