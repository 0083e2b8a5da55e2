import { historyRow, MAX_HISTORY_PER_RUN, type HistoryEntry } from "@job-rerunner/core";

/** Runs one statement on the store's pool (its timeouts and error wording). */
type Query = <R extends { [column: string]: unknown }>(text: string, values: unknown[]) => Promise<{ rows: R[] }>;

/**
 * PostgresStore's decision history, in its own table (postgres-schema.ts creates it): one row per
 * entry, indexed by time (the status page reads the newest) and by run (the per-run cap), as
 * SqliteHistory and FirestoreHistory keep theirs.
 */
export class PostgresHistory {
  readonly #query: Query;
  readonly #append: string;
  readonly #trim: string;
  readonly #list: string;
  /** Deletes one batch of expired entries ($1 now, $2 batch size): the store's sweep runs it with its own. */
  readonly sweepStatement: string;

  constructor(table: string, query: Query) {
    this.#query = query;
    this.#append = `INSERT INTO ${table} (run_key, at, expires_at, entry) VALUES ($1, $2, $3, $4)`;
    this.#trim = `
      DELETE FROM ${table} WHERE run_key = $1
      AND id NOT IN (SELECT id FROM ${table} WHERE run_key = $1 ORDER BY id DESC LIMIT $2)`;
    this.#list = `SELECT entry FROM ${table} WHERE at >= $1 AND expires_at > $2 ORDER BY at DESC, id DESC LIMIT $3`;
    this.sweepStatement = `
      DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`;
  }

  async append(entry: HistoryEntry): Promise<void> {
    const row = historyRow(entry);
    await this.#query(this.#append, [row.run, row.at, row.expiresAt, row.json]);
    // The per-run cap: a concurrent append may leave one more for a moment; the next trim takes it.
    await this.#query(this.#trim, [row.run, MAX_HISTORY_PER_RUN]);
  }

  async list(since: number, limit: number, now: number): Promise<HistoryEntry[]> {
    const { rows } = await this.#query<{ entry: string }>(this.#list, [since, now, Math.max(0, Math.floor(limit))]);
    return rows.map((row) => JSON.parse(row.entry) as HistoryEntry);
  }
}
