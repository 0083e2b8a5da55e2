// startReconciler: the one line that keeps an embedded rerunner from losing a rerun, and the
// start-up warning of a rerunner nobody reconciles.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, MemoryStore, startReconciler, type LogEntry } from "@job-rerunner/core";
import { signedDelivery, startFakeGitHub, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";

const SECRET = "start-reconciler-secret";
/** Longer than the second createRerunner leaves for startReconciler. */
const pastGrace = (): Promise<void> => new Promise((r) => setTimeout(r, 1200));

describe("startReconciler", () => {
  let gh: FakeGitHub;
  before(async () => (gh = await startFakeGitHub()));
  after(() => gh.close());

  const config = () => configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_start", GITHUB_API_URL: "", PENDING_INTERVAL_S: "1" });

  it("drives a rerun GitHub answered 'already running' with no further delivery, at PENDING_INTERVAL_S from the configuration; stop() ends it", { timeout: 60_000 }, async () => {
    const store = new MemoryStore();
    const logs: LogEntry[] = [];
    const rerunner = createRerunner({ config: { ...config(), githubApiUrl: gh.url }, store, logger: (l) => logs.push(l) });
    const loops = startReconciler(rerunner, { store, logger: (l) => logs.push(l) });
    try {
      assert.equal(loops.reconciler.config.pendingIntervalMs, 1000);
      gh.rerun("already-running", "ok");
      const delivery = signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId: 9_100_001, action: "completed", conclusion: "failure" }));
      const answer = await rerunner.handle({ headers: delivery.headers, rawBody: Buffer.from(delivery.rawBody) });
      assert.equal(answer.status, 202, answer.body.reason);
      const until = Date.now() + 45_000;
      while (gh.performed(9_100_001) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(gh.performed(9_100_001), 1, "the pending driver re-ran it");
      assert.ok(logs.some((l) => l.msg === "reconciling" && l.pendingIntervalS === 1));
      assert.ok(!logs.some((l) => typeof l.msg === "string" && l.msg.startsWith("no reconciler started")));
    } finally {
      await loops.stop();
    }
    const calls = gh.rerunCalls(9_100_001);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(gh.rerunCalls(9_100_001), calls, "nothing runs after stop()");
  });

  it("a rerunner with no reconciler says so once at start, naming startReconciler; reconciledElsewhere (a scheduled sweep function) silences it", async () => {
    const alone: LogEntry[] = [];
    createRerunner({ config: config(), store: new MemoryStore(), logger: (l) => alone.push(l) });
    await pastGrace();
    const warnings = alone.filter((l) => typeof l.msg === "string" && l.msg.startsWith("no reconciler started"));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.level, "warn");
    assert.match(String(warnings[0]!.msg), /startReconciler\(rerunner, \{ store \}\)/);

    const elsewhere: LogEntry[] = [];
    createRerunner({ config: config(), store: new MemoryStore(), logger: (l) => elsewhere.push(l), reconciledElsewhere: true });
    await pastGrace();
    assert.deepEqual(elsewhere, []);
  });
});
