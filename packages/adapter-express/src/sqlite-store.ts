import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { pendingUntil, type HistoryEntry, type JsonValue, type RunRecord, type Store, type Versioned, type VersionedDoc } from "@job-rerunner/core";
import { HISTORY_SCHEMA, SqliteHistory } from "./sqlite-history.js";

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
  /**
   * How long opening waits for another process that holds the file (ms, default 30000): an
   * instance starting at the same moment may be creating it, and its WAL switch and schema
   * writes fsync, which can take seconds on a busy disk. Nothing listens yet, so waiting is free.
   */
  readonly openTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS run_records (
    key        TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL,
    record     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS run_records_expires_at ON run_records (expires_at);
  CREATE TABLE IF NOT EXISTS docs (
    key        TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** SQLITE_BUSY and its extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT, BUSY_TIMEOUT). */
function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith("SQLITE_BUSY");
}

/**
 * Runs one step of opening the file, again while another process holds it: the busy timeout
 * covers most waits, but SQLite answers BUSY without waiting in a few cases (a WAL index being
 * set up or recovered by another connection, a read snapshot gone stale).
 */
function whenFree<T>(step: () => T, until: number): T {
  for (;;) {
    try {
      return step();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= until) throw error;
      // Opening is synchronous and nothing is served yet: a blocking pause is fine here.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

interface WriteParams {
  readonly key: string;
  readonly record: string;
  readonly expiresAt: number;
  readonly now: number;
  readonly pendingUntil: number | null;
}

interface DocParams {
  readonly key: string;
  readonly value: string;
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
/**
 * Creates `dir` and its missing parents one level at a time from the nearest existing one. Not
 * mkdirSync's `recursive`: under a parent it cannot create in (/proc, a read-only mount), Node's
 * recursive mkdir can loop for ever; here the first level that fails throws its own error.
 */
function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  let existing = dir;
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (existsSync(existing) && !statSync(existing).isDirectory()) throw new Error(`cannot create ${dir}: ${existing} is not a directory`);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Another process created it meanwhile (two instances starting on one file).
      if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error;
    }
  }
}

export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #select: Database.Statement<[string, number], Row>;
  readonly #insert: Database.Statement<[WriteParams]>;
  readonly #update: Database.Statement<[WriteParams & { readonly version: number }]>;
  readonly #sweep: Database.Statement<[number]>;
  readonly #sweepDocs: Database.Statement<[number]>;
  readonly #selectDoc: Database.Statement<[string, number], { version: number; value: string }>;
  readonly #insertDoc: Database.Statement<[DocParams]>;
  readonly #updateDoc: Database.Statement<[DocParams & { readonly version: number }]>;
  readonly #pending: Database.Statement<[number, number, number], { key: string }>;
  readonly #history: SqliteHistory;
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path === ":memory:" ? path : resolve(path);
    // The first start creates ./data (or whatever directory STORE names).
    if (this.path !== ":memory:") ensureDirectory(dirname(this.path));
    this.#now = options.now ?? Date.now;
    const busyTimeoutMs = options.busyTimeoutMs ?? 1000;
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new RangeError(`busyTimeoutMs must be a whole number of milliseconds, got ${busyTimeoutMs}`);
    const openTimeoutMs = Math.max(options.openTimeoutMs ?? 30_000, busyTimeoutMs);
    const until = Date.now() + openTimeoutMs;
    // The long wait is set as the connection opens, before any statement: switching to WAL
    // writes the file header, so it must already wait for a lock rather than fail on one.
    this.#db = whenFree(() => new Database(this.path, { timeout: openTimeoutMs }), until);
    try {
      whenFree(() => this.#db.pragma("journal_mode = WAL"), until);
      // WAL with synchronous=NORMAL is durable across process crashes (only a power loss can drop the last commits).
      this.#db.pragma("synchronous = NORMAL");
      // One write transaction: another instance sees either no table or the table with its index.
      const createSchema = this.#db.transaction(() => {
        this.#db.exec(SCHEMA);
        this.#db.exec(HISTORY_SCHEMA);
        // Files from before listPending have no pending_until column: add it (NULL: nothing pending).
        const columns = this.#db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('run_records')").all();
        if (!columns.some((c) => c.name === "pending_until")) this.#db.exec("ALTER TABLE run_records ADD COLUMN pending_until INTEGER");
        this.#db.exec("CREATE INDEX IF NOT EXISTS run_records_pending_until ON run_records (pending_until) WHERE pending_until IS NOT NULL");
      });
      whenFree(() => createSchema.immediate(), until);
      this.#sweep = this.#db.prepare<[number]>("DELETE FROM run_records WHERE expires_at <= ?");
      this.#sweepDocs = this.#db.prepare<[number]>("DELETE FROM docs WHERE expires_at <= ?");
      this.#history = new SqliteHistory(this.#db);
      whenFree(() => this.sweep(), until);
    } catch (error) {
      this.#db.close();
      throw error;
    }
    // From here a write waits only briefly: better-sqlite3 is synchronous, so a wait blocks the event loop.
    this.#db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    this.#select = this.#db.prepare<[string, number], Row>(
      "SELECT version, record FROM run_records WHERE key = ? AND expires_at > ?",
    );
    // Create, or replace an expired row. The version keeps counting up over an expired row, so
    // a version token read before the expiry can never match the new record.
    this.#insert = this.#db.prepare<[WriteParams]>(`
      INSERT INTO run_records (key, version, record, expires_at, pending_until) VALUES (@key, 1, @record, @expiresAt, @pendingUntil)
      ON CONFLICT (key) DO UPDATE SET version = version + 1, record = excluded.record, expires_at = excluded.expires_at, pending_until = excluded.pending_until
      WHERE run_records.expires_at <= @now
    `);
    this.#update = this.#db.prepare<[WriteParams & { readonly version: number }]>(`
      UPDATE run_records SET version = version + 1, record = @record, expires_at = @expiresAt, pending_until = @pendingUntil
      WHERE key = @key AND version = @version AND expires_at > @now
    `);
    this.#selectDoc = this.#db.prepare<[string, number], { version: number; value: string }>(
      "SELECT version, value FROM docs WHERE key = ? AND expires_at > ?",
    );
    this.#insertDoc = this.#db.prepare<[DocParams]>(`
      INSERT INTO docs (key, version, value, expires_at) VALUES (@key, 1, @value, @expiresAt)
      ON CONFLICT (key) DO UPDATE SET version = version + 1, value = excluded.value, expires_at = excluded.expires_at
      WHERE docs.expires_at <= @now
    `);
    this.#updateDoc = this.#db.prepare<[DocParams & { readonly version: number }]>(`
      UPDATE docs SET version = version + 1, value = @value, expires_at = @expiresAt
      WHERE key = @key AND version = @version AND expires_at > @now
    `);
    this.#pending = this.#db.prepare<[number, number, number], { key: string }>(
      "SELECT key FROM run_records WHERE pending_until IS NOT NULL AND pending_until <= ? AND expires_at > ? ORDER BY pending_until LIMIT ?",
    );
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
    const params: WriteParams = { key, record: JSON.stringify(record), expiresAt: record.expiresAt, now: this.#now(), pendingUntil: pendingUntil(record) };
    if (expectedVersion === undefined) return this.#insert.run(params).changes === 1;
    // A token we never handed out cannot match any row.
    if (!/^\d{1,15}$/.test(expectedVersion)) return false;
    return this.#update.run({ ...params, version: Number(expectedVersion) }).changes === 1;
  }

  async getDoc(key: string): Promise<VersionedDoc | undefined> {
    const row = this.#selectDoc.get(key, this.#now());
    if (row === undefined) return undefined;
    return { value: JSON.parse(row.value) as JsonValue, version: String(row.version) };
  }

  async putDoc(key: string, value: JsonValue, expectedVersion: string | undefined, expiresAt: number): Promise<boolean> {
    const params: DocParams = { key, value: JSON.stringify(value), expiresAt, now: this.#now() };
    if (expectedVersion === undefined) return this.#insertDoc.run(params).changes === 1;
    if (!/^\d{1,15}$/.test(expectedVersion)) return false;
    return this.#updateDoc.run({ ...params, version: Number(expectedVersion) }).changes === 1;
  }

  async listPending(now: number, limit: number): Promise<string[]> {
    return this.#pending.all(now, this.#now(), Math.max(0, Math.floor(limit))).map((row) => row.key);
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    this.#history.append(entry);
  }

  async listHistory(since: number, limit: number): Promise<HistoryEntry[]> {
    return this.#history.list(since, limit, this.#now());
  }

  /** Deletes expired rows (also done at open and every sweepIntervalMs); returns how many. */
  sweep(): number {
    const now = this.#now();
    return this.#sweep.run(now).changes + this.#sweepDocs.run(now).changes + this.#history.sweep(now);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#db.close();
  }
}
