// Deciding one completed run with no store (the GitHub Action's path): configFromEnv without a
// webhook secret, createRunDecider against the stand-in GitHub, decideCompletedRun's report.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ConfigError, configFromEnv, createRunDecider, decideCompletedRun, parseEvent, silentLogger, type Env, type WorkflowRunEvent } from "@job-rerunner/core";
import { startFakeGitHub, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";

let gh: FakeGitHub;
let nextRun = 4_400_000;
let nextJob = 8_800_000;

before(async () => {
  gh = await startFakeGitHub();
});
after(async () => {
  await gh.close();
});

function config(extra: Env = {}) {
  return configFromEnv({ GITHUB_TOKEN: "ghs_single_run", GITHUB_API_URL: gh.url, ...extra }, { webhook: false });
}

function completed(runId: number, conclusion: string, attempt = 1): WorkflowRunEvent {
  const parsed = parseEvent(
    { eventName: "workflow_run", deliveryId: `test:${runId}`, receivedAt: Date.now(), handlerId: randomUUID() },
    workflowRunPayload({ runId, action: "completed", conclusion, attempt }),
  );
  assert.equal(parsed.kind, "event");
  if (parsed.kind !== "event" || parsed.event.kind !== "workflow_run") throw new Error("not a workflow_run event");
  return parsed.event;
}

describe("configFromEnv without a webhook", () => {
  it("needs no GITHUB_SIGN_KEY and keeps no secret; a bad value still names its variable", () => {
    assert.deepEqual(config().secrets, []);
    assert.throws(() => configFromEnv({}), /GITHUB_SIGN_KEY is required/);
    assert.throws(
      () => config({ RUN_ATTEMPTS: "abc" }),
      (error: unknown) => error instanceof ConfigError && error.variable === "RUN_ATTEMPTS" && /must be a whole number from 1 to 51/.test(error.message),
    );
  });
});

describe("createRunDecider: one completed run, GitHub's run as the state", () => {
  it("re-runs a failed attempt once, names its failed job, and a repeat of the event calls nothing", async () => {
    const runId = ++nextRun;
    const jobId = ++nextJob;
    gh.attemptJobs(runId, 1, [{ id: jobId, name: "build", status: "completed", conclusion: "failure", steps: [{ name: "Run tests", conclusion: "failure" }] }]);
    const decider = createRunDecider({ config: config(), logger: silentLogger });
    const first = await decider.decide(completed(runId, "failure"));
    assert.equal(first.rerun, true, first.reason);
    assert.equal(first.status, 201);
    assert.match(first.reason, /run \d+ attempt 1 finished with failed jobs: GitHub accepted the rerun of failed jobs/);
    assert.deepEqual(first.failedJobs, [{ id: jobId, name: "build", class: null, evidence: 'failed in step "Run tests"' }]);
    assert.equal(gh.rerunCalls(runId), 1);

    const again = await decider.decide(completed(runId, "failure"));
    assert.equal(again.rerun, false, again.reason);
    assert.equal(again.outcome?.kind, "already-done");
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("a run GitHub has moved past the event's attempt is read, not re-run", async () => {
    const runId = ++nextRun;
    gh.run(runId).runAttempt = 2;
    gh.run(runId).status = "in_progress";
    const result = await createRunDecider({ config: config(), logger: silentLogger }).decide(completed(runId, "failure"));
    assert.equal(result.rerun, false);
    assert.equal(gh.rerunCalls(runId), 0);
    assert.equal(gh.readCalls(runId), 1);
  });

  it("a 403 for a missing permission is a rejection that says so", async () => {
    const runId = ++nextRun;
    gh.rerun("forbidden");
    try {
      const result = await createRunDecider({ config: config(), logger: silentLogger }).decide(completed(runId, "failure"));
      assert.equal(result.rerun, false);
      assert.equal(result.status, 502);
      assert.deepEqual(result.outcome?.kind === "rejected" && result.outcome.missingPermission, true);
      assert.match(result.reason, /actions: write/);
    } finally {
      gh.rerun("ok");
    }
  });

  it("a dispatch names a run by id: its event is read from GitHub (completed only)", async () => {
    const runId = ++nextRun;
    const decider = createRunDecider({ config: config({ DRY_RUN: "true" }), logger: silentLogger });
    const repo = { id: 186853002, owner: "octo-org", name: "octo-repo" };
    const envelope = { deliveryId: "dispatch", receivedAt: Date.now(), handlerId: randomUUID() };
    gh.run(runId).runAttempt = 3;
    const read = await decider.readRunEvent({ repo, runId, defaultBranch: "main" }, envelope);
    assert.equal(read.kind, "event");
    if (read.kind === "event") {
      assert.equal(read.event.attempt, 3);
      assert.equal(read.event.conclusion, "failure");
      assert.equal(read.event.defaultBranch, "main");
    }
    gh.runningFor(runId, 60_000);
    assert.deepEqual(await decider.readRunEvent({ repo, runId, defaultBranch: "main" }, envelope), { kind: "not-completed", status: "in_progress", attempt: 3 });
  });
});

describe("decideCompletedRun", () => {
  it("is decide's answer for a run with no record; with no facts it names no job", () => {
    const { decision, failedJobs } = decideCompletedRun(completed(++nextRun, "success"), config());
    assert.equal(decision.status, 200);
    assert.match(decision.reason, /concluded success: nothing to re-run/);
    assert.deepEqual(failedJobs, []);
  });
});
