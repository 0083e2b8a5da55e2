// The `sweep` entry point under the real functions-framework CLI (a child process), with
// FirestoreStore on the Firestore emulator and the stand-in GitHub: what Cloud Scheduler calls.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateAppKeys, signedDelivery, startFakeGitHub, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";
import { startEmulator, type Emulator } from "./emulator.js";
import { post, startFunction, type RunningFunction } from "./functions-framework.js";

const SECRET = "gcf-sweep-secret";
const REPO = "sweep-org/gcf-repo";
let emulator: Emulator;
let github: FakeGitHub;
const running: RunningFunction[] = [];
let nextRun = 9_100_000;

const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_SIGN_KEY: SECRET,
    GITHUB_TOKEN: "ghs_sweep_token",
    GITHUB_API_URL: github.url,
    FIRESTORE_EMULATOR_HOST: emulator.host,
    GOOGLE_CLOUD_PROJECT: emulator.projectId,
    FIRESTORE_COLLECTION: `sweep-${process.pid}`,
    SWEEP_REPOS: REPO,
    NODE_ENV: "production",
    ...extra,
  };
}

async function start(target: "sweep" | "rerunner", extra: Record<string, string> = {}): Promise<RunningFunction> {
  const fn = await startFunction(env(extra), undefined, target);
  running.push(fn);
  return fn;
}

interface SweepAnswer {
  status: number;
  reason: string;
  summary: string;
  sweep: { requests: number; notModified: number; rerunsMade: number; runsExamined: number; errors: number } | null;
  pending: { driven: number; rerunsMade: number };
}

async function sweep(fn: RunningFunction): Promise<{ status: number; body: SweepAnswer }> {
  const answer = await post(fn.url, { headers: { "content-type": "application/json", "user-agent": "Google-Cloud-Scheduler" }, rawBody: "{}" });
  return { status: answer.status, body: answer.json as unknown as SweepAnswer };
}

before(async () => {
  emulator = await startEmulator();
  github = await startFakeGitHub();
});
after(async () => {
  await Promise.allSettled(running.map((r) => r.stop()));
  await github.close();
  await emulator.stop();
});

describe("Cloud Functions `sweep` entry under functions-framework, state in Firestore", () => {
  it("re-runs a failed run whose deliveries were lost, once; an idle sweep is one 304; GET sweeps nothing", { timeout: 120_000 }, async () => {
    const fn = await start("sweep");
    const health = await fetch(fn.url);
    assert.equal(health.status, 200);
    assert.match(await health.text(), /POST runs one sweep/);
    assert.equal(github.listCalls().length, 0, "a GET costs no GitHub request");

    const runId = nextRun++;
    github.addRuns(REPO, [{ id: runId, createdAt: ago(10 * 60_000), updatedAt: ago(60_000) }]);
    const first = await sweep(fn);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.sweep?.rerunsMade, 1);
    assert.match(first.body.summary, /1 repository, 2 requests \(0 answered 304\), 1 run examined, 1 rerun made, 0 errors/);
    assert.equal(github.performed(runId), 1);
    assert.ok(fn.logs().some((l) => l.message === "sweep" && l.severity === "INFO"), "the summary is logged for Cloud Logging");

    await sweep(fn); // the listing changed once: the run is queued now
    const idle = await sweep(fn);
    assert.equal(idle.status, 200);
    assert.deepEqual({ requests: idle.body.sweep?.requests, notModified: idle.body.sweep?.notModified }, { requests: 1, notModified: 1 });
    assert.equal(github.performed(runId), 1);

    // A second instance (a new cold start) shares the cursor in Firestore: idle too.
    const other = await start("sweep");
    const shared = await sweep(other);
    assert.deepEqual({ requests: shared.body.sweep?.requests, notModified: shared.body.sweep?.notModified }, { requests: 1, notModified: 1 });
  });

  it("drives a rerun the webhook function left pending ('already running'), with no further delivery", { timeout: 120_000 }, async () => {
    const webhook = await start("rerunner");
    const fn = await start("sweep");
    const runId = nextRun++;
    github.rerun("already-running", "ok");
    const delivery = signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" }));
    const answer = await post(webhook.url, delivery);
    assert.equal(answer.status, 202, answer.text);
    const driven = await sweep(fn);
    assert.equal(driven.status, 200, JSON.stringify(driven.body));
    assert.deepEqual({ driven: driven.body.pending.driven, rerunsMade: driven.body.pending.rerunsMade }, { driven: 1, rerunsMade: 1 });
    assert.equal(github.performed(runId), 1);
    assert.equal(github.rerunCalls(runId), 2);
  });

  it("bad configuration: 500 naming the variable; other methods 405", { timeout: 120_000 }, async () => {
    const fn = await start("sweep", { SWEEP_REPOS: "no-slash-here" });
    const answer = await sweep(fn);
    assert.equal(answer.status, 500);
    assert.match(answer.body.reason, /SWEEP_REPOS must be comma-separated owner\/name pairs/);
    assert.equal((await fetch(fn.url, { method: "PUT" })).status, 405);
  });

  it("in App mode each call reads the App's delivery log and has GitHub redeliver a lost failure to the webhook function, with no SWEEP_REPOS", { timeout: 120_000 }, async () => {
    const keys = generateAppKeys();
    const app = await startFakeGitHub({ app: { id: 8888, publicKey: keys.publicKey, installations: { 81: "sweep-org" } } });
    try {
      const appEnv = { GITHUB_TOKEN: "", SWEEP_REPOS: "", GITHUB_APP_ID: "8888", GITHUB_APP_PRIVATE_KEY: keys.privateKey.replace(/\n/g, "\\n"), GITHUB_API_URL: app.url, FIRESTORE_COLLECTION: `sweep-app-${process.pid}` };
      const webhook = await start("rerunner", appEnv);
      const fn = await start("sweep", appEnv);
      app.hooks!.target(webhook.url, SECRET);
      const runId = nextRun++;
      const payload = workflowRunPayload({ runId, action: "completed", conclusion: "failure", owner: "sweep-org", repo: "gcf-repo", installationId: 81 });
      const lost = app.hooks!.record({ event: "workflow_run", payload, statusCode: 0, deliveredAt: Date.now() - 5 * 60_000 });
      const first = await sweep(fn);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.match(first.body.summary, /delivery log: 1 delivery read \(1 page\), 1 lost, 1 redelivered/);
      assert.equal(first.body.sweep, null);
      await app.hooks!.settled();
      assert.equal(app.hooks!.redeliveryRequests(lost.guid), 1);
      assert.equal(app.performed(runId), 1);
      const idle = await sweep(fn);
      assert.match(idle.body.summary, /0 lost, 0 redelivered/);
      assert.equal(app.hooks!.redeliveryRequests(lost.guid), 1);
      assert.equal(app.listCalls().length, 0);
    } finally {
      await app.close();
    }
  });
});
