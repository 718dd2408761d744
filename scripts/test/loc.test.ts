import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CORE_BUDGET, budgetProblems, countCode, longFunctions } from "../loc.js";

const fixture = readFileSync(new URL("./fixtures/functions.ts.txt", import.meta.url), "utf8");

describe("loc", () => {
  test("counts code lines: blank lines and comments do not count", () => {
    expect(countCode("const a = 1;\n\n// note\n/* block\n still */\nconst b = 2; // tail\n")).toEqual({ code: 2, total: 6 });
  });

  test("finds every function over the limit by its syntax tree, with file, line, name and length", () => {
    expect(longFunctions("fixture.ts", fixture)).toEqual([
      { file: "fixture.ts", line: 7, name: "tooLong", lines: 81 },
      { file: "fixture.ts", line: 172, name: "step", lines: 87 },
      { file: "fixture.ts", line: 173, name: "inner", lines: 84 },
    ]);
    // atLimit has exactly 80 lines: allowed. With a lower limit it is flagged too.
    expect(longFunctions("fixture.ts", fixture, 79).map((f) => f.name)).toEqual(["tooLong", "atLimit", "step", "inner"]);
  });

  test("reports the core budget and each long function; nothing when all holds", () => {
    expect(budgetProblems({ core: CORE_BUDGET, wasm: 900, longFunctions: [] })).toEqual([]);
    expect(budgetProblems({ core: CORE_BUDGET + 1, wasm: 900, longFunctions: longFunctions("f.ts", fixture).slice(0, 1) })).toEqual([
      `tensor + autograd have ${CORE_BUDGET + 1} code lines, over the budget of ${CORE_BUDGET} (WebAssembly kernels, counted apart: 900)`,
      "f.ts:7: function tooLong has 81 lines (limit 80)",
    ]);
  });
});
