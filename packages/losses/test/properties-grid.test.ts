import { describe, test } from "vitest";
import { KIND, LOSSES, MASK_FORMS, type Params, REDUCTIONS, buildCase } from "./contract.js";
import { checkMaskedPositions, checkMaskedPositionsFloat32 } from "./properties.js";

/**
 * Guarantees 1–3 over the whole grid: every loss × every reduction × every mask form × weights ×
 * groups, one seeded case per combination, in float64 and float32 (the random properties sample this grid more deeply).
 */
describe.each(LOSSES)("%s: every option combination", (loss) => {
  test("masked gradients are exactly 0, the value ignores masked positions, all-masked gives 0", () => {
    let n = 0;
    for (const reduction of REDUCTIONS)
      for (const maskForm of MASK_FORMS[KIND[loss]])
        for (const weights of ["none", "full", "broadcast"] as const)
          for (const groups of ["none", "array", "record", "default"] as const) {
            n++;
            const params: Params = {
              loss, reduction, maskForm, weights, groups,
              dims: [1 + (n % 3), 1 + ((n >> 1) % 4), 2].slice(0, 1 + (n % 3)),
              classAxis: n % 3, seed: 1000 + n,
              density: (["random", "random", "empty", "full"] as const)[n % 4]!,
              maskRepr: (["tensor", "booleans", "numbers", "typed"] as const)[(n >> 2) % 4]!,
              maskBroadcast: n % 5 < 2, targetRepr: (["tensor", "ndarray", "nested"] as const)[n % 3]!,
              fromLogits: n % 2 === 0, labelSmoothing: n % 3 === 0 ? 0.1 : 0,
              posWeight: (["none", "scalar", "perLabel"] as const)[n % 3]!, classWeights: n % 2 === 1, delta: 1,
            };
            const c = buildCase(params);
            checkMaskedPositions(c);
            checkMaskedPositionsFloat32(c);
          }
  });
});
