/** Command-line flags of the words job, checked up front: a bad flag is an exit-code-2 message. */
import { parseArgs } from "node:util";
import { DEFAULT_WORDS_PATH } from "./data.js";

export interface WordsOptions {
  epochs: number;
  lmEpochs: number;
  batchSize: number;
  dim: number;
  seed: number;
  learningRate: number;
  testCount: number;
  data: string;
  out: string;
  quiet: boolean;
}

export const DEFAULTS: WordsOptions = {
  epochs: 2,
  lmEpochs: 2,
  batchSize: 64,
  dim: 32,
  seed: 1,
  learningRate: 0.003,
  testCount: 4000,
  data: DEFAULT_WORDS_PATH,
  out: "out/words-report.html",
  quiet: false,
};

export const USAGE = `Usage: pnpm demo:words [options]

Language identification of single words (English, Spanish, Dutch, Polish) from their characters
with a small Transformer and masked pooling — against the same model with the masks switched
off and a bag-of-characters logistic regression — and a character language model per language.

Options:
  --epochs N        training epochs of each classifier (default ${DEFAULTS.epochs})
  --lm-epochs N     training epochs of the language model (default ${DEFAULTS.lmEpochs})
  --batch-size N    words per step (default ${DEFAULTS.batchSize})
  --dim N           model width (default ${DEFAULTS.dim}; a multiple of 2)
  --lr X            Adam learning rate (default ${DEFAULTS.learningRate})
  --test-count N    held-out words (default ${DEFAULTS.testCount})
  --seed N          seed for the split, initialisation, shuffling and sampling (default ${DEFAULTS.seed})
  --data FILE       word<TAB>language lines, optionally gzip-compressed (default: data/words.tsv.gz)
  --out FILE        where to write the HTML report (default ${DEFAULTS.out})
  --quiet           only the final table
  --help            this text
`;

/** Thrown for bad flags; the caller prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return v;
}

const FLAGS = {
  ...Object.fromEntries(["epochs", "lm-epochs", "batch-size", "dim", "lr", "test-count", "seed", "data", "out"].map((k) => [k, { type: "string" as const }])),
  quiet: { type: "boolean" as const },
  help: { type: "boolean" as const, short: "h" },
};

/** node:util's parseArgs, with its errors (unknown flags, missing values) as UsageErrors. */
function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options: FLAGS });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function parseWordsArgs(argv: string[]): WordsOptions | "help" {
  const parsed = readFlags(argv);
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return "help";
  const s = (k: string) => v[k] as string | undefined;
  const lr = s("lr") === undefined ? DEFAULTS.learningRate : Number(s("lr"));
  if (!(lr > 0 && lr < 10)) throw new UsageError(`--lr: must be a positive number below 10, got ${JSON.stringify(s("lr"))}`);
  const dim = int("dim", s("dim"), DEFAULTS.dim, 2, 512);
  if (dim % 2) throw new UsageError(`--dim: must be a multiple of 2 (two attention heads), got ${dim}`);
  return {
    epochs: int("epochs", s("epochs"), DEFAULTS.epochs, 1, 1000),
    lmEpochs: int("lm-epochs", s("lm-epochs"), DEFAULTS.lmEpochs, 1, 1000),
    batchSize: int("batch-size", s("batch-size"), DEFAULTS.batchSize, 1, 4096),
    dim,
    learningRate: lr,
    testCount: int("test-count", s("test-count"), DEFAULTS.testCount, 10, 100_000),
    seed: int("seed", s("seed"), DEFAULTS.seed, 0, 2 ** 32 - 1),
    data: s("data") ?? DEFAULTS.data,
    out: s("out") ?? DEFAULTS.out,
    quiet: v.quiet === true,
  };
}
