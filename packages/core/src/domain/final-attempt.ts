import type { DecisionConfig } from "./config.js";
import { attemptFailed, isFailedJob, JOB_RANK, MAX_JOBS } from "./jobs.js";
import type { JobEntry, JsonValue, RunEvent } from "./types.js";

/**
 * The last attempt RUN_ATTEMPTS allows is never tracked by the state machine (it answers 204
 * before looking at the run), yet it is the attempt a give-up is about. This watches it, apart
 * from the run record: its jobs, its completion and, once, its verdict. Read-only with respect
 * to decisions: nothing here is ever re-run.
 */
export interface FinalAttempt {
  readonly jobs: Readonly<Record<string, JobEntry>>;
  readonly runCompleted: boolean;
  readonly runConclusion: string | null;
  /** Set once, by the delivery that saw the attempt finish. */
  readonly verdict: "failed" | "passed" | null;
}

/** The doc key of a run's final attempt. */
export function finalAttemptKey(recordKey: string, attempt: number): string {
  return `final-${recordKey}-a${attempt}`;
}

/**
 * Whether the event belongs to an attempt past the rerun limit that the machine skipped for
 * that reason alone (not for NO_RETRY_LIST or RERUN_WORKFLOWS, which mean "not ours").
 */
export function isFinalAttemptEvent(event: RunEvent, config: DecisionConfig): boolean {
  if (event.attempt < config.runAttempts) return false;
  if (event.sender !== null && config.noRetry.has(event.sender.toLowerCase())) return false;
  if (config.workflows !== null && (event.workflowName === null || !config.workflows.has(event.workflowName))) return false;
  return true;
}

export function readFinalAttempt(value: JsonValue | undefined): FinalAttempt | undefined {
  if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return value as unknown as FinalAttempt;
}

/**
 * Folds one event into the final attempt (pure). `decided` is true when this event set the
 * verdict: the attempt finished (workflow_run completed, or a job completion left no known
 * job open after earlier events) and nobody had set it before.
 */
export function foldFinalAttempt(prior: FinalAttempt | undefined, event: RunEvent, config: DecisionConfig): { next: FinalAttempt; decided: boolean } {
  const base: FinalAttempt = prior ?? { jobs: {}, runCompleted: false, runConclusion: null, verdict: null };
  let next = base;
  if (event.kind === "workflow_run") {
    if (event.status === "completed" && !base.runCompleted) next = { ...base, runCompleted: true, runConclusion: event.conclusion };
  } else {
    const key = String(event.job.id);
    const known = base.jobs[key];
    const moves = known === undefined || JOB_RANK[event.job.status] > JOB_RANK[known.status];
    const room = known !== undefined || Object.keys(base.jobs).length < MAX_JOBS;
    if (moves && room) next = { ...base, jobs: { ...base.jobs, [key]: { name: event.job.name, status: event.job.status, conclusion: event.job.conclusion } } };
  }
  if (next.verdict !== null) return { next, decided: false };
  const jobs = Object.values(next.jobs);
  const jobsDone = prior !== undefined && jobs.length > 0 && jobs.every((j) => j.status === "completed") && event.kind === "workflow_job";
  if (!next.runCompleted && !jobsDone) return { next, decided: false };
  const failed = attemptFailed({ ...next, failureSeen: jobs.some((j) => isFailedJob(j, config.rerunConclusions)) }, config.rerunConclusions);
  return { next: { ...next, verdict: failed ? "failed" : "passed" }, decided: true };
}
