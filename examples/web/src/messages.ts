/** What the Worker tells the page: the data, each epoch's logs, the final results, or an error. */
import type { JobResult } from "../../src/multitask/job.js";
import type { Strategy } from "../../src/multitask/strategies.js";

export type WorkerMessage =
  | { type: "data"; name: string; trainCount: number; testCount: number; epochs: number }
  | { type: "epoch"; strategy: Strategy; epoch: number; logs: Record<string, number> }
  | { type: "done"; job: JobResult; seconds: number }
  | { type: "error"; message: string };

/** What the page asks: train with these settings. */
export interface TrainRequest {
  epochs: number;
  missingRate: number;
  seed: number;
}
