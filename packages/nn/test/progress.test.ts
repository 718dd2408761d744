import { afterEach, describe, expect, test } from "vitest";
import {
  createProgress,
  defaultProgressMode,
  formatDuration,
  formatMetric,
  formatStepTime,
  ProgressBar,
  type ProgressMode,
} from "../src/progress.js";

/** A progress display writing into an array, with a clock the test moves by hand. */
function setup(mode: ProgressMode, total = 47, extra: { width?: number; label?: string } = {}) {
  const written: string[] = [];
  const clock = { ms: 1_000 };
  const progress = createProgress({
    total,
    mode,
    label: "label" in extra ? extra.label : "Epoch 3/10",
    width: extra.width ?? 30,
    write: (s) => written.push(s),
    now: () => clock.ms,
  });
  return { progress, written, clock };
}

describe("bar mode", () => {
  test("redraws one line with \\r, showing the counter, the bar, the ETA and the metrics", () => {
    const { progress, written, clock } = setup("bar", 47, { width: 13 });
    clock.ms += 12 * 250; // 12 steps at 250 ms each
    progress.update(12, { loss: 0.1234, acc: 0.95 });
    // 35 steps left at 0.25 s → 8.75 s, shown rounded down.
    expect(written).toEqual(["\rEpoch 3/10  12/47 [==>..........] - ETA: 8s - loss: 0.1234 - acc: 0.9500"]);
  });

  test("end() prints the full bar, elapsed and per-step time, then a newline", () => {
    const { progress, written, clock } = setup("bar", 47);
    clock.ms += 5_000;
    progress.end({ loss: 0.1198, acc: 0.953125 });
    expect(written).toEqual([
      "\rEpoch 3/10  47/47 [==============================] - 5s 106ms/step - loss: 0.1198 - acc: 0.9531\n",
    ]);
  });

  test("pads the counter and blanks leftovers of a longer previous line", () => {
    const { progress, written, clock } = setup("bar", 100, { width: 10, label: "" });
    clock.ms += 100;
    progress.update(5, { loss: 123.456789 });
    clock.ms += 100;
    progress.update(50, {});
    expect(written[0]).toBe("\r  5/100 [..........] - ETA: 1s - loss: 123.4568");
    const second = "\r 50/100 [====>.....] - ETA: 0s";
    expect(written[1]).toBe(second + " ".repeat(written[0]!.length - second.length));
  });

  test("throttles redraws to one per 50 ms of the injected clock, but always draws the last step", () => {
    const { progress, written, clock } = setup("bar", 10);
    progress.update(1); // first update: drawn
    clock.ms += 20;
    progress.update(2); // 20 ms later: skipped
    clock.ms += 29;
    progress.update(3); // 49 ms after the last draw: skipped
    clock.ms += 1;
    progress.update(4); // 50 ms: drawn
    clock.ms += 1;
    progress.update(10); // last step: drawn although only 1 ms passed
    expect(written.map((s) => s.match(/(\d+)\/10 \[/)![1])).toEqual(["1", "4", "10"]);
    clock.ms += 1;
    progress.end(); // end is never throttled
    expect(written).toHaveLength(4);
    expect(written[3]!.endsWith("\n")).toBe(true);
  });

  test("step 0 shows an empty bar and no ETA", () => {
    const { progress, written } = setup("bar", 4, { width: 8, label: "" });
    progress.update(0);
    expect(written).toEqual(["\r0/4 [........]"]);
  });
});

describe("line mode", () => {
  test("prints exactly one line per end(), with no carriage return", () => {
    const written: string[] = [];
    const clock = { ms: 0 };
    for (let epoch = 1; epoch <= 3; epoch++) {
      const progress = createProgress({ total: 4, label: `Epoch ${epoch}/3`, mode: "line", write: (s) => written.push(s), now: () => clock.ms });
      for (let step = 1; step <= 4; step++) {
        clock.ms += 30;
        progress.update(step, { loss: 1 / step });
      }
      progress.end({ loss: 0.25 });
    }
    expect(written).toEqual([
      "Epoch 1/3  4/4 - 0s 30ms/step - loss: 0.2500\n",
      "Epoch 2/3  4/4 - 0s 30ms/step - loss: 0.2500\n",
      "Epoch 3/3  4/4 - 0s 30ms/step - loss: 0.2500\n",
    ]);
    expect(written.join("")).not.toContain("\r");
  });
});

describe("silent mode", () => {
  test("prints nothing", () => {
    const { progress, written, clock } = setup("silent", 3);
    for (let step = 1; step <= 3; step++) {
      clock.ms += 100;
      progress.update(step, { loss: 1 });
    }
    progress.end({ loss: 1 });
    expect(written).toEqual([]);
  });
});

describe("checks", () => {
  test("rejects bad options and steps, and use after end()", () => {
    const write = () => {};
    expect(() => new ProgressBar({ total: -1, mode: "bar", write })).toThrow("ProgressBar: total must be an integer ≥ 0, got -1");
    expect(() => new ProgressBar({ total: 3, mode: "fancy" as never, write })).toThrow(
      'ProgressBar: mode must be one of "bar", "line", "silent", got "fancy"',
    );
    const { progress } = setup("line", 5);
    expect(() => progress.update(6)).toThrow("ProgressBar.update: step must be an integer in [0, 5], got 6");
    progress.end();
    expect(() => progress.update(1)).toThrow("ProgressBar.update: the progress display has already ended");
    expect(() => progress.end()).toThrow("ProgressBar.end: the progress display has already ended");
  });

  test("a run with no steps still ends cleanly", () => {
    const { progress, written } = setup("bar", 0, { width: 4, label: "" });
    progress.update(0);
    progress.end();
    expect(written).toEqual(["\r0/0 [====]", "\r0/0 [====] - 0s\n"]);
  });
});

describe("formatting", () => {
  test("metrics: 4 decimals, exponent form at or below 1e-3, Python's nan and inf", () => {
    expect(formatMetric(0.12344)).toBe("0.1234");
    expect(formatMetric(0.95)).toBe("0.9500");
    expect(formatMetric(-2.5)).toBe("-2.5000");
    expect(formatMetric(1234.56789)).toBe("1234.5679");
    expect(formatMetric(0.0011)).toBe("0.0011");
    expect(formatMetric(0.001)).toBe("1.0000e-03");
    expect(formatMetric(1.23456e-5)).toBe("1.2346e-05");
    expect(formatMetric(-4e-7)).toBe("-4.0000e-07");
    expect(formatMetric(1e-123)).toBe("1.0000e-123");
    expect(formatMetric(0)).toBe("0.0000");
    expect(formatMetric(NaN)).toBe("nan");
    expect(formatMetric(Infinity)).toBe("inf");
    expect(formatMetric(-Infinity)).toBe("-inf");
  });

  test("durations: 4s, 1:05, 1:02:03", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(4.9)).toBe("4s");
    expect(formatDuration(59.99)).toBe("59s");
    expect(formatDuration(60)).toBe("1:00");
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(3599)).toBe("59:59");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(100 * 3600)).toBe("100:00:00");
    expect(formatDuration(Infinity)).toBe("?");
  });

  test("time per step: s, ms or us", () => {
    expect(formatStepTime(2.4)).toBe("2s/step");
    expect(formatStepTime(0.106)).toBe("106ms/step");
    expect(formatStepTime(0.000085)).toBe("85us/step");
  });
});

describe("defaultProgressMode", () => {
  const stdout = process.stdout as { isTTY?: boolean };
  const original = stdout.isTTY;
  afterEach(() => {
    stdout.isTTY = original;
  });

  test("is 'bar' on a terminal and 'line' otherwise", () => {
    stdout.isTTY = true;
    expect(defaultProgressMode()).toBe("bar");
    stdout.isTTY = false;
    expect(defaultProgressMode()).toBe("line");
    stdout.isTTY = undefined;
    expect(defaultProgressMode()).toBe("line");
  });
});
