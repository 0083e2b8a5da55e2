import { failedConclusion, foldAttempts, nextAttempt } from "./attempts.js";
import type { HistoryEntry } from "./history.js";

export { UNNAMED_WORKFLOW } from "./attempts.js";

/** One workflow job's record over a period, as the status page's flaky-job table shows it. */
export interface FlakyJob {
  /** `owner/name` */
  readonly repo: string;
  readonly workflow: string;
  readonly job: string;
  /** Attempts in which the job failed. */
  readonly failures: number;
  /** Of those, attempts that were re-run. */
  readonly reruns: number;
  /** Of those, reruns in which the job then passed (the next attempt's outcome). */
  readonly rerunsPassed: number;
  /** The evidence line seen most often with its failures, and how often. */
  readonly evidence: string | null;
  readonly evidenceCount: number;
}

/**
 * The flaky-job table from the decision history (pure): entries with `at >= since` are folded
 * per run attempt (what the last entry knew of each job wins), then counted per repository,
 * workflow and job name. An attempt counts as re-run when a rerun was recorded for it or a later
 * attempt of the run was seen. A rerun passed when the job's conclusion in the next attempt is
 * `success`. When no entry knew that conclusion (the next attempt's workflow_run completed event
 * came before the job's workflow_job one, and its verdict is recorded once, then), it passed when
 * that attempt's run concluded `success`, which a failed job rules out: the count does not depend
 * on webhook order. Most failures first.
 */
export function flakyJobs(entries: readonly HistoryEntry[], since: number): FlakyJob[] {
  const runs = foldAttempts(entries, since);
  const table = new Map<string, { repo: string; workflow: string; job: string; failures: number; reruns: number; rerunsPassed: number; evidence: Map<string, number> }>();
  for (const run of runs.values()) {
    for (const [n, attempt] of run.attempts) {
      const next = nextAttempt(run, n);
      const rerun = attempt.rerun || next !== undefined;
      const passedNext = (name: string): boolean => {
        if (next === undefined) return false;
        const conclusion = next.jobs.get(name)?.conclusion ?? null;
        return conclusion !== null ? conclusion === "success" : next.runConclusion === "success";
      };
      for (const [name, job] of attempt.jobs) {
        if (!failedConclusion(job.conclusion)) continue;
        const key = JSON.stringify([run.repo, run.workflow, name]);
        let row = table.get(key);
        if (row === undefined) {
          row = { repo: run.repo, workflow: run.workflow, job: name, failures: 0, reruns: 0, rerunsPassed: 0, evidence: new Map() };
          table.set(key, row);
        }
        row.failures++;
        if (rerun) row.reruns++;
        if (rerun && passedNext(name)) row.rerunsPassed++;
        if (job.evidence !== undefined) row.evidence.set(job.evidence, (row.evidence.get(job.evidence) ?? 0) + 1);
      }
    }
  }
  return [...table.values()]
    .map(({ evidence, ...row }) => {
      const top = [...evidence.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
      return { ...row, evidence: top?.[0] ?? null, evidenceCount: top?.[1] ?? 0 };
    })
    .sort((a, b) => b.failures - a.failures || b.rerunsPassed - a.rerunsPassed || a.job.localeCompare(b.job));
}
