/**
 * A Keras-style progress display for training loops:
 *
 *   Epoch 3/10  12/47 [=======>......................] - ETA: 4s - loss: 0.1234 - acc: 0.9500
 *   Epoch 3/10  47/47 [==============================] - 5s 106ms/step - loss: 0.1198 - acc: 0.9531
 *
 * Three modes:
 * - "bar"    for a terminal: one line redrawn in place with `\r`, at most once per `intervalMs`
 *            (the last step is always drawn); `end()` draws the final line and a newline.
 * - "line"   for logs and pipes: nothing while running, one plain line per `end()`.
 * - "silent" nothing at all.
 *
 * The display writes through the `write` function it is given and reads time through `now`,
 * so it imports nothing but the option schema and runs anywhere; tests pass a fake clock.
 */

import { type OptionsOf, custom, defineOptions, func, integer, number, oneOf } from "@zerograd/tensor";
import { type Require, parseRequired, text } from "./train/fields.js";

export type ProgressMode = "bar" | "line" | "silent";

export const PROGRESS_OPTIONS = defineOptions({
  /** Number of steps (batches) in the run; `update(total)` is the last step (required). */
  total: integer({ min: 0 }),
  /** Shown before the counter, e.g. "Epoch 3/10". */
  label: text({ default: "" }),
  /** "bar", "line" or "silent" (required). */
  mode: oneOf(["bar", "line", "silent"]),
  /** Where the text goes, e.g. `(s) => process.stdout.write(s)` (required). */
  write: func<(text: string) => void>(),
  /** Characters inside the brackets of the bar (default 30, as in Keras). */
  width: integer({ min: 0, default: 30 }),
  /** The clock in milliseconds (default `Date.now`). */
  now: custom<() => number, { default: () => number }>(
    (v, op, key) => {
      if (typeof v !== "function") throw new TypeError(`${op}: ${key} must be a function returning milliseconds`);
      return v as () => number;
    },
    { default: () => Date.now() },
  ),
  /** Least time between two redraws in "bar" mode, in milliseconds (default 50). */
  intervalMs: number({ min: 0, default: 50 }),
});
export type ProgressOptions = Require<OptionsOf<typeof PROGRESS_OPTIONS>, "total" | "mode" | "write">;

/** "bar" when standard output is a terminal, "line" otherwise (pipes, files, browsers). */
export function defaultProgressMode(): ProgressMode {
  // Read through globalThis so that no Node module or type is needed.
  const runtime = globalThis as { process?: { stdout?: { isTTY?: boolean } } };
  return runtime.process?.stdout?.isTTY === true ? "bar" : "line";
}

export function createProgress(options: ProgressOptions): ProgressBar {
  return new ProgressBar(options);
}

export class ProgressBar {
  readonly total: number;
  readonly label: string;
  readonly mode: ProgressMode;
  readonly width: number;
  readonly intervalMs: number;
  private readonly write: (text: string) => void;
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastDrawAt = -Infinity;
  private lastLineLength = 0; // to blank out the rest of a longer previous line
  private ended = false;

  constructor(options: ProgressOptions) {
    const { total, label, mode, write, width, now, intervalMs } = parseRequired(PROGRESS_OPTIONS, "ProgressBar", options, ["total", "mode", "write"]);
    this.total = total;
    this.label = label;
    this.mode = mode;
    this.write = write;
    this.width = width;
    this.now = now;
    this.intervalMs = intervalMs;
    this.startedAt = now();
  }

  /** Reports that `step` of `total` steps are done; redraws the bar if enough time passed. */
  update(step: number, metrics: Record<string, number> = {}): void {
    this.checkOpen("update");
    if (!Number.isInteger(step) || step < 0 || step > this.total) {
      throw new RangeError(`ProgressBar.update: step must be an integer in [0, ${this.total}], got ${step}`);
    }
    if (this.mode !== "bar") return;
    const time = this.now();
    const isLastStep = step === this.total;
    if (!isLastStep && time - this.lastDrawAt < this.intervalMs) return; // throttled
    this.lastDrawAt = time;

    const parts = [`${this.prefix(step)} [${this.bar(step)}]`];
    if (step > 0) {
      const secondsPerStep = (time - this.startedAt) / 1000 / step;
      parts.push(`ETA: ${formatDuration(secondsPerStep * (this.total - step))}`);
    }
    this.write(this.overwrite(joinParts(parts, metrics)));
  }

  /** Finishes the run: the final line with total and per-step time, then a newline. */
  end(metrics: Record<string, number> = {}): void {
    this.checkOpen("end");
    this.ended = true;
    if (this.mode === "silent") return;

    const seconds = (this.now() - this.startedAt) / 1000;
    const timing = this.total > 0 ? `${formatDuration(seconds)} ${formatStepTime(seconds / this.total)}` : formatDuration(seconds);
    const head = this.mode === "bar" ? `${this.prefix(this.total)} [${this.bar(this.total)}]` : this.prefix(this.total);
    const line = joinParts([head, timing], metrics);
    this.write(this.mode === "bar" ? `${this.overwrite(line)}\n` : `${line}\n`);
  }

  /** "Epoch 3/10  12/47": the counter is padded so the line does not jump as digits grow. */
  private prefix(step: number): string {
    const counter = `${String(step).padStart(String(this.total).length)}/${this.total}`;
    return this.label ? `${this.label}  ${counter}` : counter;
  }

  /** "=====>......": done steps as `=`, the current position as `>`, the rest as `.`. */
  private bar(step: number): string {
    const filled = this.total > 0 ? Math.floor((this.width * step) / this.total) : this.width;
    if (filled === 0) return ".".repeat(this.width);
    const head = step < this.total ? ">" : "=";
    return "=".repeat(filled - 1) + head + ".".repeat(this.width - filled);
  }

  /** `\r` back to the start of the line, the new line, and blanks over leftovers of a longer one. */
  private overwrite(line: string): string {
    const blank = " ".repeat(Math.max(0, this.lastLineLength - line.length));
    this.lastLineLength = line.length;
    return `\r${line}${blank}`;
  }

  private checkOpen(method: string): void {
    if (this.ended) throw new Error(`ProgressBar.${method}: the progress display has already ended`);
  }
}

/** "a - b - loss: 0.1234 - acc: 0.9500" */
function joinParts(parts: string[], metrics: Record<string, number>): string {
  const shown = Object.entries(metrics).map(([name, value]) => `${name}: ${formatMetric(value)}`);
  return [...parts, ...shown].join(" - ");
}

/**
 * Formats a metric as Keras does: 4 decimals, or 4 decimals in exponent form when |x| ≤ 1e-3
 * (`0.1234`, `1.2346e-05`), with Python's spelling of the specials (`nan`, `inf`).
 * Zero is shown as `0.0000` rather than Keras's `0.0000e+00`.
 */
export function formatMetric(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (value === 0 || Math.abs(value) > 1e-3) return value.toFixed(4);
  // toExponential gives "1.2346e-5"; Python pads the exponent to two digits: "1.2346e-05".
  return value.toExponential(4).replace(/e([+-])(\d)$/, (_, sign: string, digit: string) => `e${sign}0${digit}`);
}

/** Whole seconds as `4s`, `1:05` or `1:02:03` (rounded down, like Keras's ETA). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}:${two(m)}:${two(s)}`;
  if (m > 0) return `${m}:${two(s)}`;
  return `${s}s`;
}

/** Time per step in the largest unit that keeps it at least 1: `2s/step`, `12ms/step`, `85us/step`. */
export function formatStepTime(seconds: number): string {
  if (seconds >= 1) return `${Math.round(seconds)}s/step`;
  if (seconds >= 1e-3) return `${Math.round(seconds * 1e3)}ms/step`;
  return `${Math.round(seconds * 1e6)}us/step`;
}
