/** Whether new ops record themselves on the tape. Off inside noGrad() and during backward(). */
let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` with recording set to `enabled`, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` without recording: results have no graph behind them (inference, parameter updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}
