/**
 * Rejects after `ms` with the given error, so a hung store or GitHub cannot hold a delivery.
 * `onError` turns the promise's own rejection into the error to reject with (default: as it is).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error, onError?: (error: unknown) => unknown): Promise<T> {
  // One promise per call, and a timer only for a promise still unsettled once the ones already
  // settled have run their handlers: a store that answers at once (memory, SQLite) costs no timer.
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    promise.then(
      (value) => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        reject(onError === undefined ? error : onError(error));
      },
    );
    // Queued after the handler of a promise that is already settled, so that one runs first.
    queueMicrotask(() => {
      if (!settled) timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    });
  });
}

/** Jittered, growing pause after a lost compare-and-set, so contending writers spread out. */
export function backoff(round: number): Promise<void> {
  const ceiling = Math.min(50, 2 ** Math.min(round, 6));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
