// Shared by the PostgreSQL tests: TEST_DATABASE_URL, which scripts/run-tests.mjs sets to the server
// on 127.0.0.1:5432 (trust authentication, database `test`) or, when none answers there, to a
// PostgreSQL it starts from the npm registry's binaries (scripts/test-services.mjs). Each test
// works in a schema of its own and drops it, so tests never see each other's rows.
import { randomBytes } from "node:crypto";
import pg from "pg";

/** The database the tests use (TEST_DATABASE_URL overrides it). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const testDatabase = new URL(TEST_DATABASE_URL);
/** `HOST:PORT` of the test database, as the stores name it in messages (5432 when the URL has none). */
export const TEST_DB_HOST_PORT = `${testDatabase.hostname}:${testDatabase.port || "5432"}`;
/** TEST_DB_HOST_PORT escaped for a regular expression. */
export const TEST_DB_AT = TEST_DB_HOST_PORT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface TestSchema {
  readonly name: string;
  /** TEST_DATABASE_URL with `schema=<name>` (and any extra parameters). */
  url(params?: Record<string, string>): string;
  /** A direct connection for checks outside the store. */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A fresh, empty schema name (the store creates the schema itself on first start). */
export function testSchema(label: string): TestSchema {
  const name = `jr_${label}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2, connectionTimeoutMillis: 10_000 });
  admin.on("error", () => {});
  return {
    name,
    url(params = {}) {
      const url = new URL(TEST_DATABASE_URL);
      url.searchParams.set("schema", name);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      return url.toString();
    },
    async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      return (await admin.query<R>(text, values)).rows;
    },
    async drop() {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
