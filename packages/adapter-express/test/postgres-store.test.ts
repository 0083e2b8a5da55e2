// PostgresStore against a real PostgreSQL server (TEST_DATABASE_URL; see pg-support.ts): the
// store contract, the concurrent writers from several processes, the schema and its version,
// the background sweep, and what a start against a database it cannot use says.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { sampleRecord, storeContract } from "@job-rerunner/testing";
import { ConfigError } from "@job-rerunner/core";
import { openStore, PostgresStore, PostgresUnavailable, storeFromSpec } from "@job-rerunner/adapter-express";
import { TEST_DATABASE_URL, TEST_DB_AT, TEST_DB_HOST_PORT, testSchema } from "./pg-support.js";
import { SCHEMA_VERSION } from "../src/postgres-schema.js";
import { TSX, waitFor } from "./support.js";

storeContract("PostgresStore", async () => {
  const schema = testSchema("contract");
  return { store: await PostgresStore.open(schema.url(), { sweepIntervalMs: 0 }), cleanup: () => schema.drop() };
});

const WRITER = fileURLToPath(new URL("./fixtures/pg-writer.ts", import.meta.url));

function runWriter(url: string, key: string, writer: number, cycles: number): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", TSX, WRITER, url, key, String(writer), String(cycles)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, out, err })));
}

describe("PostgresStore specifics", () => {
  it("several processes start on an empty schema at once and their read-modify-write cycles on one key lose no update", { timeout: 180_000 }, async () => {
    const schema = testSchema("procs");
    try {
      const processes = 4;
      const cycles = 15;
      const key = "r1-shared";
      const results = await Promise.all(Array.from({ length: processes }, (_, w) => runWriter(schema.url(), key, w, cycles)));
      for (const r of results) assert.equal(r.code, 0, r.err);
      const store = await PostgresStore.open(schema.url(), { sweepIntervalMs: 0 });
      try {
        const final = await store.get(key);
        assert.ok(final);
        const conflicts = results.reduce((n, r) => n + (JSON.parse(r.out.trim()) as { conflicts: number }).conflicts, 0);
        assert.equal(Object.keys(final.record.jobs).length, processes * cycles, `lost updates (conflicts seen: ${conflicts})`);
      } finally {
        await store.close();
      }
      // The racing starts created the tables once and recorded the schema version.
      assert.deepEqual(await schema.query(`SELECT version, oldest_compatible FROM "${schema.name}".job_rerunner_schema`), [{ version: SCHEMA_VERSION, oldest_compatible: 1 }]);
    } finally {
      await schema.drop();
    }
  });

  it("eight stores opening one empty schema at the same moment all start, and the tables are created once", async () => {
    const schema = testSchema("race");
    try {
      const stores = await Promise.all(Array.from({ length: 8 }, () => PostgresStore.open(schema.url(), { sweepIntervalMs: 0 })));
      await Promise.all(stores.map((store, i) => store.put(`k${i}`, sampleRecord(), undefined)));
      for (const store of stores) assert.equal((await store.listPending(Date.now(), 10)).length, 0);
      await Promise.all(stores.map((store) => store.close()));
      assert.deepEqual(await schema.query(`SELECT version FROM "${schema.name}".job_rerunner_schema`), [{ version: SCHEMA_VERSION }]);
      assert.deepEqual(await schema.query(`SELECT count(*)::int AS n FROM "${schema.name}".job_rerunner_runs`), [{ n: 8 }]);
    } finally {
      await schema.drop();
    }
  });

  it("records the schema version; a reopen changes nothing; tables too new for this release are refused with a clear message", async () => {
    const schema = testSchema("version");
    try {
      const first = await PostgresStore.open(schema.url(), { sweepIntervalMs: 0 });
      await first.put("k", sampleRecord(), undefined);
      await first.close();
      const tables = await schema.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", [schema.name]);
      assert.deepEqual(tables.map((t) => t.tablename), ["job_rerunner_docs", "job_rerunner_history", "job_rerunner_runs", "job_rerunner_schema"]);
      const reopened = await PostgresStore.open(schema.url(), { sweepIntervalMs: 0 });
      assert.equal((await reopened.get("k"))?.record.runId, sampleRecord().runId);
      await reopened.close();

      // A later release added something this one can live with (an additive migration).
      await schema.query(`UPDATE "${schema.name}".job_rerunner_schema SET version = 7, oldest_compatible = 1`);
      await (await PostgresStore.open(schema.url(), { sweepIntervalMs: 0 })).close();
      // A later release changed the tables in a way this one cannot use.
      await schema.query(`UPDATE "${schema.name}".job_rerunner_schema SET version = 7, oldest_compatible = 5`);
      await assert.rejects(PostgresStore.open(schema.url(), { sweepIntervalMs: 0 }), (error: Error) => {
        assert.ok(error instanceof PostgresUnavailable);
        assert.match(error.message, /schema version 7.*knows version 5 or later; this one knows 2: upgrade job-rerunner/);
        assert.match(error.message, new RegExp(`postgres@${TEST_DB_AT}/test`));
        return true;
      });
      assert.deepEqual(await schema.query(`SELECT version FROM "${schema.name}".job_rerunner_schema`), [{ version: 7 }], "a refused start changes nothing");
    } finally {
      await schema.drop();
    }
  });

  it("a version read before a record expired never matches the record created after it; bad tokens are refused", async () => {
    const schema = testSchema("expiry");
    let now = 1_000_000;
    const store = await PostgresStore.open(schema.url(), { now: () => now, sweepIntervalMs: 0 });
    try {
      await store.put("k", sampleRecord({ expiresAt: now + 10 }), undefined);
      const before = await store.get("k");
      assert.ok(before);
      now += 20;
      assert.equal(await store.get("k"), undefined);
      assert.equal(await store.put("k", sampleRecord({ expiresAt: now + 10 }), before.version), false, "an expired row cannot be updated");
      assert.equal(await store.put("k", sampleRecord({ attempt: 2, expiresAt: now + 10_000 }), undefined), true);
      const after = await store.get("k");
      assert.ok(after);
      assert.notEqual(after.version, before.version);
      for (const token of ["abc", "-1", "1e3", "99999999999999999999", ""]) assert.equal(await store.put("k", sampleRecord(), token), false, token);
      assert.equal((await store.get("k"))?.record.attempt, 2);
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  it("keeps a job name with a NUL character and other odd text exactly", async () => {
    const schema = testSchema("text");
    const store = await PostgresStore.open(schema.url(), { sweepIntervalMs: 0 });
    try {
      const record = sampleRecord({ jobs: { "1": { name: "nul\u0000 'quote' \"dq\" \\ back \u{1F600}", status: "completed", conclusion: "failure" } } });
      assert.equal(await store.put("k", record, undefined), true);
      assert.deepEqual((await store.get("k"))?.record, record);
      assert.equal(await store.putDoc("d", { s: "\u0000" }, undefined, Date.now() + 60_000), true);
      assert.deepEqual((await store.getDoc("d"))?.value, { s: "\u0000" });
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  it("sweep deletes expired rows in batches and keeps live ones", async () => {
    const schema = testSchema("sweep");
    const store = await PostgresStore.open(schema.url(), { sweepIntervalMs: 0, sweepBatchSize: 100 });
    try {
      const now = Date.now();
      await schema.query(
        `INSERT INTO "${schema.name}".job_rerunner_runs (key, version, record, expires_at) SELECT 'old' || i, 1, '{}', $1 FROM generate_series(1, 250) AS i`,
        [now - 1000],
      );
      await schema.query(`INSERT INTO "${schema.name}".job_rerunner_docs (key, version, value, expires_at) SELECT 'old' || i, 1, '{}', $1 FROM generate_series(1, 30) AS i`, [now - 1000]);
      await store.put("live", sampleRecord(), undefined);
      await store.putDoc("live", { n: 1 }, undefined, now + 60_000);
      assert.equal(await store.sweep(1), 100 + 30, "at most maxBatches batches per table");
      assert.equal(await store.sweep(), 150);
      const left = await schema.query<{ n: string }>(`SELECT (SELECT count(*) FROM "${schema.name}".job_rerunner_runs) + (SELECT count(*) FROM "${schema.name}".job_rerunner_docs) AS n`);
      assert.equal(left[0]?.n, "2");
      assert.ok(await store.get("live"));
      assert.ok(await store.getDoc("live"));
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  it("sweeps in the background until closed", async () => {
    const schema = testSchema("bgsweep");
    const store = await PostgresStore.open(schema.url(), { sweepIntervalMs: 25, sweepBatchSize: 10 });
    const expired = async (): Promise<void> => {
      await schema.query(`INSERT INTO "${schema.name}".job_rerunner_runs (key, version, record, expires_at) SELECT 'old' || i, 1, '{}', $1 FROM generate_series(1, 35) AS i`, [
        Date.now() - 1000,
      ]);
    };
    const count = async (): Promise<number> => Number((await schema.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema.name}".job_rerunner_runs`))[0]?.n);
    try {
      await expired();
      let rows = 35;
      const poll = setInterval(() => void count().then((n) => (rows = n), () => {}), 20);
      try {
        await waitFor(() => rows === 0, "the background sweep", 30_000);
      } finally {
        clearInterval(poll);
      }
      await store.close();
      await expired();
      // Several sweep intervals with the store closed: its timer is gone, the rows stay.
      await new Promise((r) => setTimeout(r, 250));
      assert.equal(await count(), 35);
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  it("survives its idle connections being dropped by the server (as a restart does) and reconnects", async () => {
    const schema = testSchema("drop");
    const app = `jr-drop-${process.pid}-${Date.now()}`;
    const background: string[] = [];
    const store = await PostgresStore.open(schema.url({ application_name: app }), { sweepIntervalMs: 0, onBackgroundError: (m) => background.push(m) });
    try {
      await Promise.all([store.get("a"), store.get("b"), store.put("c", sampleRecord(), undefined)]);
      const killed = await schema.query<{ ok: boolean }>("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1", [app]);
      assert.ok(killed.length >= 1);
      // The pool reports each dropped idle connection instead of crashing the process with an unhandled 'error'.
      await waitFor(() => background.length >= killed.length, "the dropped connections to be reported", 10_000);
      assert.match(background[0] ?? "", new RegExp(`^PostgreSQL at postgres@${TEST_DB_AT}/test: an idle connection failed: terminating connection due to administrator command`));
      assert.ok(await store.get("c"), "the next call reconnects");
    } finally {
      await store.close();
      await schema.drop();
    }
  });
});

describe("STORE=postgres://... in storeFromSpec and openStore", () => {
  it("connects on first use; the description names the database, never the password", async () => {
    const schema = testSchema("spec");
    const url = new URL(schema.url());
    url.password = "Spec-Secret-never-shown"; // trust authentication ignores it
    const { store, description } = storeFromSpec(url.toString());
    try {
      assert.ok(store instanceof PostgresStore);
      assert.equal(description, `postgres://postgres@${TEST_DB_HOST_PORT}/test schema ${schema.name}`);
      assert.deepEqual(await schema.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema.name]), [], "nothing created before first use");
      assert.equal(await store.put("k", sampleRecord(), undefined), true);
      assert.ok(await store.get("k"));
    } finally {
      await store.close?.();
      await schema.drop();
    }
  });

  it("openStore fails with a ConfigError naming STORE when the database cannot be reached", async () => {
    await assert.rejects(openStore("postgresql://jr:Open-Secret@127.0.0.1:1/jobs"), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.variable, "STORE");
      assert.match(error.message, /^STORE could not be opened: PostgreSQL at jr@127\.0\.0\.1:1\/jobs: /);
      assert.ok(!error.message.includes("Open-Secret"));
      return true;
    });
  });
});

describe("PostgresStore: a database it cannot use fails fast, names the host, never the password", () => {
  const PASSWORD = "s3cr3t-Pa55word-never-shown";

  it("nothing listening on the port", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    await assert.rejects(PostgresStore.open(`postgres://jr:${PASSWORD}@127.0.0.1:${port}/jobs`, { sweepIntervalMs: 0 }), (error: Error) => {
      assert.ok(error instanceof PostgresUnavailable);
      assert.match(error.message, new RegExp(`^PostgreSQL at jr@127\\.0\\.0\\.1:${port}/jobs: could not connect or prepare the tables: .*ECONNREFUSED`));
      assert.ok(!error.message.includes(PASSWORD));
      assert.ok(!(error.stack ?? "").includes(PASSWORD));
      return true;
    });
  });

  it("a server that accepts the connection and never answers: the connect timeout ends the wait", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await assert.rejects(PostgresStore.open(`postgresql://jr:${PASSWORD}@127.0.0.1:${port}/jobs`, { sweepIntervalMs: 0, connectTimeoutMs: 500 }), (error: Error) => {
        assert.match(error.message, new RegExp(`^PostgreSQL at jr@127\\.0\\.0\\.1:${port}/jobs: could not connect or prepare the tables: .*timeout`));
        assert.ok(!error.message.includes(PASSWORD));
        return true;
      });
      assert.ok(sockets.size >= 1, "it did connect");
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it("a login the server refuses, and a database that does not exist", async () => {
    const base = new URL(TEST_DATABASE_URL);
    const login = new URL(base);
    login.username = "no_such_role_jr";
    login.password = PASSWORD;
    await assert.rejects(PostgresStore.open(login.toString(), { sweepIntervalMs: 0 }), (error: Error) => {
      assert.match(error.message, new RegExp(`^PostgreSQL at no_such_role_jr@${TEST_DB_AT}/test: could not connect or prepare the tables: role "no_such_role_jr" does not exist$`));
      assert.ok(!error.message.includes(PASSWORD));
      return true;
    });
    const database = new URL(base);
    database.pathname = "/no_such_db_jr";
    await assert.rejects(PostgresStore.open(database.toString(), { sweepIntervalMs: 0 }), new RegExp(`PostgreSQL at postgres@${TEST_DB_AT}/no_such_db_jr: .*database "no_such_db_jr" does not exist`));
  });

  it("a URL that does not parse is not repeated (it may hold a password)", () => {
    assert.throws(() => new PostgresStore(`postgres://jr:${PASSWORD}@[bad-host/db`), (error: Error) => {
      assert.ok(error instanceof PostgresUnavailable);
      assert.match(error.message, /is not a valid PostgreSQL URL/);
      assert.ok(!error.message.includes(PASSWORD));
      return true;
    });
    assert.throws(() => new PostgresStore(`postgres://jr:${PASSWORD}@h/db?schema=x;drop`), /schema="x;drop"/);
  });
});
