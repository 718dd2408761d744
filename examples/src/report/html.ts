/**
 * A self-contained HTML report: one file, inline CSS, inline SVG charts, no scripts and no
 * external assets, so it can be opened from disk or attached to an email.
 */
import { escapeHtml } from "./escape.js";

export { escapeHtml };

export interface ReportSection {
  heading: string;
  /** Markup built with the helpers of this module (table, the charts of svg.ts); inserted as is. */
  html: string;
}

export interface ReportOptions {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; }
.subtitle { color: #666; margin-top: 0; }
section { margin: 2rem 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }
td.num { text-align: right; }
th { background: #f5f5f5; }
svg { max-width: 100%; height: auto; }
`.trim();

/** The whole HTML document. Title, subtitle and headings are escaped; section bodies are markup. */
export function renderReport({ title, subtitle, sections }: ReportOptions): string {
  const parts = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeHtml(title)}</h1>`,
  ];
  if (subtitle !== undefined) parts.push(`<p class="subtitle">${escapeHtml(subtitle)}</p>`);
  for (const section of sections) {
    parts.push("<section>", `<h2>${escapeHtml(section.heading)}</h2>`, section.html, "</section>");
  }
  parts.push("</body>", "</html>", "");
  return parts.join("\n");
}

/**
 * Formats a number for a table cell: integers as they are, other finite numbers with four
 * significant digits, NaN as an em dash (a missing value) and infinities as ±∞.
 */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "—";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** An HTML table; every header and cell is escaped, numbers are formatted and right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = rows.map(
    (row) =>
      `<tr>${row
        .map((cell) =>
          typeof cell === "number" ? `<td class="num">${formatNumber(cell)}</td>` : `<td>${escapeHtml(cell)}</td>`,
        )
        .join("")}</tr>`,
  );
  return ["<table>", `<thead>${head}</thead>`, "<tbody>", ...body, "</tbody>", "</table>"].join("\n");
}

/** A paragraph of escaped text. */
export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}
