/** A request's signal: aborted by the caller's (shutdown) signal or a timeout, whichever comes first. */
export interface BoundedSignal {
  readonly signal: AbortSignal;
  /** Removes the timer and the listener, so none stays on the long-lived signal. */
  done(): void;
}

export function boundSignal(stop: AbortSignal, timeoutMs: number): BoundedSignal {
  const controller = new AbortController();
  const abort = (): void => controller.abort(stop.aborted ? stop.reason : new DOMException("no answer in time", "TimeoutError"));
  const timer = setTimeout(abort, timeoutMs);
  if (stop.aborted) abort();
  else stop.addEventListener("abort", abort, { once: true });
  return { signal: controller.signal, done: () => (clearTimeout(timer), stop.removeEventListener("abort", abort)) };
}
