import type pg from "pg";

/** Table names, schema-qualified and quoted when a schema is given. */
export interface Tables {
  readonly schema: string | undefined;
  readonly runs: string;
  readonly docs: string;
  readonly history: string;
  readonly version: string;
}

export interface Migration {
  readonly description: string;
  /**
   * The oldest schema version whose code can still use the tables after this migration: an
   * additive migration (a new table, a new nullable column) keeps the one before it, so instances
   * of the previous release keep running during a rolling upgrade.
   */
  readonly oldestCompatible: number;
  sql(t: Tables): string;
}

/** In order; the schema version is how many have been applied. Append a migration, never edit one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    description: "run records and small documents",
    oldestCompatible: 1,
    // Times are epoch milliseconds (bigint), as the engine keeps them. Records are JSON text, not
    // jsonb: jsonb refuses "\u0000", which a webhook payload may carry in a job name.
    sql: (t) => `
      CREATE TABLE IF NOT EXISTS ${t.runs} (
        key           text   PRIMARY KEY,
        version       bigint NOT NULL,
        record        text   NOT NULL,
        expires_at    bigint NOT NULL,
        pending_until bigint
      );
      CREATE INDEX IF NOT EXISTS job_rerunner_runs_expires_at ON ${t.runs} (expires_at);
      CREATE INDEX IF NOT EXISTS job_rerunner_runs_pending_until ON ${t.runs} (pending_until) WHERE pending_until IS NOT NULL;
      CREATE TABLE IF NOT EXISTS ${t.docs} (
        key        text   PRIMARY KEY,
        version    bigint NOT NULL,
        value      text   NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX IF NOT EXISTS job_rerunner_docs_expires_at ON ${t.docs} (expires_at);`,
  },
  {
    description: "decision history (status page)",
    // Additive: the previous release never reads it.
    oldestCompatible: 1,
    sql: (t) => `
      CREATE TABLE IF NOT EXISTS ${t.history} (
        id         bigserial PRIMARY KEY,
        run_key    text   NOT NULL,
        at         bigint NOT NULL,
        expires_at bigint NOT NULL,
        entry      text   NOT NULL
      );
      CREATE INDEX IF NOT EXISTS job_rerunner_history_at ON ${t.history} (at);
      CREATE INDEX IF NOT EXISTS job_rerunner_history_run ON ${t.history} (run_key, id);
      CREATE INDEX IF NOT EXISTS job_rerunner_history_expires_at ON ${t.history} (expires_at);`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The tables belong to a release this one cannot work with. */
export class SchemaMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaMismatch";
  }
}

interface VersionRow {
  readonly version: number;
  readonly oldest_compatible: number;
}

async function readVersion(client: pg.PoolClient, t: Tables): Promise<VersionRow | undefined> {
  const exists = await client.query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [t.version]);
  if (exists.rows[0]?.found !== true) return undefined;
  const { rows } = await client.query<VersionRow>(`SELECT version, oldest_compatible FROM ${t.version} WHERE id = 1`);
  return rows[0];
}

/** True when this release can use the tables as they are; throws when they are too new for it. */
function upToDate(current: VersionRow | undefined): boolean {
  if (current === undefined || current.version < SCHEMA_VERSION) return false;
  if (current.oldest_compatible > SCHEMA_VERSION) {
    throw new SchemaMismatch(
      `the tables are at schema version ${current.version}, which needs a release that knows version ${current.oldest_compatible} or later; this one knows ${SCHEMA_VERSION}: upgrade job-rerunner`,
    );
  }
  return true;
}

/**
 * Creates the tables, or brings them to SCHEMA_VERSION, in one transaction. Several processes may
 * start at once: a transaction-scoped advisory lock lets one migrate while the others wait, then
 * find the work done. Nothing is locked when the tables are already current (the usual start), and
 * that path needs no CREATE privilege.
 */
export async function migrate(pool: pg.Pool, t: Tables): Promise<void> {
  const client = await pool.connect();
  // A checked-out connection has no error listener of the pool's: without one, a connection
  // dropped meanwhile would end the process. The query in flight fails and says why.
  const ignore = (): void => {};
  client.on("error", ignore);
  let broken: Error | undefined;
  try {
    if (upToDate(await readVersion(client, t))) return;
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`job-rerunner schema ${t.schema ?? "(search_path)"}`]);
      if (t.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${t.version} (
          id                integer     PRIMARY KEY CHECK (id = 1),
          version           integer     NOT NULL,
          oldest_compatible integer     NOT NULL,
          migrated_at       timestamptz NOT NULL DEFAULT now()
        )`);
      const current = await readVersion(client, t);
      if (!upToDate(current)) {
        for (const migration of MIGRATIONS.slice(current?.version ?? 0)) await client.query(migration.sql(t));
        const oldest = Math.max(...MIGRATIONS.map((m) => m.oldestCompatible));
        await client.query(
          `INSERT INTO ${t.version} (id, version, oldest_compatible) VALUES (1, $1, $2)
           ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, oldest_compatible = EXCLUDED.oldest_compatible, migrated_at = now()`,
          [SCHEMA_VERSION, oldest],
        );
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } catch (error) {
    // A connection that failed is discarded rather than handed to the next caller.
    if (!(error instanceof SchemaMismatch)) broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off("error", ignore);
    client.release(broken);
  }
}
