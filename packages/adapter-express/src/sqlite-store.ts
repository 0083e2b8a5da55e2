import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { RunRecord, Store, Versioned } from "@job-rerunner/core";

export interface SqliteStoreOptions {
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: () => number;
  /**
   * How long a write waits for another process's lock (ms). better-sqlite3 is synchronous, so
   * this wait blocks the event loop: keep it well under the engine's deadline (default 1000).
   */
  readonly busyTimeoutMs?: number;
  /** How often expired rows are deleted (ms, default one hour; 0 disables the timer). */
  readonly sweepIntervalMs?: number;
}

interface WriteParams {
  readonly key: string;
  readonly record: string;
  readonly expiresAt: number;
  readonly now: number;
}

interface Row {
  readonly version: number;
  readonly record: string;
}

/**
 * The server's persistent default store: one SQLite file (WAL mode), one row per run.
 * Every compare-and-set is a single conditional statement, so it is atomic across
 * connections and processes sharing the file, not only within this one.
 */
export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #select: Database.Statement<[string, number], Row>;
  readonly #insert: Database.Statement<[WriteParams]>;
  readonly #update: Database.Statement<[WriteParams & { readonly version: number }]>;
  readonly #sweep: Database.Statement<[number]>;
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path === ":memory:" ? path : resolve(path);
    // The first start creates ./data (or whatever directory STORE names).
    if (this.path !== ":memory:") mkdirSync(dirname(this.path), { recursive: true });
    this.#now = options.now ?? Date.now;
    this.#db = new Database(this.path, { timeout: options.busyTimeoutMs ?? 1000 });
    this.#db.pragma("journal_mode = WAL");
    // WAL with synchronous=NORMAL is durable across process crashes (only a power loss can drop the last commits).
    this.#db.pragma("synchronous = NORMAL");
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS run_records (
        key        TEXT    PRIMARY KEY,
        version    INTEGER NOT NULL,
        record     TEXT    NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS run_records_expires_at ON run_records (expires_at);
    `);
    this.#select = this.#db.prepare<[string, number], Row>(
      "SELECT version, record FROM run_records WHERE key = ? AND expires_at > ?",
    );
    // Create, or replace an expired row. The version keeps counting up over an expired row, so
    // a version token read before the expiry can never match the new record.
    this.#insert = this.#db.prepare<[WriteParams]>(`
      INSERT INTO run_records (key, version, record, expires_at) VALUES (@key, 1, @record, @expiresAt)
      ON CONFLICT (key) DO UPDATE SET version = version + 1, record = excluded.record, expires_at = excluded.expires_at
      WHERE run_records.expires_at <= @now
    `);
    this.#update = this.#db.prepare<[WriteParams & { readonly version: number }]>(`
      UPDATE run_records SET version = version + 1, record = @record, expires_at = @expiresAt
      WHERE key = @key AND version = @version AND expires_at > @now
    `);
    this.#sweep = this.#db.prepare<[number]>("DELETE FROM run_records WHERE expires_at <= ?");
    this.sweep();
    const every = options.sweepIntervalMs ?? 3_600_000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        // A sweep failing (say, a lock held elsewhere) only delays cleanup; reads ignore expired rows anyway.
        try {
          this.sweep();
        } catch {
          /* retried at the next interval */
        }
      }, every);
      this.#timer.unref();
    }
  }

  async get(key: string): Promise<Versioned | undefined> {
    const row = this.#select.get(key, this.#now());
    if (row === undefined) return undefined;
    return { record: JSON.parse(row.record) as RunRecord, version: String(row.version) };
  }

  async put(key: string, record: RunRecord, expectedVersion: string | undefined): Promise<boolean> {
    const params: WriteParams = { key, record: JSON.stringify(record), expiresAt: record.expiresAt, now: this.#now() };
    if (expectedVersion === undefined) return this.#insert.run(params).changes === 1;
    // A token we never handed out cannot match any row.
    if (!/^\d{1,15}$/.test(expectedVersion)) return false;
    return this.#update.run({ ...params, version: Number(expectedVersion) }).changes === 1;
  }

  /** Deletes expired rows (also done at open and every sweepIntervalMs); returns how many. */
  sweep(): number {
    return this.#sweep.run(this.#now()).changes;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#db.close();
  }
}
