/** What the numbers were measured on: CPU, cores, memory, runtime, OS, date and peer versions. */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import type { TfjsInfo } from "./tfjs.js";

export interface Machine {
  cpu: string;
  cores: number;
  /** SIMD extensions the CPU reports (WebAssembly SIMD is 128-bit whatever these say). */
  simd: string[];
  memoryGiB: number;
  node: string;
  v8: string;
  os: string;
  date: string;
  tinybench: string;
  /** 1-, 5- and 15-minute load averages when the run ended (above the core count: a shared, busy machine). */
  loadAverage: number[];
}

function cpuInfo(): { model: string; flags: string[] } {
  let model = os.cpus()[0]?.model ?? "unknown";
  let flags: string[] = [];
  if (existsSync("/proc/cpuinfo")) {
    const text = readFileSync("/proc/cpuinfo", "utf8");
    model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? model;
    flags = /^flags\s*:\s*(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  }
  return { model, flags };
}

function packageVersion(name: string): string {
  const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  if (!existsSync(file)) return "unknown";
  return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? "unknown";
}

export function describeMachine(): Machine {
  const { model, flags } = cpuInfo();
  return {
    cpu: model,
    cores: os.cpus().length,
    simd: ["sse4_2", "avx", "avx2", "fma", "avx512f"].filter((f) => flags.includes(f)),
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} (${os.platform()}-${os.arch()})`,
    date: new Date().toISOString(),
    tinybench: packageVersion("tinybench"),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The machine and peer versions as a Markdown bullet list. */
export function machineMarkdown(m: Machine, tfjs: TfjsInfo): string {
  return [
    `- CPU: ${m.cpu}, ${m.cores} logical cores${m.simd.length ? ` (${m.simd.join(", ")})` : ""}`,
    `- Memory: ${m.memoryGiB.toFixed(1)} GiB`,
    `- Runtime: Node ${m.node} (V8 ${m.v8})`,
    `- OS: ${m.os}`,
    `- Date: ${m.date}`,
    `- Load average (1, 5, 15 min) at the end of the run: ${m.loadAverage.join(", ")} on ${m.cores} cores`,
    `- Peers: @tensorflow/tfjs-core ${tfjs.core}, tfjs-backend-cpu ${tfjs.cpu}, tfjs-backend-wasm ${tfjs.wasm} ` +
      `(SIMD ${tfjs.wasmSimd ? "on" : "off"}, threads ${tfjs.wasmThreads ? "on" : "off"})`,
    `- Harness: tinybench ${m.tinybench}`,
  ].join("\n");
}
