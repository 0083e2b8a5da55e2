import { flakyJobs, UNNAMED_WORKFLOW } from "../domain/flaky.js";
import type { HistoryEntry } from "../domain/history.js";
import { FLAKY_WINDOW_DAYS } from "../domain/policy/classify.js";
import type { JobHistory } from "../domain/policy/facts.js";
import type { RepoRef } from "../domain/types.js";
import type { Store } from "../ports/store.js";

/** Entries read from the decision history at most (newest first): 30 days of a busy organization fit. */
export const MAX_HISTORY_READ = 20_000;
/** How long one read of the store serves (another instance's decisions show up after this). */
export const HISTORY_TTL_MS = 60_000;

export interface JobHistories {
  /** The job's failures and reruns that passed in the last FLAKY_WINDOW_DAYS days; rejects when the history cannot be read. */
  of(repo: Pick<RepoRef, "id" | "owner" | "name">, workflow: string | null, job: string): Promise<JobHistory>;
  /** This process recorded a decision: it counts from now on, without reading the store again. */
  recorded(entry: HistoryEntry): void;
}

const keyOf = (repo: string, workflow: string, job: string): string => JSON.stringify([repo, workflow, job]);

/**
 * The flaky-job table (domain/flaky.ts) over the store's decision history, as RERUN_FLAKY_AFTER
 * reads it. The store is read at most once a minute (concurrent look-ups share the read); the
 * decisions this process records meanwhile are added to what was read; the table is folded per
 * repository, from that repository's entries only, when one of its jobs is looked up.
 */
export function createJobHistories(store: Store, clock: () => number): JobHistories {
  let read: { readonly at: number; readonly entries: Promise<HistoryEntry[]> } | undefined;
  /** Per repository id: its entries' flaky table, until its next recorded decision or read. */
  let tables = new Map<number, ReadonlyMap<string, JobHistory>>();

  function entries(): Promise<HistoryEntry[]> {
    const now = clock();
    if (read !== undefined && now - read.at < HISTORY_TTL_MS) return read.entries;
    const current = { at: now, entries: store.listHistory(now - FLAKY_WINDOW_DAYS * 86_400_000, MAX_HISTORY_READ) };
    read = current;
    tables = new Map();
    // A failed read is not kept: the next failed job asks again.
    current.entries.catch(() => {
      if (read === current) read = undefined;
    });
    return current.entries;
  }

  return {
    async of(repo, workflow, job) {
      const all = await entries();
      let table = tables.get(repo.id);
      if (table === undefined) {
        const since = clock() - FLAKY_WINDOW_DAYS * 86_400_000;
        const rows = new Map<string, JobHistory>();
        for (const row of flakyJobs(all.filter((e) => e.repo.id === repo.id), since)) {
          rows.set(keyOf(row.repo, row.workflow, row.job), { failures: row.failures, rerunsPassed: row.rerunsPassed });
        }
        table = rows;
        tables.set(repo.id, table);
      }
      return table.get(keyOf(`${repo.owner}/${repo.name}`, workflow ?? UNNAMED_WORKFLOW, job)) ?? { failures: 0, rerunsPassed: 0 };
    },
    recorded(entry) {
      // Only into a read already made: a later read finds it in the store.
      void read?.entries.then((list) => list.push(entry), () => {});
      tables.delete(entry.repo.id);
    },
  };
}
