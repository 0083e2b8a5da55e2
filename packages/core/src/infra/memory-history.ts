import { historyRow, MAX_HISTORY_PER_RUN, type HistoryEntry, type HistoryRow } from "../domain/history.js";

/**
 * MemoryStore's decision history, shaped as every store's is (SqliteHistory, PostgresHistory,
 * FirestoreHistory): `append`, `list(since, limit, now)` newest first (equal times: the later
 * appended first), `sweep(now)`; capped per run. Rows keep the entry as JSON text, so callers
 * never alias what is stored.
 */
export class MemoryHistory {
  /** Oldest first, in append order. */
  readonly #entries: HistoryRow[] = [];
  readonly #perRun = new Map<string, number>();

  append(entry: HistoryEntry): void {
    const row = historyRow(entry);
    const run = row.run;
    this.#entries.push(row);
    const count = (this.#perRun.get(run) ?? 0) + 1;
    this.#perRun.set(run, count);
    if (count > MAX_HISTORY_PER_RUN) {
      const oldest = this.#entries.findIndex((e) => e.run === run);
      this.#entries.splice(oldest, 1);
      this.#perRun.set(run, count - 1);
    }
  }

  list(since: number, limit: number, now: number): HistoryEntry[] {
    // Reversed first, so the stable sort keeps the later appended first among equal times.
    const live = this.#entries.filter((e) => e.expiresAt > now && e.at >= since).reverse().sort((a, b) => b.at - a.at);
    return live.slice(0, Math.max(0, Math.floor(limit))).map((e) => JSON.parse(e.json) as HistoryEntry);
  }

  sweep(now: number): number {
    let dropped = 0;
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!;
      if (e.expiresAt <= now) {
        this.#entries.splice(i, 1);
        const left = (this.#perRun.get(e.run) ?? 1) - 1;
        if (left <= 0) this.#perRun.delete(e.run);
        else this.#perRun.set(e.run, left);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.#entries.length = 0;
    this.#perRun.clear();
  }
}
