import type { RunRecord } from "./types.js";

/**
 * When a record's pending rerun may be taken over (its lease end), or null when it has none:
 * the value stores index so `listPending` is one indexed query.
 */
export function pendingUntil(record: RunRecord): number | null {
  return record.rerun.state === "pending" ? record.rerun.leaseUntil : null;
}

/** The record key: repository id and run id, safe as a Firestore document id or a file name. */
export function recordKey(repoId: number, runId: number): string {
  return `r${repoId}-${runId}`;
}

/** The doc key of a run's final attempt. */
export function finalAttemptKey(recordKey: string, attempt: number): string {
  return `final-${recordKey}-a${attempt}`;
}

/** How many history entries of one run were written for failed jobs that came after their attempt's verdict (a cap). */
export function lateEntriesKey(recordKey: string): string {
  return `late-${recordKey}`;
}

/** The claim a verdict on one attempt takes before it is recorded and notified, so it happens once across deliveries and instances. */
export function findingClaimKey(recordKey: string, attempt: number, what: string): string {
  return `seen-${recordKey}-a${attempt}-${what}`;
}
