import type { HistoryEntry } from "./history.js";
import { recordKey } from "./record.js";

/** How a run with no workflow name is listed (and looked up). */
export const UNNAMED_WORKFLOW = "(unnamed)";

/** What the decision history knows of one run attempt, folded from its entries. */
export interface AttemptFacts {
  /** Each job's last known conclusion, and the evidence its failure was classed on. */
  readonly jobs: Map<string, { conclusion: string | null; evidence?: string }>;
  /** A rerun of this attempt was recorded (GitHub accepted it). */
  rerun: boolean;
  /** DRY_RUN decided a rerun of this attempt; GitHub was not called. */
  dryRun: boolean;
  /** The attempt's workflow_run conclusion, once an entry knew it. */
  runConclusion: string | null;
  /** The attempt ended without a failure (a `passed` verdict). */
  passed: boolean;
  /** Epoch ms of its first entry. */
  firstAt: number;
}

export interface RunFacts {
  /** `owner/name` */
  readonly repo: string;
  workflow: string;
  readonly attempts: Map<number, AttemptFacts>;
}

const NOT_FAILED = new Set(["success", "skipped", "neutral"]);

/** A job or run conclusion that is a failure (cancelled and timed_out included). */
export function failedConclusion(conclusion: string | null): boolean {
  return conclusion !== null && !NOT_FAILED.has(conclusion);
}

/**
 * The history's entries with `at >= since`, folded per run and attempt, oldest first: what the
 * last entry knew of each job wins. Pure.
 */
export function foldAttempts(entries: readonly HistoryEntry[], since: number): Map<string, RunFacts> {
  const runs = new Map<string, RunFacts>();
  for (const entry of [...entries].filter((e) => e.at >= since).sort((a, b) => a.at - b.at)) {
    const runKey = recordKey(entry.repo.id, entry.runId);
    let run = runs.get(runKey);
    if (run === undefined) {
      run = { repo: `${entry.repo.owner}/${entry.repo.name}`, workflow: entry.workflow ?? UNNAMED_WORKFLOW, attempts: new Map() };
      runs.set(runKey, run);
    }
    if (entry.workflow !== null) run.workflow = entry.workflow;
    let attempt = run.attempts.get(entry.attempt);
    if (attempt === undefined) {
      attempt = { jobs: new Map(), rerun: false, dryRun: false, runConclusion: null, passed: false, firstAt: entry.at };
      run.attempts.set(entry.attempt, attempt);
    }
    for (const job of entry.jobs) {
      attempt.jobs.set(job.name, job.evidence === undefined ? { conclusion: job.conclusion } : { conclusion: job.conclusion, evidence: job.evidence });
    }
    if (entry.verdict === "rerun") attempt.rerun = true;
    if (entry.verdict === "dry-run") attempt.dryRun = true;
    if (entry.verdict === "passed") attempt.passed = true;
    if (entry.runConclusion !== undefined) attempt.runConclusion = entry.runConclusion;
  }
  return runs;
}

/** The attempt after `n` the history saw, if any. */
export function nextAttempt(run: RunFacts, n: number): AttemptFacts | undefined {
  const next = [...run.attempts.keys()].filter((k) => k > n).sort((a, b) => a - b)[0];
  return next === undefined ? undefined : run.attempts.get(next);
}

/** Whether an attempt failed: a failed job, a failed run conclusion, or a verdict only a failure gets. */
export function attemptFailedIn(attempt: AttemptFacts): boolean {
  if (attempt.rerun || attempt.dryRun) return true;
  if (attempt.runConclusion !== null) return failedConclusion(attempt.runConclusion);
  return [...attempt.jobs.values()].some((j) => failedConclusion(j.conclusion));
}

/** Whether an attempt passed: its run concluded success, or it was recorded as passed. */
export function attemptPassed(attempt: AttemptFacts): boolean {
  return attempt.runConclusion === "success" || (attempt.runConclusion === null && attempt.passed);
}
