import type { SweepConfig } from "../../domain/config.js";
import type { DeliveryLog, RunLister } from "../../ports/github.js";
import type { Observer } from "../../ports/observer.js";
import type { Logger } from "../../ports/logger.js";
import type { Store } from "../../ports/store.js";
import type { Rerunner } from "../pipeline.js";
import { createDeliveryRecovery, type DeliveryRecoverySummary } from "./delivery-recovery.js";
import { createPendingDriver, type PendingSummary } from "./pending-driver.js";
import { createSweeper, formatSweepSummary, type SweepSummary } from "./sweep.js";

/** What reconciliation runs on, every part given: compose.ts fills in the defaults (the lister). */
export interface ReconcilerParts {
  readonly rerunner: Rerunner;
  readonly store: Store;
  readonly sweep: SweepConfig;
  readonly logger: Logger;
  readonly lister: RunLister;
  /** The GitHub App's delivery log; null in token mode or with SWEEP_DELIVERIES=false. */
  readonly deliveryLog: DeliveryLog | null;
  /** DRY_RUN: the delivery log is read, nothing is redelivered. */
  readonly dryRun: boolean;
  /** Counts redeliveries (metrics). */
  readonly observer: Observer | undefined;
  readonly clock: () => number;
  /** Names this instance in sweep leases (default: a random id). */
  readonly holder: string | undefined;
}

export interface ReconcileResult {
  readonly pending: PendingSummary;
  /** Null without a delivery log to read (token mode, SWEEP_DELIVERIES=false). */
  readonly deliveries: DeliveryRecoverySummary | null;
  /** Null when SWEEP_REPOS is empty. */
  readonly sweep: SweepSummary | null;
}

/**
 * Reconciliation with GitHub, the engine's second source of events: the sweep (finished failed
 * runs whose deliveries were lost) and the pending driver (reruns whose holder gave up or died).
 * Both go through `rerunner.handleEvent`, the decision path of a webhook delivery. In App mode
 * the delivery log's lost deliveries are redelivered by GitHub, so they come in as deliveries.
 */
export interface Reconciler {
  readonly config: SweepConfig;
  drivePending(signal?: AbortSignal): Promise<PendingSummary>;
  /** One pass over the App's delivery log, logged as one `sweep` line; null when there is no log to read. */
  recoverDeliveries(signal?: AbortSignal): Promise<DeliveryRecoverySummary | null>;
  /** One sweep of SWEEP_REPOS, logged as one `sweep` line; null when there is nothing to sweep. */
  sweep(signal?: AbortSignal): Promise<SweepSummary | null>;
  /** Pending reruns, the delivery log, then the repositories: what `job-rerunner sweep` and the Cloud Functions `sweep` entry do. */
  once(signal?: AbortSignal): Promise<ReconcileResult>;
}

export function createReconciliation(options: ReconcilerParts): Reconciler {
  const { rerunner, store, logger, lister, clock } = options;
  const sweeper = createSweeper({ rerunner, store, lister, sweep: options.sweep, logger, clock, holder: options.holder });
  const recovery =
    options.deliveryLog === null
      ? null
      : createDeliveryRecovery({
          log: options.deliveryLog,
          store,
          logger,
          lookbackMs: options.sweep.lookbackMs,
          dryRun: options.dryRun,
          observer: options.observer,
          clock,
          holder: options.holder,
        });
  const pending = createPendingDriver({ rerunner, store, logger, clock, retryMs: Math.max(1000, options.sweep.pendingIntervalMs) });

  async function sweep(signal?: AbortSignal): Promise<SweepSummary | null> {
    if (options.sweep.repos.length === 0) return null;
    const started = clock();
    const summary = await sweeper.sweep(signal);
    logger({
      level: summary.errors > 0 ? "warn" : "info",
      msg: "sweep",
      source: "repositories",
      summary: formatSweepSummary(summary),
      repositories: summary.repositories,
      requests: summary.requests,
      notModified: summary.notModified,
      runsExamined: summary.runsExamined,
      rerunsMade: summary.rerunsMade,
      errors: summary.errors,
      skippedRuns: summary.skippedRuns,
      problems: summary.problems,
      pauseUntil: summary.pauseUntil === null ? null : new Date(summary.pauseUntil).toISOString(),
      durationMs: clock() - started,
    });
    return summary;
  }

  return {
    config: options.sweep,
    drivePending: (signal) => pending.drive(signal),
    recoverDeliveries: async (signal) => (recovery === null ? null : recovery.recover(signal)),
    sweep,
    async once(signal) {
      const driven = await pending.drive(signal);
      const deliveries = recovery === null ? null : await recovery.recover(signal);
      return { pending: driven, deliveries, sweep: await sweep(signal) };
    },
  };
}
