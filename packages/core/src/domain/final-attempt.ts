import type { DecisionConfig } from "./config.js";
import { allJobsCompleted, attemptFailed, isFailedJob, isJobStatus, recordJob, senderRefusal, workflowRefusal } from "./jobs.js";
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

/**
 * Whether the event belongs to an attempt past the rerun limit that the machine skipped for
 * that reason alone (not for NO_RETRY_LIST or RERUN_WORKFLOWS, which mean "not ours").
 */
export function isFinalAttemptEvent(event: RunEvent, config: DecisionConfig): boolean {
  return event.attempt >= config.runAttempts && senderRefusal(event, config) === null && workflowRefusal(event, config) === null;
}

/** A stored watch read back; undefined when it is none (never written, or not in this shape). */
export function readFinalAttempt(value: JsonValue | undefined): FinalAttempt | undefined {
  if (value === undefined || value === null || typeof value !== "object" || Array.isArray(value) || !("jobs" in value)) return undefined;
  const { jobs, runCompleted, runConclusion, verdict } = value;
  if (typeof jobs !== "object" || jobs === null || Array.isArray(jobs) || typeof runCompleted !== "boolean") return undefined;
  if (runConclusion !== null && typeof runConclusion !== "string") return undefined;
  if (verdict !== null && verdict !== "failed" && verdict !== "passed") return undefined;
  const table: Record<string, JobEntry> = {};
  for (const [id, job] of Object.entries(jobs)) {
    if (typeof job !== "object" || job === null || Array.isArray(job) || !("name" in job) || !("status" in job)) continue;
    const { name, status, conclusion } = job;
    if (typeof name !== "string" || typeof status !== "string" || !isJobStatus(status)) continue;
    table[id] = { name, status, conclusion: typeof conclusion === "string" ? conclusion : null };
  }
  return { jobs: table, runCompleted, runConclusion, verdict };
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
    const recorded = recordJob(base.jobs, event.job);
    if (recorded.jobs !== base.jobs) next = { ...base, jobs: recorded.jobs };
  }
  if (next.verdict !== null) return { next, decided: false };
  const jobsDone = prior !== undefined && event.kind === "workflow_job" && allJobsCompleted(next.jobs);
  if (!next.runCompleted && !jobsDone) return { next, decided: false };
  const failureSeen = Object.values(next.jobs).some((j) => isFailedJob(j, config.rerunConclusions));
  const failed = attemptFailed({ ...next, failureSeen }, config.rerunConclusions);
  return { next: { ...next, verdict: failed ? "failed" : "passed" }, decided: true };
}
