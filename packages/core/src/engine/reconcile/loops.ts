import type { Logger } from "../../ports/logger.js";
import type { Observer } from "../../ports/observer.js";
import type { Reconciler } from "./reconciler.js";

export interface ReconcileLoops {
  /** Stops both loops: no new pass starts; one in flight is asked to stop between runs and awaited. */
  stop(): Promise<void>;
}

/** Runs `work` again `intervalMs` after each pass ends (never two at once); the first pass after `firstDelayMs`. */
function loop(intervalMs: number, firstDelayMs: number, signal: AbortSignal, work: () => Promise<unknown>, logger: Logger, name: string) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = (delay: number): void => {
    if (signal.aborted) return;
    timer = setTimeout(() => {
      running = work().then(
        () => undefined,
        (error: unknown) => logger({ level: "error", msg: `${name} failed`, error: error instanceof Error ? error.message : String(error) }),
      );
      void running.then(() => {
        running = undefined;
        schedule(intervalMs);
      });
    }, delay);
    // A pending timer alone never keeps the process alive.
    timer.unref();
  };
  schedule(firstDelayMs);
  return async (): Promise<void> => {
    clearTimeout(timer);
    await running;
  };
}

/**
 * Reconciliation in a long-lived process: the pending driver every PENDING_INTERVAL_S and the
 * sweep (the App's delivery log, then SWEEP_REPOS) every SWEEP_INTERVAL_S (first one right after start). Each loop runs on the event loop between
 * deliveries, one pass at a time, so a sweep never holds a delivery up.
 */
export function startReconcileLoops(reconciler: Reconciler, logger: Logger, observer?: Observer): ReconcileLoops {
  const abort = new AbortController();
  // Each pass is counted (metrics): read-only, whatever the observer does with it.
  const report = (summary: { readonly errors: number; readonly rerunsMade: number } | null): void => {
    if (summary !== null) observer?.({ type: "sweep", outcome: summary.errors > 0 ? "error" : "ok", driven: summary.rerunsMade });
  };
  const stops: (() => Promise<void>)[] = [];
  const { pendingIntervalMs, intervalMs, repos, deliveries } = reconciler.config;
  if (pendingIntervalMs > 0) {
    stops.push(loop(pendingIntervalMs, pendingIntervalMs, abort.signal, () => reconciler.drivePending(abort.signal).then(report), logger, "pending driver"));
  }
  if (intervalMs > 0 && (repos.length > 0 || deliveries)) {
    // One sweep pass, counted once: the App's delivery log, then the repositories.
    const sweep = async (): Promise<void> => {
      const recovered = await reconciler.recoverDeliveries(abort.signal);
      const listed = await reconciler.sweep(abort.signal);
      if (recovered === null && listed === null) return;
      report({ errors: (recovered?.errors ?? 0) + (listed?.errors ?? 0), rerunsMade: (recovered?.redelivered ?? 0) + (listed?.rerunsMade ?? 0) });
    };
    stops.push(loop(intervalMs, 0, abort.signal, sweep, logger, "sweep"));
  }
  return {
    async stop() {
      abort.abort();
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
