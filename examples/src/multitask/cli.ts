/** Command-line flags of the main job, checked up front: a bad flag is an exit-code-2 message. */
import { parseArgs } from "node:util";

export interface JobOptions {
  missingRate: number;
  /** Of the attribute rows that remain, the share of entries hidden one by one. */
  entryMissingRate: number;
  epochs: number;
  batchSize: number;
  seed: number;
  hidden: number;
  learningRate: number;
  out: string;
  data: string | undefined;
  /** Which attributes the attribute head learns; "auto" picks Fashion-MNIST's when --data's path says "fashion". */
  attributes: "auto" | "digits" | "fashion";
  testFraction: number;
  quiet: boolean;
  /** Where to write the masked-loss model as ONNX (none by default). */
  exportOnnx: string | undefined;
}

export const DEFAULTS: JobOptions = {
  missingRate: 0.7,
  entryMissingRate: 0.2,
  epochs: 30,
  batchSize: 32,
  seed: 1,
  hidden: 64,
  learningRate: 0.003,
  out: "out/multitask-report.html",
  data: undefined,
  attributes: "auto",
  testFraction: 0.2,
  quiet: false,
  exportOnnx: undefined,
};

export const USAGE = `Usage: pnpm demo [options]

Trains one model with a shared trunk and three heads (digit, attributes, ink) on handwritten
digits whose labels are partly missing, three ways — masked losses, dropping incomplete samples,
imputing missing labels as 0 — and compares them on a fully labelled test split.

Options:
  --missing-rate R   probability that a head's label is missing for a sample (default ${DEFAULTS.missingRate})
  --entry-missing-rate R
                     of the attribute labels left, the share hidden one entry at a time (default ${DEFAULTS.entryMissingRate})
  --epochs N         training epochs per strategy (default ${DEFAULTS.epochs})
  --batch-size N     samples per step (default ${DEFAULTS.batchSize})
  --seed N           seed for the split, the missing labels, initialisation and shuffling (default ${DEFAULTS.seed})
  --hidden N         width of the shared trunk (default ${DEFAULTS.hidden})
  --lr X             Adam learning rate (default ${DEFAULTS.learningRate})
  --out FILE         where to write the HTML report (default ${DEFAULTS.out})
  --data DIR         a folder with MNIST/Fashion-MNIST IDX files (e.g. /usr/share/datasets/fashion-mnist)
                     instead of the embedded digits
  --attributes SET   digits | fashion | auto: the attribute head's labels (default auto: fashion when the
                     --data path contains "fashion", digits otherwise)
  --quiet            no progress output, only the final table
  --export-onnx FILE write the masked-loss model as an ONNX file (served by ONNX Runtime)
  --help             this text
`;

/** Thrown for bad flags; the caller prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

function number(name: string, raw: string | undefined, fallback: number, check: (v: number) => boolean, rule: string): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || !check(v)) throw new UsageError(`--${name}: ${rule}, got ${JSON.stringify(raw)}`);
  return v;
}

export function parseJobArgs(argv: string[]): JobOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "missing-rate": { type: "string" },
        "entry-missing-rate": { type: "string" },
        epochs: { type: "string" },
        "batch-size": { type: "string" },
        seed: { type: "string" },
        hidden: { type: "string" },
        lr: { type: "string" },
        out: { type: "string" },
        data: { type: "string" },
        attributes: { type: "string" },
        quiet: { type: "boolean" },
        "export-onnx": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const int = (x: number) => Number.isInteger(x);
  const attributes = v.attributes ?? DEFAULTS.attributes;
  if (attributes !== "auto" && attributes !== "digits" && attributes !== "fashion") throw new UsageError(`--attributes: must be digits, fashion or auto, got ${JSON.stringify(attributes)}`);
  return {
    missingRate: number("missing-rate", v["missing-rate"], DEFAULTS.missingRate, (x) => x >= 0 && x < 1, "must be a number in [0, 1)"),
    entryMissingRate: number("entry-missing-rate", v["entry-missing-rate"], DEFAULTS.entryMissingRate, (x) => x >= 0 && x < 1, "must be a number in [0, 1)"),
    epochs: number("epochs", v.epochs, DEFAULTS.epochs, (x) => int(x) && x >= 1 && x <= 10_000, "must be a whole number from 1 to 10000"),
    batchSize: number("batch-size", v["batch-size"], DEFAULTS.batchSize, (x) => int(x) && x >= 1, "must be a whole number ≥ 1"),
    seed: number("seed", v.seed, DEFAULTS.seed, (x) => int(x) && x >= 0 && x < 2 ** 32, "must be a whole number in [0, 2^32)"),
    hidden: number("hidden", v.hidden, DEFAULTS.hidden, (x) => int(x) && x >= 1 && x <= 4096, "must be a whole number from 1 to 4096"),
    learningRate: number("lr", v.lr, DEFAULTS.learningRate, (x) => x > 0 && x < 10, "must be a positive number below 10"),
    out: v.out ?? DEFAULTS.out,
    data: v.data,
    attributes,
    testFraction: DEFAULTS.testFraction,
    quiet: v.quiet ?? false,
    exportOnnx: v["export-onnx"],
  };
}
