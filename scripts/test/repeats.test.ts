import { describe, expect, test } from "vitest";
import { findRepeats, significantLines } from "../repeats.js";

const block = ["const a = x + 1;", "const b = a * 2;", "if (b > 3) {", "  total += b;", "}", "count++;", "emit(total, count);", "return total;"];

describe("repeats", () => {
  test("comments, blank lines, imports and lone punctuation are passed over; white space is folded", () => {
    const lines = significantLines(["import { x } from 'y';", "", "// a comment", "/* block", "still comment */", "  const   a = 1;", "}", "  );"].join("\n"));
    expect(lines).toEqual([{ text: "const a = 1;", line: 6 }]);
  });

  test("a block of six significant lines in two files is found, with its line numbers", () => {
    const a = { path: "a.ts", text: ["let z = 0;", ...block].join("\n") };
    const b = { path: "b.ts", text: ["// copied", "", ...block.map((l) => `    ${l}`)].join("\n") };
    expect(findRepeats([a, b])).toEqual([{ a: { path: "a.ts", from: 2, to: 9 }, b: { path: "b.ts", from: 3, to: 10 }, lines: 7 }]);
  });

  test("five shared lines are not a repeat; six are", () => {
    const five = block.slice(0, 6);  // the "}" line does not count: 5 significant lines
    expect(findRepeats([{ path: "a.ts", text: five.join("\n") }, { path: "b.ts", text: five.join("\n") }])).toEqual([]);
    const six = block.slice(0, 7);
    expect(findRepeats([{ path: "a.ts", text: six.join("\n") }, { path: "b.ts", text: six.join("\n") }])).toHaveLength(1);
  });

  test("a repeat inside one file is found, but a run is never paired with itself", () => {
    const text = [...block, "separator();", ...block].join("\n");
    const found = findRepeats([{ path: "a.ts", text }]);
    expect(found).toHaveLength(1);
    expect(found[0]!.a.from).toBe(1);
    expect(found[0]!.b.from).toBe(10);
    expect(findRepeats([{ path: "a.ts", text: block.join("\n") }])).toEqual([]);
  });

  test("the --min-lines threshold is honoured", () => {
    const three = ["f(1);", "g(2);", "h(3);"].join("\n");
    expect(findRepeats([{ path: "a.ts", text: three }, { path: "b.ts", text: three }], 3)).toHaveLength(1);
    expect(findRepeats([{ path: "a.ts", text: three }, { path: "b.ts", text: three }], 4)).toHaveLength(0);
  });
});
