import pg from "pg";
import { pendingUntil, type HistoryEntry, type JsonValue, type RunRecord, type Store, type Versioned, type VersionedDoc } from "@job-rerunner/core";
import { PostgresHistory } from "./postgres-history.js";
import { migrate, SchemaMismatch, type Tables } from "./postgres-schema.js";

export interface PostgresStoreOptions {
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: () => number;
  /** Schema holding the tables (default: the URL's `schema` parameter, else the login's search_path, normally `public`). */
  readonly schema?: string;
  /** Most connections this process opens (default: the URL's `pool_max` parameter, else 10). */
  readonly poolMax?: number;
  /** How long opening a connection may take before it fails (ms, default 5000). */
  readonly connectTimeoutMs?: number;
  /** How long one statement may take before it fails (ms, default 5000). */
  readonly queryTimeoutMs?: number;
  /** How often expired rows are deleted (ms, default one minute; 0 disables the timer). */
  readonly sweepIntervalMs?: number;
  /** Rows deleted per statement by the sweep (default 500), so it never holds many row locks at once. */
  readonly sweepBatchSize?: number;
  /** A background failure (an idle connection dropped, a sweep that failed): for the log. */
  readonly onBackgroundError?: (message: string) => void;
}

/** PostgreSQL could not be reached or answered with an error; the message never holds the password. */
export class PostgresUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PostgresUnavailable";
  }
}

/** The parts of a STORE URL that are ours (pg passes unknown parameters on to the server). */
interface ParsedUrl {
  readonly connectionString: string;
  /** `user@host:port/database`, for messages: never the password. */
  readonly target: string;
  readonly password: string;
  readonly schema: string | undefined;
  readonly poolMax: number | undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Reads a `postgres://` / `postgresql://` URL; throws a message that never repeats the URL (it may hold a password). */
export function parsePostgresUrl(spec: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new PostgresUnavailable("is not a valid PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE; percent-encode special characters in the password)");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new PostgresUnavailable(`must start with postgres:// or postgresql://, got "${url.protocol}//..."`);
  }
  const schema = url.searchParams.get("schema") ?? undefined;
  if (schema !== undefined && !IDENTIFIER.test(schema)) {
    throw new PostgresUnavailable(`has schema="${schema}": a schema name is letters, digits and _, not starting with a digit`);
  }
  const rawMax = url.searchParams.get("pool_max") ?? undefined;
  if (rawMax !== undefined && !/^[1-9]\d{0,3}$/.test(rawMax)) {
    throw new PostgresUnavailable(`has pool_max="${rawMax}": it must be a whole number from 1 to 9999`);
  }
  url.searchParams.delete("schema");
  url.searchParams.delete("pool_max");
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const user = decode(url.username) || "(default user)";
  const host = url.hostname === "" ? "localhost" : url.hostname;
  const database = decode(url.pathname.slice(1)) || "(default database)";
  return {
    connectionString: url.toString(),
    target: `${user}@${host}:${url.port || "5432"}/${database}`,
    password: decode(url.password),
    schema,
    poolMax: rawMax === undefined ? undefined : Number(rawMax),
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

interface RecordRow {
  readonly version: string;
  readonly record: string;
}

interface DocRow {
  readonly version: string;
  readonly value: string;
}

/**
 * Run records and documents in PostgreSQL, shared by any number of server instances. Every
 * compare-and-set is one conditional statement (INSERT ... ON CONFLICT ... WHERE expired, or
 * UPDATE ... WHERE version = $v): under READ COMMITTED a concurrent writer of the same row waits
 * for the first one's commit and then re-checks the condition, so no update is lost and no table
 * is ever locked. The tables are created (or migrated) on first use; see postgres-schema.ts.
 */
export class PostgresStore implements Store {
  /** `user@host:port/database` (never the password), for logs. */
  readonly target: string;
  readonly schema: string | undefined;
  readonly #pool: pg.Pool;
  readonly #password: string;
  readonly #now: () => number;
  readonly #tables: Tables;
  readonly #sql: ReturnType<typeof statements>;
  readonly #history: PostgresHistory;
  readonly #batch: number;
  readonly #onBackgroundError: (message: string) => void;
  readonly #timer: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;
  #isReady = false;
  #sweeping: Promise<number> | undefined;
  #closed = false;

  /** Opens the store and waits until PostgreSQL answered and the tables are there. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, options);
    try {
      await store.ready();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Connects lazily: the first operation (or `ready()`) connects and prepares the tables. */
  constructor(url: string, options: PostgresStoreOptions = {}) {
    const parsed = parsePostgresUrl(url);
    this.target = parsed.target;
    this.#password = parsed.password;
    this.schema = options.schema ?? parsed.schema;
    if (this.schema !== undefined && !IDENTIFIER.test(this.schema)) throw new PostgresUnavailable(`schema "${this.schema}" is not a plain identifier`);
    this.#now = options.now ?? Date.now;
    this.#batch = Math.max(1, Math.floor(options.sweepBatchSize ?? 500));
    this.#onBackgroundError = options.onBackgroundError ?? (() => {});
    const prefix = this.schema === undefined ? "" : `${quoteIdent(this.schema)}.`;
    this.#tables = { schema: this.schema, runs: `${prefix}job_rerunner_runs`, docs: `${prefix}job_rerunner_docs`, history: `${prefix}job_rerunner_history`, version: `${prefix}job_rerunner_schema` };
    this.#sql = statements(this.#tables);
    this.#history = new PostgresHistory(this.#tables.history, (text, values) => this.#query(text, values));
    // Parameters in the URL (sslmode, application_name, ...) override these defaults.
    this.#pool = new pg.Pool({
      connectionString: parsed.connectionString,
      max: options.poolMax ?? parsed.poolMax ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      query_timeout: options.queryTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: "job-rerunner",
    });
    // An idle connection that drops (PostgreSQL restarted, a proxy timed it out) is reported here;
    // without a listener Node would end the process. The pool has already discarded it.
    this.#pool.on("error", (error) => this.#onBackgroundError(this.#message("an idle connection failed", error)));
    const every = options.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        // A failed sweep only delays cleanup: reads ignore expired rows anyway.
        this.sweep().catch((error: unknown) => this.#onBackgroundError(error instanceof Error ? error.message : String(error)));
      }, every);
      this.#timer.unref();
    }
  }

  /** `PostgreSQL at user@host:port/db: <what>`, with the password scrubbed should a driver message ever hold it. */
  #message(what: string, error: unknown): string {
    let detail = error instanceof Error ? error.message : String(error);
    if (detail === "" && error instanceof AggregateError) detail = error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join("; ");
    const text = `PostgreSQL at ${this.target}: ${what}${detail === "" ? "" : `: ${detail}`}`;
    return this.#password === "" ? text : text.replaceAll(this.#password, "***");
  }

  /** Connects and creates or migrates the tables, once; a failure is retried by the next call. */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new PostgresUnavailable(`PostgreSQL at ${this.target}: the store is closed`));
    this.#ready ??= migrate(this.#pool, this.#tables).then(
      () => {
        this.#isReady = true;
      },
      (error: unknown) => {
        this.#ready = undefined;
        throw new PostgresUnavailable(this.#message(error instanceof SchemaMismatch ? "cannot use its tables" : "could not connect or prepare the tables", error));
      },
    );
    return this.#ready;
  }

  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!this.#isReady) await this.ready();
    try {
      return await this.#pool.query<R>(text, values);
    } catch (error) {
      throw new PostgresUnavailable(this.#message("query failed", error));
    }
  }

  async get(key: string): Promise<Versioned | undefined> {
    const { rows } = await this.#query<RecordRow>(this.#sql.select, [key, this.#now()]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return { record: JSON.parse(row.record) as RunRecord, version: row.version };
  }

  async put(key: string, record: RunRecord, expectedVersion: string | undefined): Promise<boolean> {
    const values = [key, JSON.stringify(record), record.expiresAt, pendingUntil(record), this.#now()];
    if (expectedVersion === undefined) return (await this.#query(this.#sql.insert, values)).rowCount === 1;
    // A token we never handed out cannot match any row (and must not reach bigint parsing).
    if (!/^\d{1,18}$/.test(expectedVersion)) return false;
    return (await this.#query(this.#sql.update, [...values, expectedVersion])).rowCount === 1;
  }

  async getDoc(key: string): Promise<VersionedDoc | undefined> {
    const { rows } = await this.#query<DocRow>(this.#sql.selectDoc, [key, this.#now()]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return { value: JSON.parse(row.value) as JsonValue, version: row.version };
  }

  async putDoc(key: string, value: JsonValue, expectedVersion: string | undefined, expiresAt: number): Promise<boolean> {
    const values = [key, JSON.stringify(value), expiresAt, this.#now()];
    if (expectedVersion === undefined) return (await this.#query(this.#sql.insertDoc, values)).rowCount === 1;
    if (!/^\d{1,18}$/.test(expectedVersion)) return false;
    return (await this.#query(this.#sql.updateDoc, [...values, expectedVersion])).rowCount === 1;
  }

  async listPending(now: number, limit: number): Promise<string[]> {
    const { rows } = await this.#query<{ key: string }>(this.#sql.pending, [now, this.#now(), Math.max(0, Math.floor(limit))]);
    return rows.map((row) => row.key);
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    await this.#history.append(entry);
  }

  async listHistory(since: number, limit: number): Promise<HistoryEntry[]> {
    return this.#history.list(since, limit, this.#now());
  }

  /**
   * Deletes expired rows, a batch at a time (also done every sweepIntervalMs); returns how many.
   * Rows another instance is writing or sweeping are skipped, never waited for.
   */
  sweep(maxBatches = 20): Promise<number> {
    this.#sweeping ??= (async () => {
      let deleted = 0;
      try {
        for (const statement of [this.#sql.sweepRuns, this.#sql.sweepDocs, this.#history.sweepStatement]) {
          for (let batch = 0; batch < maxBatches; batch++) {
            const { rowCount } = await this.#query(statement, [this.#now(), this.#batch]);
            deleted += rowCount ?? 0;
            if ((rowCount ?? 0) < this.#batch) break;
          }
        }
        return deleted;
      } finally {
        this.#sweeping = undefined;
      }
    })();
    return this.#sweeping;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#sweeping?.catch(() => {});
    // Waits for queries in flight, then closes every connection.
    await this.#pool.end();
  }
}

function statements(t: Tables) {
  return {
    select: `SELECT version::text AS version, record FROM ${t.runs} WHERE key = $1 AND expires_at > $2`,
    // Create, or replace an expired row. The version keeps counting up over an expired row, so a
    // version token read before the expiry can never match the new record.
    insert: `
      INSERT INTO ${t.runs} AS r (key, version, record, expires_at, pending_until) VALUES ($1, 1, $2, $3, $4)
      ON CONFLICT (key) DO UPDATE SET version = r.version + 1, record = EXCLUDED.record, expires_at = EXCLUDED.expires_at, pending_until = EXCLUDED.pending_until
      WHERE r.expires_at <= $5`,
    update: `
      UPDATE ${t.runs} SET version = version + 1, record = $2, expires_at = $3, pending_until = $4
      WHERE key = $1 AND version = $6 AND expires_at > $5`,
    selectDoc: `SELECT version::text AS version, value FROM ${t.docs} WHERE key = $1 AND expires_at > $2`,
    insertDoc: `
      INSERT INTO ${t.docs} AS d (key, version, value, expires_at) VALUES ($1, 1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET version = d.version + 1, value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
      WHERE d.expires_at <= $4`,
    updateDoc: `
      UPDATE ${t.docs} SET version = version + 1, value = $2, expires_at = $3
      WHERE key = $1 AND version = $5 AND expires_at > $4`,
    pending: `
      SELECT key FROM ${t.runs}
      WHERE pending_until IS NOT NULL AND pending_until <= $1 AND expires_at > $2
      ORDER BY pending_until LIMIT $3`,
    // SKIP LOCKED: a row being written (perhaps brought back to life) or swept by another
    // instance is left for a later sweep; the outer condition re-checks expiry under the lock.
    sweepRuns: `
      DELETE FROM ${t.runs} WHERE key IN (SELECT key FROM ${t.runs} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
      AND expires_at <= $1`,
    sweepDocs: `
      DELETE FROM ${t.docs} WHERE key IN (SELECT key FROM ${t.docs} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
      AND expires_at <= $1`,
  };
}
