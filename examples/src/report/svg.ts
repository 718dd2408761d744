/**
 * Charts as standalone SVG strings: a line chart, a grouped bar chart and a confusion matrix.
 * Pure functions of their inputs: no DOM, no scripts, no external fonts or images. Text is
 * escaped; non-finite values (NaN, ±Infinity) are skipped, so "NaN" never reaches the markup.
 */
import { escapeHtml } from "./escape.js";

/** One named sequence of values; `values[i]` is the value of the i-th step (or of the i-th group in a bar chart). */
export interface Series {
  name: string;
  values: number[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** x of `values[0]`; `values[i]` is drawn at `xStart + i`. Defaults to 1 (the first epoch). */
  xStart?: number;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** One label per group along the x axis; each series gives one bar per group. */
  groups: string[];
  series: Series[];
  width?: number;
  height?: number;
}

export interface ConfusionMatrixOptions {
  title: string;
  /** Class names, in the order of the matrix rows and columns. */
  labels: string[];
  /** `matrix[t][p]` counts the items of true class t predicted as class p. */
  matrix: number[][];
}

/** Distinct colours for series; past the tenth series they repeat with a dashed line. */
export const PALETTE = [
  "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c",
  "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d",
] as const;

const colourOf = (index: number) => PALETTE[index % PALETTE.length]!;
const dashOf = (index: number) => (index < PALETTE.length ? "" : ' stroke-dasharray="6 3"');

// ---------------------------------------------------------------------------------------------
// Nice ticks

export interface Ticks {
  /** The axis range, widened from the data range to whole multiples of `step`. */
  min: number;
  max: number;
  step: number;
  values: number[];
}

/**
 * Tick marks at round numbers (1, 2 or 5 times a power of ten) covering [min, max], about
 * `target` of them. A single value or an empty range is widened first, so that the axis always
 * has some extent. With `integer`, the step is at least 1 (for counts such as epochs).
 */
export function niceTicks(min: number, max: number, target = 5, integer = false): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) [min, max] = [0, 1];
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) / 2;
    [min, max] = [min - pad, max + pad];
  }
  const rough = (max - min) / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power; // in [1, 10)
  let step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
  if (integer) step = Math.max(1, Math.round(step));

  const first = Math.floor(min / step);
  const last = Math.ceil(max / step);
  // Round each tick to the step's decimals so that 0.1 + 0.2 shows as 0.3, not 0.30000000000000004.
  const decimals = decimalsOf(step);
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(Number((k * step).toFixed(decimals)));
  return { min: values[0]!, max: values[values.length - 1]!, step, values };
}

/** Digits after the decimal point needed to write multiples of `step` (a 1-2-5 step) exactly. */
function decimalsOf(step: number): number {
  return Math.min(20, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

function formatTick(value: number, step: number): string {
  return value.toFixed(decimalsOf(step));
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** A coordinate with at most two decimals, to keep the markup short. Inputs are always finite. */
const num = (v: number) => String(Math.round(v * 100) / 100);

/** A linear map from [d0, d1] onto [r0, r1]. */
function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Rough text width in pixels for a 12 px sans-serif font; enough to size margins. */
const textWidth = (text: string, fontSize = 12) => text.length * fontSize * 0.6;

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? " " + attrs : ""}>${escapeHtml(content)}</text>`;
}

function openSvg(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `role="img" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeHtml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(width / 2, 22, title, 'text-anchor="middle" font-size="15" font-weight="bold"'),
  ];
}

interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Horizontal grid lines with tick labels on the left, and the rotated y-axis title. */
function yAxis(area: PlotArea, ticks: Ticks, y: (v: number) => number, label: string): string[] {
  const out: string[] = [];
  for (const value of ticks.values) {
    const py = y(value);
    out.push(`<line x1="${num(area.left)}" y1="${num(py)}" x2="${num(area.right)}" y2="${num(py)}" stroke="#e5e7eb"/>`);
    out.push(text(area.left - 6, py + 4, formatTick(value, ticks.step), 'text-anchor="end" fill="#374151"'));
  }
  const cx = 16;
  const cy = (area.top + area.bottom) / 2;
  out.push(text(cx, cy, label, `text-anchor="middle" transform="rotate(-90 ${num(cx)} ${num(cy)})"`));
  return out;
}

/** The two axis lines along the left and bottom edges of the plot area. */
function axisLines(area: PlotArea): string {
  return (
    `<path d="M${num(area.left)} ${num(area.top)} V${num(area.bottom)} H${num(area.right)}" ` +
    `fill="none" stroke="#374151"/>`
  );
}

/** Width the legend needs to the right of the plot (0 when there is nothing to list). */
function legendWidth(series: Series[]): number {
  if (series.length === 0) return 0;
  return 40 + Math.max(...series.map((s) => textWidth(legendName(s))));
}

const legendName = (s: Series) => (s.values.some(Number.isFinite) ? s.name : `${s.name} (no data)`);

/** A colour swatch and name per series, stacked from the top right of the plot. */
function legend(series: Series[], x: number, top: number, swatch: "line" | "box"): string[] {
  const out: string[] = [];
  series.forEach((s, i) => {
    const y = top + 10 + i * 18;
    out.push(
      swatch === "line"
        ? `<line x1="${num(x)}" y1="${num(y)}" x2="${num(x + 18)}" y2="${num(y)}" stroke="${colourOf(i)}" stroke-width="2.5"${dashOf(i)}/>`
        : `<rect x="${num(x + 4)}" y="${num(y - 5)}" width="10" height="10" fill="${colourOf(i)}"/>`,
    );
    out.push(text(x + 24, y + 4, legendName(s)));
  });
  return out;
}

/** The finite values among all series, as [min, max]; [NaN, NaN] when there are none. */
function finiteRange(series: Series[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) {
    for (const v of s.values) {
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? [min, max] : [NaN, NaN];
}

// ---------------------------------------------------------------------------------------------
// Line chart

/**
 * A line chart of one or more series against the step index. A non-finite value leaves a gap
 * in its line; a point with no finite neighbour is drawn as a dot. Series with no finite value
 * appear in the legend marked "(no data)".
 */
export function lineChart({ title, xLabel, yLabel, series, width = 640, height = 360, xStart = 1 }: LineChartOptions): string {
  const area: PlotArea = { left: 72, right: width - 16 - legendWidth(series), top: 40, bottom: height - 48 };
  const longest = Math.max(0, ...series.map((s) => s.values.length));
  const xTicks = niceTicks(xStart, xStart + Math.max(0, longest - 1), 6, Number.isInteger(xStart));
  const [lo, hi] = finiteRange(series);
  const yTicks = niceTicks(lo, hi, 5);
  const x = scale(xTicks.min, xTicks.max, area.left, area.right);
  const y = scale(yTicks.min, yTicks.max, area.bottom, area.top);

  const out = openSvg(width, height, title);
  out.push(...yAxis(area, yTicks, y, yLabel));
  for (const value of xTicks.values) {
    const px = x(value);
    out.push(`<line x1="${num(px)}" y1="${num(area.bottom)}" x2="${num(px)}" y2="${num(area.bottom + 5)}" stroke="#374151"/>`);
    out.push(text(px, area.bottom + 18, formatTick(value, xTicks.step), 'text-anchor="middle" fill="#374151"'));
  }
  out.push(text((area.left + area.right) / 2, height - 10, xLabel, 'text-anchor="middle"'));
  out.push(axisLines(area));

  series.forEach((s, i) => {
    for (const segment of finiteRuns(s.values)) {
      const points = segment.map(([index, value]) => `${num(x(xStart + index))} ${num(y(value))}`);
      if (points.length === 1) {
        const [px, py] = points[0]!.split(" ");
        out.push(`<circle cx="${px}" cy="${py}" r="2.5" fill="${colourOf(i)}"/>`);
      } else {
        out.push(
          `<path d="M${points.join(" L")}" fill="none" stroke="${colourOf(i)}" stroke-width="2" ` +
            `stroke-linejoin="round"${dashOf(i)}/>`,
        );
      }
    }
  });
  if (Number.isNaN(lo)) out.push(text((area.left + area.right) / 2, (area.top + area.bottom) / 2, "no data", 'text-anchor="middle" fill="#6b7280"'));
  out.push(...legend(series, area.right + 16, area.top, "line"));
  out.push("</svg>");
  return out.join("\n");
}

/** Splits values into runs of consecutive finite values, each kept as [index, value] pairs. */
function finiteRuns(values: number[]): [number, number][][] {
  const runs: [number, number][][] = [];
  let current: [number, number][] = [];
  values.forEach((value, index) => {
    if (Number.isFinite(value)) {
      current.push([index, value]);
    } else if (current.length > 0) {
      runs.push(current);
      current = [];
    }
  });
  if (current.length > 0) runs.push(current);
  return runs;
}

// ---------------------------------------------------------------------------------------------
// Grouped bar chart

/**
 * Bars grouped along the x axis: for each group, one bar per series, side by side. Bars start
 * at zero (negative values hang below it); non-finite values leave their slot empty.
 */
export function barChart({ title, yLabel, groups, series, width = 640, height = 360 }: BarChartOptions): string {
  const area: PlotArea = { left: 72, right: width - 16 - legendWidth(series), top: 40, bottom: height - 40 };
  const [lo, hi] = finiteRange(series);
  // The value axis always includes zero, where the bars start.
  const yTicks = Number.isNaN(lo) ? niceTicks(0, 1) : niceTicks(Math.min(0, lo), Math.max(0, hi), 5);
  const y = scale(yTicks.min, yTicks.max, area.bottom, area.top);

  const out = openSvg(width, height, title);
  out.push(...yAxis(area, yTicks, y, yLabel));

  const band = (area.right - area.left) / Math.max(1, groups.length);
  const barWidth = (band * 0.8) / Math.max(1, series.length);
  groups.forEach((group, g) => {
    const bandLeft = area.left + g * band;
    out.push(text(bandLeft + band / 2, area.bottom + 18, group, 'text-anchor="middle" fill="#374151"'));
    series.forEach((s, i) => {
      const value = s.values[g];
      if (value === undefined || !Number.isFinite(value)) return;
      const top = y(Math.max(0, value));
      const barHeight = Math.abs(y(value) - y(0));
      out.push(
        `<rect x="${num(bandLeft + band * 0.1 + i * barWidth)}" y="${num(top)}" width="${num(barWidth)}" ` +
          `height="${num(barHeight)}" fill="${colourOf(i)}"><title>${escapeHtml(`${s.name}, ${group}: ${value}`)}</title></rect>`,
      );
    });
  });
  // The zero line, drawn over the bars.
  out.push(`<line x1="${num(area.left)}" y1="${num(y(0))}" x2="${num(area.right)}" y2="${num(y(0))}" stroke="#374151"/>`);
  out.push(axisLines(area));
  out.push(...legend(series, area.right + 16, area.top, "box"));
  out.push("</svg>");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Confusion matrix

/**
 * A confusion matrix as a heat map: row = true class, column = predicted class. Each cell shows
 * its count; its shade is the count's share of its row (the fraction of that true class that got
 * this prediction), so rare and common classes read alike. Hovering a cell shows the details.
 */
export function confusionMatrix({ title, labels, matrix }: ConfusionMatrixOptions): string {
  const n = labels.length;
  checkSquare(matrix, n);

  const cell = n <= 10 ? 40 : Math.max(14, Math.floor(440 / n));
  const labelWidth = Math.max(...labels.map((l) => textWidth(l)), 12);
  const left = 36 + labelWidth + 8; // room for the rotated axis title and the row labels
  const top = 48;
  const width = Math.max(left + n * cell + 16, textWidth(title, 15) + 32);
  const height = top + n * cell + 56;

  const out = openSvg(width, height, title);
  for (let t = 0; t < n; t++) {
    const row = matrix[t]!;
    const rowTotal = row.reduce((a, b) => a + b, 0);
    const rowY = top + t * cell;
    out.push(text(left - 8, rowY + cell / 2 + 4, labels[t]!, 'text-anchor="end"'));
    for (let p = 0; p < n; p++) {
      const count = row[p]!;
      const share = rowTotal > 0 ? count / rowTotal : 0;
      const cellX = left + p * cell;
      const tip = `true ${labels[t]!}, predicted ${labels[p]!}: ${count} (${(share * 100).toFixed(1)}% of row)`;
      out.push(
        `<rect x="${num(cellX)}" y="${num(rowY)}" width="${cell}" height="${cell}" fill="${shade(share)}" stroke="#ffffff">` +
          `<title>${escapeHtml(tip)}</title></rect>`,
      );
      if (cell >= 20) {
        const ink = share > 0.5 ? "#ffffff" : "#111827";
        const size = cell >= 36 ? 12 : 9;
        out.push(text(cellX + cell / 2, rowY + cell / 2 + size / 3, String(count), `text-anchor="middle" font-size="${size}" fill="${ink}"`));
      }
    }
  }
  const gridBottom = top + n * cell;
  for (let p = 0; p < n; p++) {
    out.push(text(left + p * cell + cell / 2, gridBottom + 16, labels[p]!, 'text-anchor="middle"'));
  }
  out.push(text(left + (n * cell) / 2, gridBottom + 40, "predicted class", 'text-anchor="middle" font-weight="bold"'));
  const cy = top + (n * cell) / 2;
  out.push(text(18, cy, "true class", `text-anchor="middle" font-weight="bold" transform="rotate(-90 18 ${num(cy)})"`));
  out.push("</svg>");
  return out.join("\n");
}

/** Throws unless `matrix` is n × n of finite, non-negative counts. */
function checkSquare(matrix: number[][], n: number): void {
  if (matrix.length !== n) {
    throw new RangeError(`confusionMatrix: expected ${n} rows (one per label), found ${matrix.length}`);
  }
  matrix.forEach((row, t) => {
    if (row.length !== n) throw new RangeError(`confusionMatrix: row ${t} has ${row.length} columns, expected ${n}`);
    row.forEach((count, p) => {
      if (!(Number.isFinite(count) && count >= 0)) {
        throw new RangeError(`confusionMatrix: matrix[${t}][${p}] is ${count}; counts must be finite and non-negative`);
      }
    });
  });
}

/** White at 0, deep blue at 1, linearly in RGB. */
function shade(fraction: number): string {
  const mix = (from: number, to: number) => Math.round(from + (to - from) * fraction);
  return `rgb(${mix(255, 8)},${mix(255, 48)},${mix(255, 107)})`;
}
