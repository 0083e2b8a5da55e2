import type { DecisionConfig } from "./config.js";
import type { JobEntry, JobStatus } from "./types.js";

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
  return attempt.runCompleted ? isFailedConclusion(attempt.runConclusion, conclusions) : attempt.failureSeen;
}

/** A run's conclusion that counts as failed (a `workflow_run` completed with one of RERUN_CONCLUSIONS). */
export function isFailedConclusion(conclusion: string | null, conclusions: ReadonlySet<string>): boolean {
  return conclusions.has(conclusion ?? "");
}

/** Jobs of a table still open (not completed), and how many jobs it has. */
export function openJobs(jobs: Readonly<Record<string, JobEntry>>): { readonly open: number; readonly total: number } {
  const all = Object.values(jobs);
  return { open: all.filter((j) => j.status !== "completed").length, total: all.length };
}

/** Every job of the table has completed (an empty table has not: nothing is known yet). */
export function allJobsCompleted(jobs: Readonly<Record<string, JobEntry>>): boolean {
  const { open, total } = openJobs(jobs);
  return total > 0 && open === 0;
}

/**
 * A job's entry in a table by id: own keys only, so no payload text reaches an Object.prototype
 * member; an entry with no known status (written before payload text was kept off
 * Object.prototype) is as good as unknown.
 */
export function jobIn(jobs: Readonly<Record<string, JobEntry>>, key: string): JobEntry | undefined {
  const entry = Object.hasOwn(jobs, key) ? jobs[key] : undefined;
  return entry !== undefined && isJobStatus(entry.status) ? entry : undefined;
}

/**
 * Records a job event in a table: its status only moves forward, and a table at MAX_JOBS takes
 * no new job (the same table comes back when nothing changed). `advanced` says whether the event
 * moved the job's status forward, recorded or not (a job past MAX_JOBS still counts as failed).
 */
export function recordJob(
  jobs: Readonly<Record<string, JobEntry>>,
  job: { readonly id: number; readonly name: string; readonly status: JobStatus; readonly conclusion: string | null },
): { readonly jobs: Readonly<Record<string, JobEntry>>; readonly advanced: boolean } {
  const key = String(job.id);
  const known = jobIn(jobs, key);
  const moves = known === undefined || JOB_RANK[job.status] > JOB_RANK[known.status];
  const room = Object.hasOwn(jobs, key) || Object.keys(jobs).length < MAX_JOBS;
  if (!moves || !room) return { jobs, advanced: moves };
  return { jobs: { ...jobs, [key]: { name: job.name, status: job.status, conclusion: job.conclusion } }, advanced: true };
}

/** Why a run's events are not ours: the sender is in NO_RETRY_LIST; else null. */
export function senderRefusal(event: { readonly sender: string | null }, config: Pick<DecisionConfig, "noRetry">): string | null {
  return event.sender !== null && config.noRetry.has(event.sender.toLowerCase()) ? `sender ${event.sender} is in NO_RETRY_LIST` : null;
}

/** Why a run's events are not ours: its workflow (the event's, else `knownWorkflow`) is not in RERUN_WORKFLOWS; else null. */
export function workflowRefusal(
  event: { readonly workflowName: string | null },
  config: Pick<DecisionConfig, "workflows">,
  knownWorkflow: string | null = null,
): string | null {
  if (config.workflows === null) return null;
  const name = event.workflowName ?? knownWorkflow;
  return name !== null && config.workflows.has(name) ? null : `workflow ${name === null ? "(unnamed)" : `"${name}"`} is not in RERUN_WORKFLOWS`;
}
