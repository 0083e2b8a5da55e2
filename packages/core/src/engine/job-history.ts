import { flakyJobs, UNNAMED_WORKFLOW } from "../domain/flaky.js";
import { FLAKY_WINDOW_DAYS } from "../domain/policy/classify.js";
import type { JobHistory } from "../domain/policy/facts.js";
import type { RepoRef } from "../domain/types.js";
import type { Store } from "../ports/store.js";

/** Entries read from the decision history at most (newest first): 30 days of a busy organization fit. */
export const MAX_HISTORY_READ = 20_000;
/** How long one reading serves the failed jobs that follow (another instance's decisions show up after this). */
export const HISTORY_TTL_MS = 60_000;

export interface JobHistories {
  /** The job's failures and reruns that passed in the last FLAKY_WINDOW_DAYS days; rejects when the history cannot be read. */
  of(repo: Pick<RepoRef, "owner" | "name">, workflow: string | null, job: string): Promise<JobHistory>;
  /** This process recorded a decision: the next look-up reads the history again. */
  recorded(): void;
}

const keyOf = (repo: string, workflow: string, job: string): string => JSON.stringify([repo, workflow, job]);

/**
 * The flaky-job table (domain/flaky.ts) over the store's decision history, as the rerun policy's
 * RERUN_FLAKY_AFTER reads it: one read serves every failed job for HISTORY_TTL_MS, or until this
 * process records a decision; concurrent look-ups share one read.
 */
export function createJobHistories(store: Store, clock: () => number): JobHistories {
  let table: { readonly at: number; readonly rows: Promise<ReadonlyMap<string, JobHistory>> } | undefined;

  function read(): Promise<ReadonlyMap<string, JobHistory>> {
    const now = clock();
    if (table !== undefined && now - table.at < HISTORY_TTL_MS) return table.rows;
    const since = now - FLAKY_WINDOW_DAYS * 86_400_000;
    const rows = store.listHistory(since, MAX_HISTORY_READ).then((entries) => {
      const map = new Map<string, JobHistory>();
      for (const row of flakyJobs(entries, since)) map.set(keyOf(row.repo, row.workflow, row.job), { failures: row.failures, rerunsPassed: row.rerunsPassed });
      return map;
    });
    const current = { at: now, rows };
    table = current;
    // A failed read is not kept: the next failed job asks again.
    rows.catch(() => {
      if (table === current) table = undefined;
    });
    return rows;
  }

  return {
    async of(repo, workflow, job) {
      const rows = await read();
      return rows.get(keyOf(`${repo.owner}/${repo.name}`, workflow ?? UNNAMED_WORKFLOW, job)) ?? { failures: 0, rerunsPassed: 0 };
    },
    recorded() {
      table = undefined;
    },
  };
}
