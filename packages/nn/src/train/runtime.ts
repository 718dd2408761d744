/**
 * What fit() needs from the JavaScript runtime, read through globalThis and never assumed: an
 * output for progress text, a way to give the event loop a turn, and copies of plain records.
 * Where something is missing (an embedded engine without `console`, `process` or timers),
 * training still works: silently, and without yielding.
 */

interface Runtime {
  process?: { stdout?: { write?: (s: string) => unknown } };
  console?: { log?: (s: string) => void };
  setTimeout?: (f: () => void, ms: number) => unknown;
  MessageChannel?: new () => { port1: { onmessage: (() => void) | null; close(): void }; port2: { postMessage(v: unknown): void; close(): void } };
  queueMicrotask?: (f: () => void) => void;
}

const runtime = () => globalThis as unknown as Runtime;

/** Standard output if there is one, else console.log line by line, else nothing. */
export function defaultWrite(): (text: string) => void {
  const out = runtime().process?.stdout;
  if (out && typeof out.write === "function") return (s) => void out.write!(s);
  const log = runtime().console?.log;
  if (typeof log !== "function") return () => {};
  let pending = "";
  return (s) => {
    pending += s;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) log(line.replace(/^.*\r/, ""));
  };
}

/** Yielding by default where there is no `process` (a page or a worker): every 30 ms; never in Node. */
export function defaultYieldEvery(): number {
  return runtime().process === undefined ? 30 : Infinity;
}

/**
 * A promise that settles on a later turn of the event loop: a MessageChannel message (no timer
 * clamping), else a zero timeout, else a microtask (which lets other promises run, no more).
 */
export function nextTurn(): Promise<void> {
  const { MessageChannel: Channel, setTimeout: timeout, queueMicrotask: microtask } = runtime();
  return new Promise((resolve) => {
    if (typeof Channel === "function") {
      const channel = new Channel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        channel.port2.close();
        resolve();
      };
      channel.port2.postMessage(0);
    } else if (typeof timeout === "function") timeout(resolve, 0);
    else if (typeof microtask === "function") microtask(resolve);
    else void Promise.resolve().then(resolve);
  });
}

/** Calls `nextTurn()` once at least `every` milliseconds have passed since the last turn (Date is part of the language). */
export function yielder(every: number): () => Promise<void> | void {
  if (every === Infinity) return () => {};
  let last = Date.now();
  return () => {
    if (Date.now() - last < every) return;
    return nextTurn().then(() => void (last = Date.now()));
  };
}

/** A copy of a record of records (group weights by output and id) — no structuredClone needed. */
export function copyNested<V>(r: Record<string, Record<number, V>>): Record<string, Record<number, V>> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { ...v }]));
}

/** A copy of a history (a list of numbers per logged value). */
export function copyLists(r: Record<string, number[]>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [...v]]));
}
