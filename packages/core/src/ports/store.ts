import type { HistoryEntry } from "../domain/history.js";
import type { JsonValue, RunRecord } from "../domain/types.js";

export interface Versioned {
  readonly record: RunRecord;
  /** Opaque version token; pass it back to `put` to write only if nobody wrote in between. */
  readonly version: string;
}

/** A small document that is not a run record (a sweep's cursor or lease), with its version. */
export interface VersionedDoc {
  readonly value: JsonValue;
  readonly version: string;
}

/**
 * Where run records live. `put` is a compare-and-set: it writes only when the stored version is
 * still `expectedVersion` (`undefined`: only when no live record exists) and says whether it did.
 * A record whose `expiresAt` has passed counts as absent.
 *
 * Besides run records a store keeps small documents (`getDoc`/`putDoc`, a key space of their
 * own, same compare-and-set and expiry rules) and can list the runs whose pending rerun nobody
 * drives (`listPending`), so a pending rerun is never left waiting for an event that never comes.
 */
export interface Store {
  get(key: string): Promise<Versioned | undefined>;
  put(key: string, record: RunRecord, expectedVersion: string | undefined): Promise<boolean>;
  getDoc(key: string): Promise<VersionedDoc | undefined>;
  putDoc(key: string, value: JsonValue, expectedVersion: string | undefined, expiresAt: number): Promise<boolean>;
  /**
   * Keys of live run records whose rerun is pending with a lease that ended at or before `now`
   * (`rerun.state === "pending" && rerun.leaseUntil <= now`), oldest lease first, at most `limit`.
   */
  listPending(now: number, limit: number): Promise<string[]>;
  /**
   * Adds one decision to the run's history (read-only visibility: the status page). At most
   * MAX_HISTORY_PER_RUN entries are kept per run (`repo.id` + `runId`), the oldest dropped
   * first; an entry whose `expiresAt` has passed counts as absent.
   */
  appendHistory(entry: HistoryEntry): Promise<void>;
  /** Live entries with `at >= since`, newest first, at most `limit`. */
  listHistory(since: number, limit: number): Promise<HistoryEntry[]>;
  close?(): Promise<void>;
}
