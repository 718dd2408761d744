import { type NDArray, firstNonFiniteOf, fmtShape } from "@zerograd/tensor";
import { scoped } from "./mode.js";

/**
 * Anomaly mode (PyTorch's detect_anomaly): every op's output is checked for NaN or ±∞ that its
 * inputs did not have, in the forward pass and in each vjp of the backward pass, and the error
 * names the op, its input shapes and value ranges, and where the op was created. Off by default;
 * when off it costs apply() and backward() one boolean check each.
 */
export let anomalyEnabled = false;
/** Nesting depth of vjp calls: inside a vjp the ops are checked as that op's backward instead. */
let vjpDepth = 0;

/** Switches anomaly mode on or off globally; returns the previous setting. */
export function setDetectAnomaly(enabled: boolean): boolean {
  const previous = anomalyEnabled;
  anomalyEnabled = enabled;
  return previous;
}

export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

/** Runs `fn` with anomaly mode on (synchronous, like noGrad), restoring the previous setting. */
export function detectAnomaly<T>(fn: () => T): T {
  return scoped("detectAnomaly", setDetectAnomaly, true, fn);
}

/** A non-finite value appeared in an op's output or gradient; `op` names the op. */
export class AnomalyError extends RangeError {
  override readonly name = "AnomalyError";
  constructor(readonly op: string, message: string) {
    super(message);
  }
}

/** The caller's stack frames outside the tensor and autograd packages: where an op was created. */
export function creationSite(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1).map((f) => f.trim().replace(/^at /, ""));
  const outside = frames.filter((f) => !/[\\/](autograd|tensor)[\\/](src|dist)[\\/]|@zerograd[\\/](autograd|tensor)[\\/]/.test(f));
  return outside.slice(0, 3).join(" ← ") || "(unknown)";
}

interface Found { nan: number; inf: number; min: number; max: number }

function scan(x: NDArray): Found {
  const f: Found = { nan: 0, inf: 0, min: Infinity, max: -Infinity };
  for (const v of x.flat()) {
    if (v !== v) f.nan++;
    else if (v === Infinity || v === -Infinity) f.inf++;
    else { if (v < f.min) f.min = v; if (v > f.max) f.max = v; }
  }
  return f;
}

function range(label: string, x: NDArray, f: Found): string {
  const finite = f.min <= f.max ? `values in [${f.min}, ${f.max}]` : "no finite values";
  return `${label} ${fmtShape(x.shape)} ${x.dtype} ${finite}${f.nan ? `, ${f.nan} NaN` : ""}${f.inf ? `, ${f.inf} ±Infinity` : ""}`;
}

/** Throws when `out` holds a NaN or ±∞ that none of `sources` holds. */
function check(op: string, phase: string, what: string, out: NDArray, sources: [string, NDArray][], site: string | undefined): void {
  if (firstNonFiniteOf(out.flat()) < 0) return; // the common case, in one scan by the active kernels
  const o = scan(out);
  if (!o.nan && !o.inf) return;
  const found = sources.map(([label, x]) => [label, x, scan(x)] as const);
  const newNaN = o.nan > 0 && found.every(([, , s]) => s.nan === 0);
  const newInf = o.inf > 0 && found.every(([, , s]) => s.inf === 0);
  if (!newNaN && !newInf) return;
  const kind = newNaN ? "NaN" : "±Infinity";
  throw new AnomalyError(op, `detectAnomaly: ${op} (${phase}) produced ${kind} in ${what} from inputs without ${kind}: ` +
    `${found.map(([label, x, s]) => range(label, x, s)).join("; ")}; the op was created at ${site ?? creationSite()}`);
}

/** Forward check, called by apply() when anomaly mode is on (skipped inside a vjp); returns where the op was created. */
export function checkForward(op: string, inputs: readonly NDArray[], out: NDArray): string {
  const site = creationSite();
  if (vjpDepth === 0) check(op, "forward", "its output", out, inputs.map((x, i) => [`input ${i}`, x]), site);
  return site;
}

/** Runs one vjp with forward checks suspended, then checks each gradient it returned. */
export function checkedVjp<G extends { value: NDArray } | null>(op: string, site: string | undefined, g: NDArray, inputs: readonly NDArray[], out: NDArray, vjp: () => G[]): G[] {
  vjpDepth++;
  let grads: G[];
  try {
    grads = vjp();
  } finally {
    vjpDepth--;
  }
  const sources: [string, NDArray][] = [["incoming gradient", g], ...inputs.map((x, i) => [`input ${i}`, x] as [string, NDArray]), ["output", out]];
  grads.forEach((gk, k) => { if (gk) check(op, "backward", `the gradient for input ${k}`, gk.value, sources, site); });
  return grads;
}
