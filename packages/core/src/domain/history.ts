import type { RepoRef } from "./types.js";

/**
 * What a decision came to for its attempt:
 * - rerun: GitHub accepted the rerun of failed jobs (or an earlier call had made it).
 * - pending: the rerun is decided but not accepted yet (GitHub failed or is busy; retried later).
 * - refused: GitHub refused the rerun (a missing permission, a run it will not re-run).
 * - gave-up: the attempt failed and will not be re-run (attempt limit, or the failure judged genuine).
 * - passed: the attempt finished with no failed job.
 * - not-rerun: the attempt failed but is out of scope (branch not in REPO_BRANCHES).
 * - other: any other recorded decision (a job seen completed with no earlier record, ...).
 */
export type Verdict = "rerun" | "pending" | "refused" | "gave-up" | "passed" | "not-rerun" | "other";

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

/** The key entries of one run share (the same as the run's record key). */
export function historyRunKey(entry: Pick<HistoryEntry, "repo" | "runId">): string {
  return `r${entry.repo.id}-${entry.runId}`;
}

/**
 * The in-process history of MemoryStore: newest last, capped per run, expired entries dropped.
 * Entries are kept as JSON text, so callers never alias what is stored.
 */
export class MemoryHistory {
  readonly #entries: { json: string; at: number; expiresAt: number; run: string }[] = [];
  readonly #perRun = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  append(entry: HistoryEntry): void {
    const run = historyRunKey(entry);
    this.#entries.push({ json: JSON.stringify(entry), at: entry.at, expiresAt: entry.expiresAt, run });
    const count = (this.#perRun.get(run) ?? 0) + 1;
    this.#perRun.set(run, count);
    if (count > MAX_HISTORY_PER_RUN) {
      const oldest = this.#entries.findIndex((e) => e.run === run);
      this.#entries.splice(oldest, 1);
      this.#perRun.set(run, count - 1);
    }
  }

  list(since: number, limit: number): HistoryEntry[] {
    const now = this.#now();
    const out: HistoryEntry[] = [];
    const live = this.#entries.filter((e) => e.expiresAt > now && e.at >= since).sort((a, b) => b.at - a.at);
    for (const e of live.slice(0, Math.max(0, Math.floor(limit)))) out.push(JSON.parse(e.json) as HistoryEntry);
    return out;
  }

  sweep(): number {
    const now = this.#now();
    let dropped = 0;
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!;
      if (e.expiresAt <= now) {
        this.#entries.splice(i, 1);
        const left = (this.#perRun.get(e.run) ?? 1) - 1;
        if (left <= 0) this.#perRun.delete(e.run);
        else this.#perRun.set(e.run, left);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.#entries.length = 0;
    this.#perRun.clear();
  }
}
