/** Rejects after `ms` with the given error, so a hung store or GitHub cannot hold a delivery. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  // One promise and one timer per call (not race + finally): this runs for every store call.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Jittered, growing pause after a lost compare-and-set, so contending writers spread out. */
export function backoff(round: number): Promise<void> {
  const ceiling = Math.min(50, 2 ** Math.min(round, 6));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
