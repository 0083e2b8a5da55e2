import type { JobStatus } from "./types.js";

/** Jobs tracked per attempt (a record's job table, a final attempt's watch); GitHub matrices have at most 256. */
export const MAX_JOBS = 1024;

/** A job's status only moves forward: queued/waiting < in_progress < completed. */
export const JOB_RANK: Readonly<Record<JobStatus, number>> = { queued: 0, waiting: 0, in_progress: 1, completed: 2 };

/** Whether a status is one of ours (an own key of JOB_RANK, never an Object.prototype member). */
export function isJobStatus(status: string): status is JobStatus {
  return Object.hasOwn(JOB_RANK, status);
}

/** A job that completed with one of the conclusions that count as failed (RERUN_CONCLUSIONS). */
export function isFailedJob(job: { readonly status: string; readonly conclusion: string | null }, conclusions: ReadonlySet<string>): boolean {
  return job.status === "completed" && conclusions.has(job.conclusion ?? "");
}

/**
 * Whether a finished attempt failed: its workflow_run conclusion when that is known (it is
 * authoritative), else whether any of its jobs failed.
 */
export function attemptFailed(
  attempt: { readonly runCompleted: boolean; readonly runConclusion: string | null; readonly failureSeen: boolean },
  conclusions: ReadonlySet<string>,
): boolean {
  return attempt.runCompleted ? conclusions.has(attempt.runConclusion ?? "") : attempt.failureSeen;
}
