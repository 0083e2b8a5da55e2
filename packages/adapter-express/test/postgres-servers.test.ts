// Several server processes (src/bin.ts, as `npm start` runs it) sharing one PostgreSQL database,
// against the local stand-in for GitHub: deliveries split across instances, an instance killed
// in the middle of a rerun, PostgreSQL dropping its connections, and starts that cannot connect.
//
// The connection drop is simulated without restarting the shared PostgreSQL server (that would
// cut every other test's connections too): the instance reaches PostgreSQL through a TCP proxy
// in this test. "Restart" = the proxy refuses new connections and PostgreSQL itself terminates
// the instance's sessions (pg_terminate_backend, the same FATAL 57P01 a restart sends); "back" =
// the proxy forwards again.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordKey, type RunRecord } from "@job-rerunner/core";
import { signedDelivery, startFakeGitHub, workflowJobPayload, workflowRunPayload, type FakeGitHub, type SignedDelivery } from "@job-rerunner/testing";
import { TEST_DATABASE_URL, TEST_DB_AT, TEST_DB_HOST_PORT, testSchema, type TestSchema } from "./pg-support.js";
import { deliver, spawnBin, startBin, waitFor, type Answer, type RunningBin } from "./support.js";

const SECRET = "pg-e2e-webhook-secret";
const TOKEN = "ghp_pg_e2e_token";
const REPO_ID = 186853002;

function job(runId: number, jobId: number, action: "queued" | "in_progress" | "completed", conclusion?: string, deliveryId?: string): SignedDelivery {
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion: conclusion ?? null }), deliveryId);
}

async function recordOf(schema: TestSchema, runId: number): Promise<RunRecord | undefined> {
  const rows = await schema.query<{ record: string }>(`SELECT record FROM "${schema.name}".job_rerunner_runs WHERE key = $1`, [recordKey(REPO_ID, runId)]);
  return rows[0] === undefined ? undefined : (JSON.parse(rows[0].record) as RunRecord);
}

/** The documented 503 (the store could not be updated): GitHub's "Redeliver" sends the same delivery again. */
function isDocumented503(answer: Answer): boolean {
  return answer.status === 503 && /store could not be updated/.test(answer.body.reason);
}

/** Delivers, and redelivers (same id) while the answer is the documented 503, as an operator would. */
async function deliverUntilStored(url: string, delivery: SignedDelivery, answers: Answer[]): Promise<Answer> {
  for (let tries = 0; ; tries++) {
    const answer = await deliver(url, delivery);
    answers.push(answer);
    if (!isDocumented503(answer) || tries >= 20) return answer;
  }
}

function env(gh: FakeGitHub, store: string): Record<string, string> {
  // The default deadline (8 s): a loaded machine must not turn a slow answer into a 5xx here.
  return { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url, STORE: store };
}

describe("two server processes on one PostgreSQL database", () => {
  let gh: FakeGitHub;
  let schema: TestSchema;
  let cwd: string;
  let a: RunningBin;
  let b: RunningBin;

  before(async () => {
    gh = await startFakeGitHub();
    schema = testSchema("servers");
    cwd = mkdtempSync(join(tmpdir(), "job-rerunner-pg-"));
    // Both start at once on an empty schema: the tables are created once.
    [a, b] = await Promise.all([startBin(env(gh, schema.url()), cwd), startBin(env(gh, schema.url()), cwd)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await gh?.close();
    await schema?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("each gets half of every run's deliveries and 10 copies of the deciding one: exactly one rerun per failed attempt, nothing lost", { timeout: 240_000 }, async () => {
    gh.rerun("ok");
    const runs = [81_001, 81_002, 81_003, 81_004, 81_005, 81_006];
    const jobs = [1, 2, 3, 4];
    const answers: Answer[] = [];
    let turn = 0;
    const next = (): string => (turn++ % 2 === 0 ? a.url : b.url);
    // Every job's events in order (queued, then in progress, then completed), each step for all
    // runs and jobs at once, alternating between the instances. Job 1 fails; job 4's completion decides.
    for (const step of ["queued", "in_progress", "completed"] as const) {
      const batch = runs.flatMap((runId) =>
        jobs.filter((j) => step !== "completed" || j !== 4).map((jobId) => job(runId, jobId, step, jobId === 1 ? "failure" : "success")),
      );
      const got = await Promise.all(batch.map((d) => deliverUntilStored(next(), d, answers)));
      for (const answer of got) assert.equal(answer.status, 202, answer.body.reason);
    }
    const burst = await Promise.all(
      runs.flatMap((runId) => {
        const deciding = job(runId, 4, "completed", "success", `deciding-${runId}`);
        return Array.from({ length: 10 }, (_, copy) => deliverUntilStored(copy % 2 === 0 ? a.url : b.url, deciding, answers));
      }),
    );
    for (const answer of burst) assert.ok(answer.status === 201 || answer.status === 202, `${answer.status}: ${answer.body.reason}`);
    for (const answer of answers) assert.ok(answer.status < 500 || isDocumented503(answer), `undocumented ${answer.status}: ${answer.body.reason}`);
    for (const instance of [a, b]) {
      assert.equal(instance.logs().find((l) => l.msg === "listening")?.store, `postgres://postgres@${TEST_DB_HOST_PORT}/test schema ${schema.name}`);
    }

    for (const runId of runs) {
      assert.equal(gh.rerunCalls(runId), 1, `run ${runId}: one call to GitHub`);
      assert.equal(gh.performed(runId), 1, `run ${runId}: one rerun`);
      const record = await recordOf(schema, runId);
      assert.ok(record);
      assert.equal(record.rerun.state, "requested");
      assert.deepEqual(
        Object.entries(record.jobs).map(([id, j]) => [id, j.status, j.conclusion]).sort(),
        jobs.map((j) => [String(j), "completed", j === 1 ? "failure" : "success"]),
        "every delivery's effect is in the record",
      );
    }
    // A later redelivery of the deciding delivery changes nothing, whichever instance gets it.
    for (const url of [a.url, b.url]) assert.equal((await deliver(url, job(runs[0]!, 4, "completed", "success", `deciding-${runs[0]!}`))).status, 201);
    assert.equal(gh.rerunCalls(), runs.length);
  });

  for (const performed of [true, false]) {
    it(`an instance killed -9 after the pending write, before GitHub's answer (GitHub ${performed ? "did" : "did not"} perform the rerun): the other instance finishes it, one rerun`, { timeout: 120_000 }, async () => {
      const runId = performed ? 82_001 : 82_002;
      // A longer deadline for the victim, so it is surely killed while its call still waits
      // (a delivery's GitHub call gives up a little before its deadline); its lease is 7 s.
      const victim = await startBin({ ...env(gh, schema.url()), DEADLINE_MS: "5000" }, cwd);
      try {
        assert.equal((await deliver(b.url, job(runId, 1, "queued"))).status, 202);
        gh.rerun(performed ? "perform-then-hang" : "hang");
        const deciding = job(runId, 1, "completed", "failure");
        const dying = deliver(victim.url, deciding).catch((error: unknown) => error);
        await waitFor(() => gh.rerunCalls(runId) === 1, "the victim's rerun call to reach GitHub", 30_000);
        victim.process.kill("SIGKILL");
        assert.equal((await victim.exited).signal, "SIGKILL");
        assert.ok((await dying) instanceof Error, "the victim never answered");
        gh.rerun("ok");
        const pending = await recordOf(schema, runId);
        assert.ok(pending && pending.rerun.state === "pending", "the pending rerun was written before the call");
        assert.ok(pending.rerun.leaseHolder !== null && pending.rerun.calls === 1, "killed before it recorded any answer");
        const leaseUntil = pending.rerun.leaseUntil;

        // Nobody else may drive the rerun while the dead instance's lease lasts (deadline + 2 s).
        // (Checked only with a second to spare: a loaded machine may have used the lease up.)
        if (Date.now() < leaseUntil - 1000) {
          const early = await deliver(b.url, deciding);
          assert.equal(early.status, 202, early.body.reason);
          assert.match(early.body.reason, /being requested by another delivery/);
          assert.equal(gh.rerunCalls(runId), 1);
        }
        await waitFor(() => Date.now() > leaseUntil + 50, "the lease to end", 30_000);

        // The next delivery: a redelivery of the deciding one, or the run's own completion event.
        const nextDelivery = performed ? deciding : signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" }));
        const finished = await deliver(b.url, nextDelivery);
        assert.equal(finished.status, 201, finished.body.reason);
        assert.equal(gh.performed(runId), 1, "exactly one rerun performed");
        if (performed) {
          assert.match(finished.body.reason, /an earlier call did re-run it/);
          assert.equal(gh.rerunCalls(runId), 1, "read the run first: no second call");
        } else {
          assert.equal(gh.rerunCalls(runId), 2, "the first call never got through: called again once");
        }
        assert.equal((await recordOf(schema, runId))?.rerun.state, "requested");
      } finally {
        await victim.stop();
      }
    });
  }
});

/** A TCP proxy to PostgreSQL that the test can cut, as a restart cuts the server off. */
async function startProxy(target: { host: string; port: number }) {
  let open = true;
  const pairs = new Set<Socket>();
  const server: Server = createServer((client) => {
    pairs.add(client);
    client.once("close", () => pairs.delete(client));
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    pairs.add(upstream);
    upstream.once("close", () => pairs.delete(upstream));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream).pipe(client);
    client.once("close", () => upstream.end());
    upstream.once("close", () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      open = false;
    },
    /** Whatever connection PostgreSQL did not close itself is gone too. */
    dropAll() {
      for (const s of pairs) s.destroy();
    },
    restore() {
      open = true;
    },
    async close() {
      for (const s of pairs) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("PostgreSQL goes away while deliveries arrive", () => {
  it("answers 503 with the reason until it is back, then normally; the process never crashes", { timeout: 120_000 }, async () => {
    const gh = await startFakeGitHub();
    const schema = testSchema("outage");
    const cwd = mkdtempSync(join(tmpdir(), "job-rerunner-pg-"));
    const db = new URL(TEST_DATABASE_URL);
    const proxy = await startProxy({ host: db.hostname, port: Number(db.port || "5432") });
    const app = `jr-outage-${process.pid}-${Date.now()}`;
    const via = new URL(schema.url({ application_name: app }));
    via.port = String(proxy.port);
    let server: RunningBin | undefined;
    try {
      server = await startBin(env(gh, via.toString()), cwd);
      const runId = 83_001;
      assert.equal((await deliver(server.url, job(runId, 1, "queued"))).status, 202);

      proxy.cut();
      const terminated = await schema.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [app]);
      assert.ok(terminated.length >= 1, "the instance had a connection to drop");
      proxy.dropAll();
      const during = [job(runId, 2, "queued"), job(runId, 1, "in_progress"), job(83_002, 1, "queued")];
      for (const delivery of during) {
        const answer = await deliver(server.url, delivery);
        assert.equal(answer.status, 503, answer.body.reason);
        assert.match(answer.body.reason, new RegExp(`store could not be updated .*PostgreSQL at postgres@127\\.0\\.0\\.1:${proxy.port}/test`));
        assert.match(answer.body.reason, /nothing is lost/);
      }
      assert.equal(server.process.exitCode, null, "still running");
      assert.equal(server.process.signalCode, null);

      proxy.restore();
      // GitHub's "Redeliver" of each failed delivery, then the rest of the run.
      for (const delivery of during) {
        const answer = await deliver(server.url, delivery);
        assert.equal(answer.status, 202, answer.body.reason);
      }
      assert.equal((await deliver(server.url, job(runId, 2, "completed", "success"))).status, 202);
      const deciding = await deliver(server.url, job(runId, 1, "completed", "failure"));
      assert.equal(deciding.status, 201, deciding.body.reason);
      assert.equal(gh.performed(runId), 1);
      const record = await recordOf(schema, runId);
      assert.deepEqual(Object.keys(record?.jobs ?? {}).sort(), ["1", "2"], "nothing the outage answered 503 to is lost once redelivered");
      assert.ok(await recordOf(schema, 83_002));
      const running = server;
      await waitFor(() => running.logs().some((l) => l.msg === "delivery" && l.status === 503), "the 503s in the log");
      assert.deepEqual(await running.stop(), { code: 0, signal: null }, "stops cleanly: it never crashed");
    } finally {
      await server?.stop();
      await proxy.close();
      await gh.close();
      await schema.drop();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe("a start with a PostgreSQL store it cannot open", () => {
  const PASSWORD = "pg-Start-Secret-9f8e7d";

  async function failedStart(store: string) {
    const cwd = mkdtempSync(join(tmpdir(), "job-rerunner-pg-"));
    try {
      const child = spawnBin({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", PORT: "0", STORE: store }, cwd);
      const exit = await child.exited;
      return { exit, stderr: child.stderr.join(""), stdout: child.stdout.join("\n") };
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }

  it("exits 1 with one line naming the host, database and user, never the password", { timeout: 60_000 }, async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const unreachable = await failedStart(`postgres://jr:${PASSWORD}@127.0.0.1:${closed}/jobs`);
    assert.deepEqual(unreachable.exit, { code: 1, signal: null });
    assert.match(
      unreachable.stderr,
      new RegExp(`^job-rerunner: STORE could not be opened: PostgreSQL at jr@127\\.0\\.0\\.1:${closed}/jobs: could not connect or prepare the tables: .*ECONNREFUSED.*\\n$`),
    );
    assert.equal(unreachable.stderr.split("\n").length, 2, "one line");

    const login = new URL(TEST_DATABASE_URL);
    login.username = "no_such_role_jr";
    login.password = PASSWORD;
    const refused = await failedStart(login.toString());
    assert.deepEqual(refused.exit, { code: 1, signal: null });
    assert.match(refused.stderr, new RegExp(`^job-rerunner: STORE could not be opened: PostgreSQL at no_such_role_jr@${TEST_DB_AT}/test: .*role "no_such_role_jr" does not exist\\n$`));

    const malformed = await failedStart(`postgres://jr:${PASSWORD}@[::1/jobs`);
    assert.deepEqual(malformed.exit, { code: 1, signal: null });
    assert.match(malformed.stderr, /^job-rerunner: STORE is not a valid PostgreSQL URL/);
    for (const out of [unreachable, refused, malformed]) {
      assert.ok(!out.stderr.includes(PASSWORD) && !out.stdout.includes(PASSWORD), "the password is never printed");
    }
  });
});
