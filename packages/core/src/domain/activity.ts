import { attemptFailedIn, attemptPassed, foldAttempts, nextAttempt } from "./attempts.js";
import type { HistoryEntry } from "./history.js";

const DAY = 86_400_000;

/** One UTC day of the decision history. */
export interface DayActivity {
  /** Epoch ms of the day's start (UTC midnight). */
  readonly dayStart: number;
  /** Run attempts that failed (first seen that day). */
  readonly failedAttempts: number;
  /** Of those, attempts job-rerunner re-ran (GitHub accepted the rerun). */
  readonly reruns: number;
  /** Of those reruns, the ones whose next attempt passed. */
  readonly rerunsPassed: number;
  /** Attempts DRY_RUN would have re-run (GitHub not called): counted apart from reruns. */
  readonly dryRuns: number;
}

export interface Activity {
  /** Oldest first, one per day, today included: `days` entries. */
  readonly days: readonly DayActivity[];
  readonly failedAttempts: number;
  readonly reruns: number;
  readonly rerunsPassed: number;
  readonly dryRuns: number;
}

/**
 * What job-rerunner did per UTC day over the last `days` days (pure): each failed run attempt
 * counts on the day it was first recorded, with its rerun and whether the next attempt passed.
 * Each rerun is one "Re-run failed jobs" click nobody had to make.
 */
export function dailyActivity(entries: readonly HistoryEntry[], now: number, days = 30): Activity {
  const today = Math.floor(now / DAY);
  const first = today - days + 1;
  const counts = Array.from({ length: days }, (_, i) => ({ dayStart: (first + i) * DAY, failedAttempts: 0, reruns: 0, rerunsPassed: 0, dryRuns: 0 }));
  for (const run of foldAttempts(entries, first * DAY).values()) {
    for (const [n, attempt] of run.attempts) {
      if (!attemptFailedIn(attempt)) continue;
      const day = counts[Math.floor(attempt.firstAt / DAY) - first];
      if (day === undefined) continue;
      day.failedAttempts++;
      if (attempt.dryRun) day.dryRuns++;
      if (!attempt.rerun) continue;
      day.reruns++;
      const next = nextAttempt(run, n);
      if (next !== undefined && attemptPassed(next)) day.rerunsPassed++;
    }
  }
  const sum = (field: "failedAttempts" | "reruns" | "rerunsPassed" | "dryRuns"): number => counts.reduce((total, d) => total + d[field], 0);
  return { days: counts, failedAttempts: sum("failedAttempts"), reruns: sum("reruns"), rerunsPassed: sum("rerunsPassed"), dryRuns: sum("dryRuns") };
}
