import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, MemoryStore, recordKey, type Config, type GitHubClient, type LogEntry, type Rerunner, type RunRecord, type Store } from "@job-rerunner/core";
import { createOctokitClient } from "../src/github/reruns.js";
import { freePort, startFakeGitHub, signedDelivery, workflowJobPayload, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";

const SECRET = "engine-test-secret";
const TOKEN = "ghp_engine_test_token";
let nextRun = 5000;

function configFor(gh: FakeGitHub, extra: Record<string, string> = {}): Config {
  return configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url, ...extra });
}

function job(runId: number, jobId: number, action: "queued" | "in_progress" | "completed", conclusion?: string, attempt = 1) {
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion: conclusion ?? null, attempt }));
}

describe("engine over HTTP against a stand-in GitHub", () => {
  let gh: FakeGitHub;
  let store: MemoryStore;
  let logs: LogEntry[];
  let rerunner: Rerunner;

  before(async () => {
    gh = await startFakeGitHub();
  });
  after(async () => {
    await gh.close();
  });
  beforeEach(() => {
    gh.calls.length = 0;
    gh.rerun("ok");
    store = new MemoryStore();
    logs = [];
    rerunner = createRerunner({ config: configFor(gh), store, logger: (e) => logs.push(e) });
  });

  /** A two-job run up to the point where the last job is about to complete. */
  async function startRun(): Promise<number> {
    const runId = nextRun++;
    assert.equal((await rerunner.handle(job(runId, 1, "queued"))).status, 202);
    assert.equal((await rerunner.handle(job(runId, 2, "queued"))).status, 202);
    assert.equal((await rerunner.handle(job(runId, 1, "completed", "success"))).status, 202);
    return runId;
  }

  it("re-runs a run whose last job failed: 201 and one POST with our token and user agent", async () => {
    const runId = await startRun();
    const response = await rerunner.handle(job(runId, 2, "completed", "failure"));
    assert.equal(response.status, 201, response.body.reason);
    assert.equal(response.body.action, "rerun-failed-jobs");
    assert.equal(response.body.run, `octo-org/octo-repo#${runId}`);
    assert.equal(gh.rerunCalls(runId), 1);
    assert.equal(gh.performed(runId), 1);
    const post = gh.calls.find((c) => c.method === "POST")!;
    assert.equal(post.path, `/repos/octo-org/octo-repo/actions/runs/${runId}/rerun-failed-jobs`);
    assert.equal(post.headers.authorization, `Bearer ${TOKEN}`);
    assert.match(String(post.headers["user-agent"]), /^job-rerunner\//);
    const record = await store.get(recordKey(186853002, runId));
    assert.equal(record?.record.rerun.state, "requested");
  });

  it("a run whose jobs all succeeded answers 200 and calls nothing", async () => {
    const runId = await startRun();
    const response = await rerunner.handle(job(runId, 2, "completed", "success"));
    assert.equal(response.status, 200);
    assert.equal(gh.calls.length, 0);
  });

  it("a repeated delivery gets its first answer and calls GitHub no more", async () => {
    const runId = await startRun();
    const last = job(runId, 2, "completed", "failure");
    const first = await rerunner.handle(last);
    const again = await rerunner.handle(last);
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.equal(again.body.reason, first.body.reason);
    assert.equal(gh.rerunCalls(runId), 1);
    // A different delivery of the same completed job: already re-run, 200.
    const other = await rerunner.handle(job(runId, 2, "completed", "failure"));
    assert.equal(other.status, 200);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it('403 "already running": stays pending (202); workflow_run completed then drives it to 201', async () => {
    gh.rerun("already-running", "ok");
    const runId = await startRun();
    const first = await rerunner.handle(job(runId, 2, "completed", "failure"));
    assert.equal(first.status, 202, first.body.reason);
    assert.match(first.body.reason, /pending/);
    assert.equal((await store.get(recordKey(186853002, runId)))?.record.rerun.state, "pending");
    const done = await rerunner.handle(
      signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" })),
    );
    assert.equal(done.status, 201, done.body.reason);
    assert.deepEqual(
      gh.calls.map((c) => c.method),
      ["POST", "GET", "POST"],
      "the second drive reads the run before calling again",
    );
    assert.equal(gh.performed(runId), 1);
  });

  it("403 for a missing permission is told apart from already running: 502 naming the scopes", async () => {
    gh.rerun("forbidden");
    const runId = await startRun();
    const response = await rerunner.handle(job(runId, 2, "completed", "failure"));
    assert.equal(response.status, 502);
    assert.match(response.body.reason, /Resource not accessible by integration/);
    assert.match(response.body.reason, /workflow/);
    // Refused for good (issue 11): marked refused, never POSTed again; later events answer 200 with the refusal.
    assert.equal((await store.get(recordKey(186853002, runId)))?.record.rerun.state, "refused");
    gh.rerun("ok");
    const later = await rerunner.handle(
      signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" })),
    );
    assert.equal(later.status, 200, later.body.reason);
    assert.match(later.body.reason, /refused the rerun for good \(403: Resource not accessible by integration/);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("500 answers 502 and keeps the rerun pending; the redelivery reads the run, then re-runs it", async () => {
    gh.rerun("server-error", "ok");
    const runId = await startRun();
    const last = job(runId, 2, "completed", "failure");
    const first = await rerunner.handle(last);
    assert.equal(first.status, 502, first.body.reason);
    const again = await rerunner.handle(last);
    assert.equal(again.status, 201, again.body.reason);
    assert.equal(gh.rerunCalls(runId), 2);
    assert.equal(gh.performed(runId), 1);
    assert.equal(gh.calls.filter((c) => c.method === "GET").length, 1);
  });

  it("rate limiting is transient: 502, pending", async () => {
    gh.rerun("rate-limited");
    const runId = await startRun();
    const response = await rerunner.handle(job(runId, 2, "completed", "failure"));
    assert.equal(response.status, 502);
    assert.match(response.body.reason, /rate limit/);
  });

  it("rerun performed but the connection dropped: 502, and the redelivery sees the new attempt and does not call again", async () => {
    gh.rerun("drop-after-perform", "ok");
    const runId = await startRun();
    const last = job(runId, 2, "completed", "failure");
    const first = await rerunner.handle(last);
    assert.equal(first.status, 502, first.body.reason);
    assert.equal(gh.performed(runId), 1);
    const again = await rerunner.handle(last);
    assert.equal(again.status, 201, again.body.reason);
    assert.match(again.body.reason, /not called again/);
    assert.equal(gh.rerunCalls(runId), 1, "no second POST");
    assert.equal(gh.performed(runId), 1);
    assert.equal((await store.get(recordKey(186853002, runId)))?.record.rerun.state, "requested");
  });

  it("a GitHub that hangs past the deadline: the answer comes by the deadline, 502, pending", async () => {
    gh.rerun("hang");
    rerunner = createRerunner({ config: configFor(gh, { DEADLINE_MS: "1500" }), store, logger: () => {} });
    const runId = await startRun();
    const started = Date.now();
    const response = await rerunner.handle(job(runId, 2, "completed", "failure"));
    const elapsed = Date.now() - started;
    assert.equal(response.status, 502, response.body.reason);
    assert.match(response.body.reason, /deadline|abort/i);
    // A bound on the contract, not a speed figure: generous for a loaded CI machine.
    assert.ok(elapsed < 4000, `answered after ${elapsed} ms with a 1500 ms deadline`);
    assert.equal((await store.get(recordKey(186853002, runId)))?.record.rerun.state, "pending");
  });

  it("an unreachable GitHub is transient: 502", async () => {
    const port = await freePort();
    rerunner = createRerunner({
      config: configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `http://127.0.0.1:${port}` }),
      store,
      logger: () => {},
    });
    const runId = await startRun();
    const response = await rerunner.handle(job(runId, 2, "completed", "failure"));
    assert.equal(response.status, 502, response.body.reason);
  });

  it("many concurrent deliveries completing the same run give exactly one rerun", async () => {
    const runId = nextRun++;
    const jobs = 20;
    for (let j = 1; j <= jobs; j++) assert.equal((await rerunner.handle(job(runId, j, "queued"))).status, 202);
    const responses = await Promise.all(
      Array.from({ length: jobs }, (_, i) => rerunner.handle(job(runId, i + 1, "completed", "failure"))),
    );
    assert.equal(gh.rerunCalls(runId), 1);
    assert.equal(responses.filter((r) => r.status === 201).length, 1, responses.map((r) => r.status).join(","));
    for (const r of responses) assert.ok([201, 202].includes(r.status), `${r.status} ${r.body.reason}`);
  });

  it("concurrent redeliveries of a failed rerun drive it once", async () => {
    gh.rerun("server-error", "ok");
    const runId = await startRun();
    const last = job(runId, 2, "completed", "failure");
    assert.equal((await rerunner.handle(last)).status, 502);
    const again = await Promise.all(Array.from({ length: 10 }, () => rerunner.handle(last)));
    assert.equal(gh.performed(runId), 1);
    assert.equal(gh.rerunCalls(runId), 2);
    assert.equal(again.filter((r) => r.status === 201).length, 1);
  });

  it("the next attempt's events are tracked afresh, and RUN_ATTEMPTS caps the reruns", async () => {
    rerunner = createRerunner({ config: configFor(gh, { RUN_ATTEMPTS: "2" }), store, logger: () => {} });
    const runId = await startRun();
    assert.equal((await rerunner.handle(job(runId, 2, "completed", "failure"))).status, 201);
    const second = await rerunner.handle(job(runId, 2, "queued", undefined, 2));
    assert.equal(second.status, 204);
    assert.match(second.body.reason, /RUN_ATTEMPTS=2/);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("signature and body errors: 403 missing, 403 wrong, 400 not JSON, 204 ping", async () => {
    const good = job(nextRun++, 1, "queued");
    const { ["x-hub-signature-256"]: _dropped, ...unsigned } = good.headers;
    const missing = await rerunner.handle({ headers: unsigned, rawBody: good.rawBody });
    assert.equal(missing.status, 403);
    assert.match(missing.body.reason, /missing/);
    const wrong = await rerunner.handle({ headers: { ...good.headers, "x-hub-signature-256": signedDelivery("other", "x", {}).headers["x-hub-signature-256"] }, rawBody: good.rawBody });
    assert.equal(wrong.status, 403);
    assert.match(wrong.body.reason, /does not match/);
    const bad = signedDelivery(SECRET, "workflow_job", {});
    const notJson = "{ not json";
    const notJsonResponse = await rerunner.handle({
      headers: { ...bad.headers, "x-hub-signature-256": (await import("@job-rerunner/core")).sign(SECRET, notJson) },
      rawBody: Buffer.from(notJson),
    });
    assert.equal(notJsonResponse.status, 400);
    const ping = await rerunner.handle(signedDelivery(SECRET, "ping", { zen: "Keep it logically awesome.", hook_id: 1 }));
    assert.equal(ping.status, 204);
    assert.equal(gh.calls.length, 0);
  });

  it("a store that stalls while the outcome is recorded: GitHub's answer still comes by the deadline, and the next driver reads the run first", async () => {
    const stalling = new OutcomeStallingStore();
    // The engine's clock is ours: once GitHub has answered, it says the
    // deadline is 10 ms away. The write must then be given 10 ms, not a grace period past it.
    let now = Date.now();
    let started = now;
    const config = configFor(gh, { DEADLINE_MS: "1500" });
    const octokit = createOctokitClient({ token: TOKEN, baseUrl: config.githubApiUrl });
    const github: GitHubClient = {
      getRun: (run, signal) => octokit.getRun(run, signal),
      async rerunFailedJobs(run, signal) {
        const result = await octokit.rerunFailedJobs(run, signal);
        now = started + 1490;
        return result;
      },
    };
    rerunner = createRerunner({ config, store: stalling, logger: () => {}, clock: () => now, github });
    const runId = nextRun++;
    await rerunner.handle(job(runId, 1, "queued"));
    stalling.stall = "hang";
    now = started = Date.now();
    const response = await rerunner.handle(job(runId, 1, "completed", "failure"));
    const elapsed = Date.now() - started;
    assert.equal(response.status, 201, response.body.reason);
    // ~10 ms of waiting expected; the old 500 ms grace past the deadline would exceed this.
    assert.ok(elapsed < 400, `answered ${elapsed} ms after the delivery; 10 ms were left once GitHub answered`);
    assert.equal(gh.rerunCalls(runId), 1);
    // The outcome was not recorded: the rerun is still pending under the first delivery's lease.
    stalling.stall = false;
    assert.equal((await stalling.get(recordKey(186853002, runId)))?.record.rerun.state, "pending");
    const later = createRerunner({ config: configFor(gh), store: stalling, logger: () => {}, clock: () => Date.now() + 60_000 });
    const next = await later.handle(job(runId, 2, "queued"));
    assert.equal(next.status, 201, next.body.reason);
    assert.match(next.body.reason, /not called again/);
    assert.equal(gh.rerunCalls(runId), 1, "no second POST");
  });

  it("a logger that throws costs no answer, even when the outcome could not be recorded", async () => {
    const failing = new OutcomeStallingStore();
    const throwing = () => {
      throw new Error("log sink full");
    };
    for (const [target, stall] of [[store, false], [failing, "throw"]] as const) {
      failing.stall = false;
      rerunner = createRerunner({ config: configFor(gh), store: target, logger: throwing });
      const runId = await startRun();
      failing.stall = stall;
      const response = await rerunner.handle(job(runId, 2, "completed", "failure"));
      assert.equal(response.status, 201, response.body.reason);
    }
  });

  it("logs one JSON-ready entry per delivery with the fields, and never a secret", async () => {
    const runId = await startRun();
    logs.length = 0;
    await rerunner.handle(job(runId, 2, "completed", "failure"));
    const deliveries = logs.filter((l) => l.msg === "delivery");
    assert.equal(deliveries.length, 1);
    const entry = deliveries[0]!;
    for (const field of ["delivery", "event", "repo", "run", "attempt", "job", "status", "reason", "action", "durationMs"]) {
      assert.ok(field in entry, field);
    }
    assert.equal(entry.status, 201);
    const text = JSON.stringify(logs);
    assert.doesNotMatch(text, new RegExp(SECRET));
    assert.doesNotMatch(text, new RegExp(TOKEN));
  });
});

/** A MemoryStore whose writes of a settled (requested) rerun hang or fail while `stall` says so. */
class OutcomeStallingStore extends MemoryStore {
  stall: false | "hang" | "throw" = false;
  override put(key: string, record: RunRecord, expectedVersion: string | undefined): Promise<boolean> {
    if (this.stall !== false && record.rerun.state === "requested") {
      return this.stall === "hang" ? new Promise(() => {}) : Promise.reject(new Error("disk full"));
    }
    return super.put(key, record, expectedVersion);
  }
}

describe("engine in DRY_RUN", () => {
  it("a pending rerun whose outcome was lost is driven again after its lease, and settles as requested", async () => {
    const store = new OutcomeStallingStore();
    const logs: LogEntry[] = [];
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", DEADLINE_MS: "1000" });
    const first = createRerunner({ config, store, logger: (e) => logs.push(e) });
    const runId = nextRun++;
    await first.handle(job(runId, 1, "queued"));
    store.stall = "hang";
    assert.equal((await first.handle(job(runId, 1, "completed", "failure"))).status, 201);
    store.stall = false;
    const key = recordKey(186853002, runId);
    assert.equal((await store.get(key))?.record.rerun.state, "pending");
    const later = createRerunner({ config, store, logger: (e) => logs.push(e), clock: () => Date.now() + 60_000 });
    const next = await later.handle(job(runId, 2, "queued"));
    assert.equal(next.status, 201, next.body.reason);
    assert.equal((await store.get(key))?.record.rerun.state, "requested");
    assert.equal(logs.filter((l) => l.msg === "dry run: would re-run failed jobs").length, 2);
  });
});

describe("engine with a failing store", () => {
  const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", DEADLINE_MS: "800" });
  // Only get and put matter here; the rest of the interface is a memory store's.
  const memory = new MemoryStore();
  const rest: Pick<Store, "getDoc" | "putDoc" | "listPending" | "appendHistory" | "listHistory"> = {
    getDoc: (key) => memory.getDoc(key),
    putDoc: (key, value, version, expiresAt) => memory.putDoc(key, value, version, expiresAt),
    listPending: (now, limit) => memory.listPending(now, limit),
    appendHistory: (entry) => memory.appendHistory(entry),
    listHistory: (since, limit) => memory.listHistory(since, limit),
  };
  const throwing: Store = {
    ...rest,
    async get() {
      throw new Error("disk on fire");
    },
    async put() {
      return false;
    },
  };
  const hanging: Store = {
    ...rest,
    get: () => new Promise(() => {}),
    put: () => new Promise(() => {}),
  };
  const conflicting: Store = {
    ...rest,
    async get() {
      return undefined;
    },
    async put() {
      return false;
    },
  };

  for (const [name, store, reason] of [
    ["throwing", throwing, /disk on fire/],
    ["hanging", hanging, /deadline/],
    ["always conflicting", conflicting, /conflicting writes/],
  ] as const) {
    it(`${name} store: 503 with a reason, no throw`, async () => {
      const rerunner = createRerunner({ config, store, logger: () => {} });
      const response = await rerunner.handle(job(nextRun++, 1, "queued"));
      assert.equal(response.status, 503);
      assert.match(response.body.reason, reason);
    });
  }
});
