/** Command-line flags of the main job, checked up front: a bad flag is an exit-code-2 message. */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
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
  /** fit()'s per-epoch lines for every strategy (default: one line per strategy). */
  verbose: boolean;
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
  verbose: false,
};

export const USAGE = `Usage: pnpm demo [options]

Trains one model with a shared trunk and three heads (class, attributes, ink) on handwritten
digits (or Fashion-MNIST with --data) whose labels are partly missing, three ways — masked
losses, dropping incomplete samples, imputing missing labels as 0 — and compares them on a fully
labelled test split. Prints a line per strategy, then the table; writes an HTML report.

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
  --verbose          fit()'s line per epoch for each strategy (its ink errors are in standardised units)
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
      args: joinNegativeValues(argv),
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
        verbose: { type: "boolean", short: "v" },
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
    verbose: v.verbose ?? false,
  };
}

/**
 * `--epochs -1` as `--epochs=-1`: a value that looks like a negative number belongs to the flag
 * before it, so that the flag's own check reports it (parseArgs would call it ambiguous).
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (/^--[a-z-]+$/.test(argv[i]!) && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) out.push(`${argv[i]}=${next}`), i++;
    else out.push(argv[i]!);
  }
  return out;
}

/** Pseudo file systems where a report must not go (a write there can fail late or block). */
const PSEUDO = ["/proc", "/sys", "/dev"];

/**
 * Checks --out before any training: not under a pseudo file system, not a folder, and its folder
 * (created if missing) takes a new file. Returns the absolute path; throws a UsageError saying why.
 */
export function prepareOutput(path: string, flag = "--out"): string {
  const out = resolve(path);
  const fail = (why: string): never => {
    throw new UsageError(`${flag} ${path}: ${why}`);
  };
  if (PSEUDO.some((p) => out === p || out.startsWith(`${p}/`))) fail(`${out} is on a system pseudo file system (${PSEUDO.join(", ")}); choose a file in a normal folder`);
  const dir = dirname(out);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    fail(`cannot create the folder ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!statSync(dir).isDirectory()) fail(`${dir} is not a folder`);
  const existing = statSync(out, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) fail(`${out} exists and is not a regular file`);
  const probe = `${dir}/.${basename(out)}.${process.pid}.probe`;
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (e) {
    fail(`cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return out;
}
