/** Whether new ops record themselves on the tape. Off inside noGrad() and during backward(). */
let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` with a mode switched by `set` (which returns the previous value) and restores it
 * afterwards. Scopes are synchronous, as PyTorch's no_grad is: a function returning a promise
 * would leave the scope at its first `await`, so it is refused (the mode is restored first).
 */
export function scoped<T, M>(scope: string, set: (mode: M) => M, mode: M, fn: () => T): T {
  const previous = set(mode);
  let result: T;
  try {
    result = fn();
  } finally {
    set(previous);
  }
  if (typeof (result as { then?: unknown } | null)?.then === "function") {
    (result as PromiseLike<unknown>).then(undefined, () => {}); // the refusal below is the error to report
    throw new TypeError(`${scope}: the function returned a promise; ${scope} is synchronous and would stop applying at the first await. Call it inside the async function around each synchronous part instead`);
  }
  return result;
}

function setGradEnabled(enabled: boolean): boolean {
  const previous = gradEnabled;
  gradEnabled = enabled;
  return previous;
}

/** Runs `fn` with recording set to `enabled`, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  return scoped("withGradMode", setGradEnabled, enabled, fn);
}

/** Runs `fn` without recording: results have no graph behind them (inference, parameter updates). */
export function noGrad<T>(fn: () => T): T {
  return scoped("noGrad", setGradEnabled, false, fn);
}
