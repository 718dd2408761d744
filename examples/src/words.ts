/**
 * The sequence job (`pnpm demo:words`): which language is a word in, from its characters, with
 * masks and without; and a character language model per language. A table in the terminal and
 * an HTML report on disk.
 */
import { writeFileAtomic } from "@zerograd/nn/node";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { USAGE, UsageError, type WordsOptions, parseWordsArgs } from "./words/cli.js";
import { DataLoadError } from "./words/data.js";
import { runWordsJob } from "./words/job.js";
import { htmlReport, textTable } from "./words/summary.js";

/** Prints why and gives exit code 2 (bad flags, unusable data). */
function refuse(message: string): number {
  process.stderr.write(message);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  let options: WordsOptions | "help";
  try {
    options = parseWordsArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return refuse(`error: ${e.message}\n\n${USAGE}`);
  }
  if (options === "help") return (process.stdout.write(USAGE), 0);
  const write = (s: string) => void process.stdout.write(s);
  const log = options.quiet ? () => {} : (line: string) => write(`${line}\n`);
  const result = await runWordsJob(options, log).catch((e: unknown) => {
    if (e instanceof DataLoadError) return e;
    throw e;
  });
  if (result instanceof DataLoadError) return refuse(`error: cannot use the data: ${result.message}\n`);
  write(`\n${result.trainCount} training / ${result.testCount} test words, ${result.vocabularySize} character ids\n\n${textTable(result)}`);
  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFileAtomic(out, new TextEncoder().encode(htmlReport(result, options.seed)));
  write(`Report: ${out} (${result.seconds.toFixed(1)} s)\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
