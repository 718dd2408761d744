/**
 * The Worker: fetches the embedded digits (data/digits.csv.gz, served next to the page),
 * decompresses them with the web-standard DecompressionStream, and runs the main job's three
 * strategies — masked losses, dropping incomplete samples, imputing 0 — posting every epoch's
 * logs so that the page draws the curves while it trains. The page's thread never trains.
 */
import { gunzip } from "../../src/data/gzip.js";
import { parseDigitsCsv } from "../../src/data/csv.js";
import { splitDataset } from "../../src/data/dataset.js";
import { DEFAULTS } from "../../src/multitask/cli.js";
import { compareStrategies } from "../../src/multitask/job.js";
import type { TrainRequest, WorkerMessage } from "./messages.js";

const post = (m: WorkerMessage) => (globalThis as unknown as { postMessage(m: WorkerMessage): void }).postMessage(m);

async function train(request: TrainRequest): Promise<void> {
  const started = performance.now();
  const response = await fetch(new URL("./digits.csv.gz", location.href));
  if (!response.ok) throw new Error(`digits.csv.gz: HTTP ${response.status}`);
  const text = new TextDecoder().decode(await gunzip(new Uint8Array(await response.arrayBuffer()), "digits.csv.gz"));
  const options = { ...DEFAULTS, ...request, out: "", data: undefined };
  const { train, test } = splitDataset(parseDigitsCsv(text, "digits.csv.gz"), options.testFraction, options.seed);
  const name = "UCI handwritten digits (embedded, 8×8)";
  post({ type: "data", name, trainCount: train.count, testCount: test.count, epochs: options.epochs });
  const job = await compareStrategies({ name, train, test }, options, {
    write: () => {},
    verbose: "silent",
    onEpoch: (strategy, epoch, logs) => post({ type: "epoch", strategy, epoch, logs: { ...logs } }),
  });
  post({ type: "done", job, seconds: (performance.now() - started) / 1000 });
}

addEventListener("message", (event) => {
  train((event as MessageEvent<TrainRequest>).data).catch((e: unknown) => post({ type: "error", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }));
});
