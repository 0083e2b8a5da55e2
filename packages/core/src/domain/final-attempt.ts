import type { Config } from "../env/config.js";
import type { JsonValue } from "../ports/store.js";
import type { JobEntry, JobStatus, RunEvent } from "./types.js";

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

const RANK: Record<JobStatus, number> = { queued: 0, waiting: 0, in_progress: 1, completed: 2 };

/** Jobs watched per final attempt (as MAX_JOBS for tracked attempts). */
const MAX_FINAL_JOBS = 1024;

/** The doc key of a run's final attempt. */
export function finalAttemptKey(recordKey: string, attempt: number): string {
  return `final-${recordKey}-a${attempt}`;
}

/**
 * Whether the event belongs to an attempt past the rerun limit that the machine skipped for
 * that reason alone (not for NO_RETRY_LIST or RERUN_WORKFLOWS, which mean "not ours").
 */
export function isFinalAttemptEvent(event: RunEvent, config: Config): boolean {
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
export function foldFinalAttempt(prior: FinalAttempt | undefined, event: RunEvent, config: Config): { next: FinalAttempt; decided: boolean } {
  const base: FinalAttempt = prior ?? { jobs: {}, runCompleted: false, runConclusion: null, verdict: null };
  let next = base;
  if (event.kind === "workflow_run") {
    if (event.status === "completed" && !base.runCompleted) next = { ...base, runCompleted: true, runConclusion: event.conclusion };
  } else {
    const key = String(event.job.id);
    const known = base.jobs[key];
    const moves = known === undefined || RANK[event.job.status] > RANK[known.status];
    const room = known !== undefined || Object.keys(base.jobs).length < MAX_FINAL_JOBS;
    if (moves && room) next = { ...base, jobs: { ...base.jobs, [key]: { name: event.job.name, status: event.job.status, conclusion: event.job.conclusion } } };
  }
  if (next.verdict !== null) return { next, decided: false };
  const jobs = Object.values(next.jobs);
  const jobsDone = prior !== undefined && jobs.length > 0 && jobs.every((j) => j.status === "completed") && event.kind === "workflow_job";
  if (!next.runCompleted && !jobsDone) return { next, decided: false };
  const failed = next.runCompleted
    ? config.rerunConclusions.has(next.runConclusion ?? "")
    : jobs.some((j) => config.rerunConclusions.has(j.conclusion ?? ""));
  return { next: { ...next, verdict: failed ? "failed" : "passed" }, decided: true };
}
