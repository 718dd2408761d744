/**
 * The web page (examples/web, `pnpm demo:web`) in headless Chromium: it trains the three
 * strategies in a Worker, draws the curves as it goes and shows the test table. The numbers it
 * shows must be those of the same job run here in Node (the same kernels in V8: equal to the
 * digit), and masked must beat dropping. The page answers (its status and curves change) while the
 * Worker trains. A screenshot is written to examples/.generated/web/ for a person to look at.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { loadDigits, splitDataset } from "../src/data/index.js";
import { DEFAULTS } from "../src/multitask/cli.js";
import { compareStrategies } from "../src/multitask/job.js";
import { ROWS } from "../src/multitask/summary.js";
import { startWebDemo } from "../web/serve.js";
import { CHROMIUM, launchChromium } from "./runtimes.js";

const EPOCHS = 3;
const shots = fileURLToPath(new URL("../.generated/web/", import.meta.url));

const haveChromium = existsSync(CHROMIUM);
if (process.env.CI && !haveChromium) throw new Error(`web page: ${CHROMIUM} is missing; CI installs it with apt-get install chromium`);

describe.skipIf(!haveChromium)("the web page", () => {
  test("trains in a Worker, draws the curves and shows Node's numbers", async () => {
    const options = { ...DEFAULTS, epochs: EPOCHS };
    const { train, test: held } = splitDataset(await loadDigits(), options.testFraction, options.seed);
    const inNode = await compareStrategies({ name: "digits", train, test: held }, options, { write: () => {}, verbose: "silent" });

    const { server, url } = await startWebDemo(0);
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(String(e)));
      await tab.goto(`${url}?epochs=${EPOCHS}`);
      // While the Worker trains, the page updates its status and draws the curves.
      await tab.waitForFunction(() => document.querySelectorAll("#loss svg polyline, #loss svg path").length > 0 && /epoch/.test(document.getElementById("status")!.textContent ?? ""), undefined, { timeout: 60_000 });
      expect(await tab.evaluate(() => document.body.dataset.state)).toBe("training");
      await tab.waitForFunction(() => document.body.dataset.state !== "training", undefined, { timeout: 120_000 });
      const state = await tab.evaluate(() => ({ state: document.body.dataset.state, status: document.getElementById("status")!.textContent }));
      expect(state, state.status ?? "").toMatchObject({ state: "done" });
      expect(errors).toEqual([]);

      const cells = await tab.evaluate(() => Array.from(document.querySelectorAll("#results tr"), (tr) => Array.from(tr.querySelectorAll("th, td"), (c) => c.textContent ?? "")));
      expect(cells[0]!.slice(1)).toEqual(["masked losses", "drop incomplete samples", "impute missing as 0"]);
      // Every metric row shows what Node computes for the same settings.
      ROWS.forEach((row, i) => expect(cells[i + 1]).toEqual([row.label(inNode), ...inNode.results.map((r) => row.format(row.value(r)))]));
      expect(cells[ROWS.length + 1]).toEqual(["training samples", ...inNode.results.map((r) => String(r.trainingRows))]);
      const accuracy = cells[1]!.slice(1).map((c) => Number.parseFloat(c));
      expect(accuracy[0]!).toBeGreaterThan(accuracy[1]!); // masked beats dropping
      expect(await tab.locator("#accuracy svg").count()).toBe(1);

      await mkdir(shots, { recursive: true });
      await tab.screenshot({ path: `${shots}page.png`, fullPage: true });
    } finally {
      await browser.close();
      server.close();
    }
  }, 180_000);
});
