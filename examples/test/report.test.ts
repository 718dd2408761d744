import { describe, expect, test } from "vitest";
import { barChart, confusionMatrix, escapeHtml, formatNumber, lineChart, niceTicks, renderReport, table } from "../src/report/index.js";

const VOID_ELEMENTS = new Set(["meta", "br", "hr", "img", "input", "link"]);

/**
 * A small well-formedness check: every opening tag is closed, in order (a stack), self-closing
 * and void elements aside; no stray "<" or ">" outside tags; every attribute value quoted.
 * Returns the problems found (empty when fine) and the count of each element.
 */
function checkMarkup(markup: string): { problems: string[]; counts: Map<string, number> } {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  const stack: string[] = [];
  const body = markup.replace(/^<!DOCTYPE html>/, "");
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  let last = 0;
  for (const match of body.matchAll(tag)) {
    const between = body.slice(last, match.index);
    if (/[<>]/.test(between)) problems.push(`stray < or > in text: ${JSON.stringify(between.slice(0, 60))}`);
    last = match.index + match[0].length;
    const [, closing, name, , selfClosing] = match as unknown as [string, string, string, string, string];
    if (closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open}>`);
    } else {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!selfClosing && !VOID_ELEMENTS.has(name)) stack.push(name);
    }
  }
  if (/[<>]/.test(body.slice(last))) problems.push("stray < or > after the last tag");
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(", ")}`);
  return { problems, counts };
}

/** Every URL-looking reference in the markup, apart from the SVG namespace declaration. */
const externalReferences = (markup: string) =>
  (markup.match(/(https?:|\/\/)[^\s"'<>]*/g) ?? []).filter((u) => u !== "http://www.w3.org/2000/svg");

/** The numbers in every path's d attribute and every x/y/width/height/cx/cy attribute. */
function geometryValues(svg: string): string[] {
  const values: string[] = [];
  for (const m of svg.matchAll(/ d="([^"]*)"/g)) values.push(...m[1]!.split(/[\sMLHV]+/).filter(Boolean));
  for (const m of svg.matchAll(/ (?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"/g)) values.push(m[1]!);
  return values;
}

describe("escapeHtml", () => {
  test("escapes the five special characters, ampersand first", () => {
    expect(escapeHtml(`<a href="x">Tom & 'Jerry'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    expect(escapeHtml("&lt;")).toBe("&amp;lt;");
  });
});

describe("niceTicks", () => {
  test("round steps of 1, 2 or 5 times a power of ten, covering the range", () => {
    expect(niceTicks(0, 1)).toEqual({ min: 0, max: 1, step: 0.2, values: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    const t = niceTicks(0.13, 2.71, 6);
    expect(t.step).toBe(0.5);
    expect(t.values).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
    expect(niceTicks(0.13, 2.71, 5).values).toEqual([0, 1, 2, 3]); // the step is rounded up: rather fewer ticks than more
    expect(niceTicks(-37, 112).values).toEqual([-50, 0, 50, 100, 150]);
    // Decimal noise is rounded away: 0.1 × 3 is written 0.3.
    expect(niceTicks(0, 0.5, 5).values).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  test("integer steps are at least 1; degenerate ranges are widened", () => {
    expect(niceTicks(1, 3, 6, true).step).toBe(1);
    expect(niceTicks(5, 5).values.length).toBeGreaterThan(1);
    expect(niceTicks(0, 0)).toMatchObject({ min: -1, max: 1 });
    expect(niceTicks(Number.NaN, Number.NaN)).toMatchObject({ min: 0, max: 1 });
  });
});

describe("lineChart", () => {
  const options = {
    title: "Loss <per> epoch & more",
    xLabel: "epoch",
    yLabel: "loss",
    series: [
      { name: "train", values: [2.3, 1.2, 0.8, 0.5, 0.4] },
      { name: "validation", values: [2.4, Number.NaN, 1.0, Number.POSITIVE_INFINITY, 0.7] },
      { name: "empty", values: [] },
    ],
  };
  const svg = lineChart(options);

  test("is well-formed SVG with the title escaped", () => {
    expect(checkMarkup(svg).problems).toEqual([]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("Loss &lt;per&gt; epoch &amp; more");
    expect(svg).not.toContain("<per>");
    expect(externalReferences(svg)).toEqual([]);
  });

  test("non-finite values never reach the geometry; gaps split the line", () => {
    expect(svg).not.toMatch(/NaN|Infinity/);
    for (const v of geometryValues(svg)) expect(Number.isFinite(Number(v)), `coordinate ${v}`).toBe(true);
    // validation = [2.4, NaN, 1.0, Inf, 0.7]: three isolated points, drawn as dots, no line.
    expect(checkMarkup(svg).counts.get("circle")).toBe(3);
    // train is one unbroken line of 5 points: one M and four L.
    const paths = [...svg.matchAll(/<path d="(M[^"]*)" fill="none" stroke="#2563eb"/g)];
    expect(paths).toHaveLength(1);
    expect(paths[0]![1]!.match(/L/g)).toHaveLength(4);
  });

  test("legend lists every series, with distinct colours, and marks an empty one", () => {
    for (const name of ["train", "validation", "empty (no data)"]) expect(svg).toContain(`>${name}</text>`);
    const legendColours = [...svg.matchAll(/<line [^>]*stroke="(#[0-9a-f]{6})" stroke-width="2.5"/g)].map((m) => m[1]);
    expect(legendColours).toHaveLength(3);
    expect(new Set(legendColours).size).toBe(3);
  });

  test("ticks are round numbers and axis labels appear", () => {
    for (const tick of ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "1", "5"]) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).toContain(">epoch</text>");
    expect(svg).toContain(">loss</text>");
  });

  test("no series at all, or only NaN, still gives a valid chart saying so", () => {
    for (const series of [[], [{ name: "nothing", values: [Number.NaN, Number.NaN] }]]) {
      const empty = lineChart({ title: "t", xLabel: "x", yLabel: "y", series });
      expect(checkMarkup(empty).problems).toEqual([]);
      expect(empty).toContain(">no data</text>");
      expect(empty).not.toMatch(/NaN|Infinity/);
    }
  });

  test("a single point and a constant series are drawn without NaN", () => {
    const one = lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", values: [3] }, { name: "b", values: [3, 3, 3] }] });
    expect(checkMarkup(one).problems).toEqual([]);
    expect(one).not.toMatch(/NaN|Infinity/);
    expect(one).toContain("<circle");
  });

  test("width and height are honoured", () => {
    expect(lineChart({ ...options, width: 800, height: 200 })).toContain('viewBox="0 0 800 200"');
  });
});

describe("barChart", () => {
  const svg = barChart({
    title: "Accuracy by model",
    yLabel: "accuracy",
    groups: ["<dense>", "conv"],
    series: [
      { name: "train", values: [0.9, 0.95] },
      { name: "test", values: [Number.NaN, -0.1] },
    ],
  });

  test("is well-formed, escaped, and draws one bar per finite value", () => {
    expect(checkMarkup(svg).problems).toEqual([]);
    expect(svg).toContain("&lt;dense&gt;");
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    expect(externalReferences(svg)).toEqual([]);
    for (const v of geometryValues(svg)) expect(Number(v)).toBeGreaterThanOrEqual(0);
  });
});

describe("confusionMatrix", () => {
  const labels = ["cat", "dog", "<bird>"];
  const matrix = [
    [8, 2, 0],
    [1, 9, 0],
    [0, 0, 0],
  ];
  const svg = confusionMatrix({ title: "Confusion", labels, matrix });

  test("is well-formed with one cell per pair and the counts written in", () => {
    expect(checkMarkup(svg).problems).toEqual([]);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(9);
    for (const count of ["8", "2", "1", "9"]) expect(svg).toContain(`>${count}</text>`);
    expect(svg).toContain("&lt;bird&gt;");
    expect(svg).not.toContain("<bird>");
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(externalReferences(svg)).toEqual([]);
  });

  test("rows are true classes, columns predictions; shade follows the row share", () => {
    expect(svg).toContain("<title>true cat, predicted dog: 2 (20.0% of row)</title>");
    expect(svg).toContain("<title>true dog, predicted cat: 1 (10.0% of row)</title>");
    // An empty row is all white, not NaN.
    expect(svg).toContain('fill="rgb(255,255,255)" stroke="#ffffff"><title>true &lt;bird&gt;, predicted cat: 0 (0.0% of row)');
    expect(svg).toContain(">true class</text>");
    expect(svg).toContain(">predicted class</text>");
  });

  test("a matrix that does not match the labels is rejected clearly", () => {
    expect(() => confusionMatrix({ title: "t", labels, matrix: [[1, 2, 3]] })).toThrow("confusionMatrix: expected 3 rows (one per label), found 1");
    expect(() => confusionMatrix({ title: "t", labels: ["a", "b"], matrix: [[1, 2], [3]] })).toThrow("row 1 has 1 columns, expected 2");
    expect(() => confusionMatrix({ title: "t", labels: ["a"], matrix: [[Number.NaN]] })).toThrow("matrix[0][0] is NaN");
  });

  test("many classes still give well-formed output", () => {
    const n = 30;
    const big = Array.from({ length: n }, (_, t) => Array.from({ length: n }, (_, p) => (t === p ? 50 : (t + p) % 3)));
    const out = confusionMatrix({ title: "big", labels: big.map((_, i) => `class ${i}`), matrix: big });
    expect(checkMarkup(out).problems).toEqual([]);
    expect(out.match(/<rect [^>]*><title>/g)).toHaveLength(n * n);
  });
});

describe("table and formatNumber", () => {
  test("escapes cells and formats numbers", () => {
    const html = table(["model", "accuracy <%>"], [["a & b", 0.912345], ["<script>", Number.NaN], ["c", 12]]);
    expect(checkMarkup(html).problems).toEqual([]);
    expect(html).toContain("<th>accuracy &lt;%&gt;</th>");
    expect(html).toContain("<td>a &amp; b</td>");
    expect(html).toContain("<td>&lt;script&gt;</td>");
    expect(html).not.toContain("<script>");
    expect(html).toContain('<td class="num">0.9123</td>');
    expect(html).toContain('<td class="num">—</td>');
    expect(html).toContain('<td class="num">12</td>');
    expect(checkMarkup(html).counts.get("tr")).toBe(4);
  });

  test("formatNumber", () => {
    expect([formatNumber(3), formatNumber(1 / 3), formatNumber(Number.NaN), formatNumber(-Infinity)]).toEqual(["3", "0.3333", "—", "−∞"]);
  });
});

describe("renderReport", () => {
  const chart = lineChart({ title: "loss", xLabel: "epoch", yLabel: "loss", series: [{ name: "train", values: [1, 0.5, Number.NaN] }] });
  const html = renderReport({
    title: "Digits <run> & friends",
    subtitle: "seed 'seven'",
    sections: [
      { heading: "Curves", html: chart },
      { heading: "Scores <final>", html: table(["metric", "value"], [["accuracy", 0.97]]) },
      { heading: "Confusion", html: confusionMatrix({ title: "cm", labels: ["0", "1"], matrix: [[5, 1], [0, 6]] }) },
    ],
  });

  test("is a complete, well-formed, self-contained document", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    const { problems, counts } = checkMarkup(html);
    expect(problems).toEqual([]);
    expect(counts.get("html")).toBe(1);
    expect(counts.get("section")).toBe(3);
    expect(counts.get("svg")).toBe(2);
    expect(counts.get("script")).toBeUndefined();
    expect(counts.get("link")).toBeUndefined();
    expect(counts.get("img")).toBeUndefined();
    expect(externalReferences(html)).toEqual([]);
    expect(html).not.toContain("NaN");
  });

  test("title, subtitle and headings are escaped", () => {
    expect(html).toContain("<title>Digits &lt;run&gt; &amp; friends</title>");
    expect(html).toContain("<h1>Digits &lt;run&gt; &amp; friends</h1>");
    expect(html).toContain('<p class="subtitle">seed &#39;seven&#39;</p>');
    expect(html).toContain("<h2>Scores &lt;final&gt;</h2>");
  });

  test("the subtitle is optional", () => {
    expect(renderReport({ title: "t", sections: [] })).not.toContain("subtitle\"");
  });
});
