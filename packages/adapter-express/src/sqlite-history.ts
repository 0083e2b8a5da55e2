import type Database from "better-sqlite3";
import { historyRow, MAX_HISTORY_PER_RUN, type HistoryEntry } from "@job-rerunner/core";

/**
 * SqliteStore's decision history: one row per entry in the store's file, indexed by time (the
 * status page reads the newest) and by run (the per-run cap). Append and cap are one transaction.
 */
export const HISTORY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key    TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    entry      TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS history_at ON history (at);
  CREATE INDEX IF NOT EXISTS history_run ON history (run_key, id);
  CREATE INDEX IF NOT EXISTS history_expires_at ON history (expires_at);
`;

export class SqliteHistory {
  readonly #insert: Database.Statement<[{ run: string; at: number; expiresAt: number; json: string }]>;
  readonly #trim: Database.Statement<[string, string, number]>;
  readonly #list: Database.Statement<[number, number, number], { entry: string }>;
  readonly #sweep: Database.Statement<[number]>;
  readonly #append: (entry: HistoryEntry) => void;

  /** The table must exist: SqliteStore creates HISTORY_SCHEMA with the rest, in one transaction. */
  constructor(db: Database.Database) {
    this.#insert = db.prepare("INSERT INTO history (run_key, at, expires_at, entry) VALUES (@run, @at, @expiresAt, @json)");
    this.#trim = db.prepare(
      "DELETE FROM history WHERE run_key = ? AND id NOT IN (SELECT id FROM history WHERE run_key = ? ORDER BY id DESC LIMIT ?)",
    );
    this.#list = db.prepare<[number, number, number], { entry: string }>(
      "SELECT entry FROM history WHERE at >= ? AND expires_at > ? ORDER BY at DESC, id DESC LIMIT ?",
    );
    this.#sweep = db.prepare<[number]>("DELETE FROM history WHERE expires_at <= ?");
    this.#append = db.transaction((entry: HistoryEntry) => {
      const row = historyRow(entry);
      this.#insert.run(row);
      this.#trim.run(row.run, row.run, MAX_HISTORY_PER_RUN);
    });
  }

  append(entry: HistoryEntry): void {
    this.#append(entry);
  }

  list(since: number, limit: number, now: number): HistoryEntry[] {
    return this.#list.all(since, now, Math.max(0, Math.floor(limit))).map((row) => JSON.parse(row.entry) as HistoryEntry);
  }

  sweep(now: number): number {
    return this.#sweep.run(now).changes;
  }
}
