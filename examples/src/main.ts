/**
 * The main job (`pnpm demo`): multi-task training with missing labels on the embedded digits,
 * three strategies side by side, a table in the terminal and an HTML report on disk.
 */
import type { AnyModule } from "@zerograd/nn";
import { writeFileAtomic } from "@zerograd/nn/node";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { USAGE, UsageError, parseJobArgs, prepareOutput } from "./multitask/cli.js";
import { DataLoadError, progressFor, runJob } from "./multitask/job.js";
import { type ExportInfo, exportJobModel } from "./multitask/onnx.js";
import { htmlReport, maskedWinsEverywhere, textTable } from "./multitask/summary.js";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseJobArgs(argv);
    if (options !== "help") { // outputs are checked before any training
      options.out = prepareOutput(options.out);
      if (options.exportOnnx !== undefined) options.exportOnnx = prepareOutput(options.exportOnnx, "--export-onnx");
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const write = (s: string) => void process.stdout.write(s);
  let job;
  let onnxFile: string | undefined;
  try {
    const exportTo = options.exportOnnx;
    const trained = exportTo === undefined ? undefined : async (strategy: string, model: AnyModule, info: ExportInfo) => {
      if (strategy === "masked") onnxFile = await exportJobModel(exportTo, model, info);
    };
    job = await runJob(options, { ...progressFor(options, write), trained });
  } catch (e) {
    if (e instanceof DataLoadError) {
      process.stderr.write(`error: cannot read the data: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  write(`\n${job.dataset}: ${job.trainCount} training / ${job.testCount} test images, missing rate ${options.missingRate}\n\n`);
  write(textTable(job));
  write(maskedWinsEverywhere(job) ? "\nMasked losses win or tie on every head.\n" : "\nMasked losses do not win on every head this time: see the report.\n");
  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFileAtomic(out, new TextEncoder().encode(htmlReport(job, options)));
  write(`Report: ${out}\n`);
  if (onnxFile) write(`ONNX model (masked losses): ${onnxFile}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
