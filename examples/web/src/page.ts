/**
 * The page: starts the Worker, redraws the held-out loss and accuracy curves of the three
 * strategies after every epoch (the report module's SVG line charts), then shows the test table
 * — masked losses against dropping incomplete samples and imputing 0.
 */
import { lineChart, table } from "../../src/report/index.js";
import { STRATEGIES, STRATEGY_LABELS, type Strategy } from "../../src/multitask/strategies.js";
import { ROWS, maskedWinsEverywhere } from "../../src/multitask/summary.js";
import type { TrainRequest, WorkerMessage } from "./messages.js";

const $ = (id: string) => document.getElementById(id)!;
const params = new URLSearchParams(location.search);
const request: TrainRequest = {
  epochs: Number(params.get("epochs") ?? 30),
  missingRate: Number(params.get("missing") ?? 0.7),
  seed: Number(params.get("seed") ?? 1),
};

/** Each strategy's held-out curves so far. */
const curves = new Map<Strategy, { loss: number[]; accuracy: number[] }>(STRATEGIES.map((s) => [s, { loss: [], accuracy: [] }]));

function draw(): void {
  const series = (key: "loss" | "accuracy") => STRATEGIES.map((s) => ({ name: STRATEGY_LABELS[s], values: curves.get(s)![key] }));
  $("loss").innerHTML = lineChart({ title: "held-out loss (all heads)", xLabel: "epoch", yLabel: "loss", series: series("loss") });
  $("accuracy").innerHTML = lineChart({ title: "held-out digit accuracy", xLabel: "epoch", yLabel: "accuracy", series: series("accuracy") });
}

function status(text: string, state: "training" | "done" | "failed" = "training"): void {
  $("status").textContent = text;
  document.body.dataset.state = state;
}

function onMessage(m: WorkerMessage): void {
  if (m.type === "data") status(`${m.name}: ${m.trainCount} training / ${m.testCount} test images, ${Math.round(request.missingRate * 100)} % of each head's labels missing. Training…`);
  else if (m.type === "epoch") {
    const c = curves.get(m.strategy)!;
    c.loss.push(m.logs.val_loss ?? NaN);
    c.accuracy.push(m.logs.val_digit_accuracy ?? NaN);
    status(`Training ${STRATEGY_LABELS[m.strategy]}: epoch ${m.epoch + 1} of ${request.epochs}`);
    draw();
  } else if (m.type === "done") {
    const job = m.job;
    $("results").innerHTML = table(
      ["test metric", ...job.results.map((r) => STRATEGY_LABELS[r.strategy])],
      [
        ...ROWS.map((row) => [row.label(job), ...job.results.map((r) => row.format(row.value(r)))]),
        ["training samples", ...job.results.map((r) => String(r.trainingRows))],
      ],
    );
    const verdict = maskedWinsEverywhere(job) ? "Masked losses win or tie on every head." : "Masked losses do not win on every head this time.";
    status(`Done in ${m.seconds.toFixed(1)} s. ${verdict}`, "done");
  } else status(`Failed: ${m.message}`, "failed");
}

const worker = new Worker("./worker.js", { type: "module" });
worker.addEventListener("message", (e: MessageEvent<WorkerMessage>) => onMessage(e.data));
worker.addEventListener("error", (e) => status(`Failed: the Worker stopped (${e.message})`, "failed"));
draw();
worker.postMessage(request);
