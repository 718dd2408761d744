import { describe, expect, test } from "vitest";
import { checkPackage } from "../check-deps.js";

const file = (path: string, text: string) => ({ path, text });

describe("check-deps", () => {
  test("accepts imports that follow the arrow", () => {
    expect(checkPackage("losses", [file("packages/losses/src/a.ts", 'import { sum } from "@zerograd/autograd";\nimport { x } from "./x.js";')], { dependencies: { "@zerograd/autograd": "workspace:^" } })).toEqual([]);
  });

  test("flags an import against the arrow", () => {
    const problems = checkPackage("autograd", [file("packages/autograd/src/a.ts", 'import { fit } from "@zerograd/nn";')], {});
    expect(problems).toEqual(["packages/autograd/src/a.ts: imports @zerograd/nn, against the arrow tensor ← autograd ← losses ← nn"]);
  });

  test("flags deep imports, node: modules, outside packages and Math.random", () => {
    const problems = checkPackage("nn", [file("packages/nn/src/b.ts", 'import { x } from "@zerograd/tensor/src/shape.js";\nimport fs from "node:fs";\nexport { y } from "lodash";\nconst r = Math.random();')], {});
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/deep import @zerograd\/tensor\/src\/shape\.js/);
    expect(problems[1]).toMatch(/imports node:fs; runtime code must run outside Node/);
    expect(problems[2]).toMatch(/imports lodash, which is not a workspace package/);
    expect(problems[3]).toMatch(/calls Math\.random/);
  });

  test("flags runtime dependencies outside the workspace or above the package", () => {
    const problems = checkPackage("tensor", [], { dependencies: { lodash: "^4.0.0", "@zerograd/nn": "workspace:^" } });
    expect(problems).toEqual([
      "packages/tensor/package.json: runtime dependency lodash@^4.0.0 is outside the workspace (runtime packages have none)",
      "packages/tensor/package.json: @zerograd/nn is not below @zerograd/tensor in tensor ← autograd ← losses ← nn",
    ]);
  });

  test("the Node-only entry may import node: modules", () => {
    expect(checkPackage("nn", [file("packages/nn/src/node-io.ts", 'import { rename } from "node:fs/promises";')], {})).toEqual([]);
  });
});
