import { randomUUID } from "node:crypto";
import type { Rerunner } from "../pipeline.js";
import type { Logger } from "../../ports/logger.js";
import type { Store } from "../../ports/store.js";
import type { RunRecord, WorkflowRunEvent } from "../../domain/types.js";

export interface PendingSummary {
  /** Pending reruns whose lease had ended. */
  readonly due: number;
  /** Of those, driven now (the others wait out their backoff). */
  readonly driven: number;
  readonly rerunsMade: number;
  readonly errors: number;
}

export interface PendingDriverOptions {
  readonly rerunner: Rerunner;
  readonly store: Store;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** First wait after a drive that did not get the rerun through; doubles each time (default 5 s). */
  readonly retryMs?: number;
  /** Longest wait between two drives of one pending rerun (default 30 min). */
  readonly maxRetryMs?: number;
  /** Pending reruns read per pass (default 200). */
  readonly limit?: number;
}

export interface PendingDriver {
  /** One pass over the pending reruns nobody holds. Never throws. */
  drive(signal?: AbortSignal): Promise<PendingSummary>;
}

/**
 * The event that drives a record's pending rerun through the engine: a `workflow_run` of the
 * record's attempt that changes nothing else (`in_progress` adds no conclusion), so `decide`
 * takes the ended lease and, as calls > 0, reads the run before calling GitHub again. One
 * delivery id per attempt: the memo stays one entry however often it is driven.
 */
export function pendingEvent(record: RunRecord, receivedAt: number, handlerId: string): WorkflowRunEvent {
  return {
    kind: "workflow_run",
    deliveryId: `pending:${record.runId}:${record.attempt}`,
    receivedAt,
    handlerId,
    defaultBranch: record.defaultBranch ?? null,
    // App mode: the installation a delivery of the run named acts for the driver too.
    ...(record.installationId === undefined ? {} : { installationId: record.installationId }),
    repo: record.repo,
    runId: record.runId,
    attempt: record.attempt,
    headBranch: record.headBranch,
    workflowName: record.workflowName,
    sender: null,
    status: "in_progress",
    conclusion: null,
  };
}

/**
 * Drives every pending rerun whose lease has ended (a holder that got "already running", or a
 * process that died after writing it), so none waits for an event that never comes. A rerun that
 * still does not go through backs off (5 s, 10 s, ... 30 min): GitHub is not asked every few
 * seconds about a run it refuses. The backoff lives in this process; a restart starts it over.
 */
export function createPendingDriver(options: PendingDriverOptions): PendingDriver {
  const { rerunner, store, logger } = options;
  const clock = options.clock ?? Date.now;
  const retryMs = options.retryMs ?? 5000;
  const maxRetryMs = options.maxRetryMs ?? 30 * 60_000;
  const limit = options.limit ?? 200;
  const backoff = new Map<string, { failures: number; nextAt: number }>();

  return {
    async drive(signal = new AbortController().signal) {
      let due = 0;
      let driven = 0;
      let rerunsMade = 0;
      let errors = 0;
      let keys: string[];
      try {
        keys = await store.listPending(clock(), limit);
      } catch (error) {
        logger({ level: "error", msg: "pending reruns could not be listed", error: error instanceof Error ? error.message : String(error) });
        return { due: 0, driven: 0, rerunsMade: 0, errors: 1 };
      }
      for (const key of backoff.keys()) if (!keys.includes(key)) backoff.delete(key);
      for (const key of keys) {
        if (signal.aborted) break;
        due++;
        const waiting = backoff.get(key);
        if (waiting !== undefined && waiting.nextAt > clock()) continue;
        try {
          const current = await store.get(key);
          if (current === undefined || current.record.rerun.state !== "pending") continue;
          driven++;
          const response = await rerunner.handleEvent(pendingEvent(current.record, clock(), randomUUID()));
          if (response.status === 201 && response.body.action === "rerun-failed-jobs") {
            rerunsMade++;
            backoff.delete(key);
            continue;
          }
          if (response.status >= 500) errors++;
          const failures = (waiting?.failures ?? 0) + 1;
          backoff.set(key, { failures, nextAt: clock() + Math.min(maxRetryMs, retryMs * 2 ** (failures - 1)) });
        } catch (error) {
          errors++;
          logger({ level: "error", msg: "pending rerun could not be read", key, error: error instanceof Error ? error.message : String(error) });
        }
      }
      if (driven > 0 || errors > 0) logger({ level: "info", msg: "pending reruns driven", due, driven, rerunsMade, errors });
      return { due, driven, rerunsMade, errors };
    },
  };
}
