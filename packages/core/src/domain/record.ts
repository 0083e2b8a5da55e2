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
