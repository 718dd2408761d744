/**
 * The sequence job (`pnpm demo:words`): which language is a word in, from its characters, with
 * masks and without; and a character language model per language. A table in the terminal and
 * an HTML report on disk.
 */
import { writeFileAtomic } from "@zerograd/nn/node";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { USAGE, UsageError, parseWordsArgs } from "./words/cli.js";
import { DataLoadError } from "./words/data.js";
import { runWordsJob } from "./words/job.js";
import { htmlReport, textTable } from "./words/summary.js";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseWordsArgs(argv);
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
  let result;
  try {
    result = await runWordsJob(options, options.quiet ? () => {} : (line) => write(`${line}\n`));
  } catch (e) {
    if (e instanceof DataLoadError) {
      process.stderr.write(`error: cannot use the data: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  write(`\n${result.trainCount} training / ${result.testCount} test words, ${result.vocabularySize} character ids\n\n${textTable(result)}`);
  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFileAtomic(out, new TextEncoder().encode(htmlReport(result, options.seed)));
  write(`Report: ${out} (${result.seconds.toFixed(1)} s)\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
