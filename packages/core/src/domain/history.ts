import { recordKey } from "./record.js";
import type { RepoRef } from "./types.js";

/**
 * What a decision came to for its attempt:
 * - rerun: GitHub accepted the rerun of failed jobs (or an earlier call had made it).
 * - dry-run: DRY_RUN: the rerun would have been requested; GitHub was not called.
 * - pending: the rerun is decided but not accepted yet (GitHub failed or is busy; retried later).
 * - refused: GitHub refused the rerun (a missing permission, a run it will not re-run).
 * - gave-up: the attempt failed and will not be re-run (attempt limit, or the failure judged genuine).
 * - passed: the attempt finished with no failed job.
 * - not-rerun: the attempt failed but is out of scope (branch not in REPO_BRANCHES).
 * - other: a failed job whose completion arrived after its attempt's verdict was recorded (the
 *   run's completion came first); the entry lists every failed job known then (at most 16 per run).
 */
export type Verdict = "rerun" | "dry-run" | "pending" | "refused" | "gave-up" | "passed" | "not-rerun" | "other";

export interface HistoryJob {
  readonly name: string;
  readonly conclusion: string | null;
  /** The log line that classed the failure, when a rerun policy gave one. */
  readonly evidence?: string;
}

/** One decision, as the status page lists it and the flaky-job table counts it. Plain JSON. */
export interface HistoryEntry {
  /** Epoch ms of the decision. */
  readonly at: number;
  readonly repo: RepoRef;
  readonly runId: number;
  readonly attempt: number;
  readonly workflow: string | null;
  readonly branch: string | null;
  /** The HTTP status the delivery was answered with, and why. */
  readonly status: number;
  readonly reason: string;
  readonly verdict: Verdict;
  /** The attempt's completed jobs as known at the decision (at most MAX_HISTORY_JOBS). */
  readonly jobs: readonly HistoryJob[];
  /**
   * The attempt's workflow_run conclusion, when its completion was known at the decision. Its
   * jobs' completions may arrive after it (GitHub does not order webhooks), so an entry written
   * then lists none of them: the flaky-job table falls back on this. Absent in older entries.
   */
  readonly runConclusion?: string;
  /** Epoch ms after which the entry is dropped (RECORD_TTL_DAYS after the decision). */
  readonly expiresAt: number;
}

/** Entries kept per run: a run with many redeliveries cannot crowd out the others. */
export const MAX_HISTORY_PER_RUN = 50;
/** Jobs kept per entry (a 256-job matrix keeps its first 256 failures and passes). */
export const MAX_HISTORY_JOBS = 256;
/** Longest reason or evidence text kept. */
export const MAX_HISTORY_TEXT = 500;

/**
 * One entry as every store keeps it: the run it belongs to (the per-run cap counts by it), its
 * time and expiry (what queries and expiry read), and the entry itself as JSON text.
 */
export interface HistoryRow {
  readonly run: string;
  readonly at: number;
  readonly expiresAt: number;
  readonly json: string;
}

export function historyRow(entry: HistoryEntry): HistoryRow {
  return { run: recordKey(entry.repo.id, entry.runId), at: entry.at, expiresAt: entry.expiresAt, json: JSON.stringify(entry) };
}
