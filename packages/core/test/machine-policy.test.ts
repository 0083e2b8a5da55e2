import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, decide, settle, type Config, type JobFacts, type RunEvent, type RunRecord, type WorkflowJobEvent } from "@job-rerunner/core";

const repo = { id: 7, owner: "o", name: "r" };
let clock = 1_700_000_000_000;
let delivery = 0;

function cfg(env: Record<string, string> = {}): Config {
  return configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", ...env });
}

function read(text: string): JobFacts["log"] {
  return { state: "read", value: text };
}

function jobEvent(jobId: number, status: WorkflowJobEvent["job"]["status"], conclusion: string | null = null, log?: JobFacts["log"], deliveryId?: string): WorkflowJobEvent {
  delivery++;
  const job = { id: jobId, name: `job ${jobId}`, status, conclusion, steps: [{ name: "Run npm ci", conclusion: conclusion === "failure" ? "failure" : "success" }] };
  const base: WorkflowJobEvent = {
    kind: "workflow_job",
    deliveryId: deliveryId ?? `d${delivery}`,
    handlerId: `h${delivery}`,
    receivedAt: (clock += 1000),
    repo,
    runId: 99,
    attempt: 1,
    headBranch: "master",
    defaultBranch: "master",
    workflowName: "CI",
    sender: "octocat",
    job,
  };
  if (log === undefined) return base;
  return { ...base, facts: { jobs: { [String(jobId)]: { ...job, annotations: { state: "read", value: [] }, log } } } };
}

function runCompleted(facts?: RunEvent["facts"]): RunEvent {
  delivery++;
  return {
    kind: "workflow_run",
    deliveryId: `d${delivery}`,
    handlerId: `h${delivery}`,
    receivedAt: (clock += 1000),
    repo,
    runId: 99,
    attempt: 1,
    headBranch: "master",
    defaultBranch: "master",
    workflowName: "CI",
    sender: "octocat",
    status: "completed",
    conclusion: "failure",
    ...(facts ? { facts } : {}),
  };
}

function feed(events: RunEvent[], config: Config, start?: RunRecord) {
  let record = start;
  const out: { status: number; action: string; reason: string; answerAction?: string }[] = [];
  for (const e of events) {
    const d = decide(record, e, config);
    out.push({ status: d.status, action: d.action.type, reason: d.reason, ...(d.answerAction ? { answerAction: d.answerAction } : {}) });
    record = d.record;
  }
  return { out, record: record! };
}

describe("decide under the rerun policy (pure)", () => {
  it("the default policy stores no class: records look as they did before the policy existed", () => {
    const { record } = feed([jobEvent(1, "queued"), jobEvent(1, "completed", "failure", read("npm ERR! code ECONNRESET"))], cfg());
    assert.deepEqual(record.jobs["1"], { name: "job 1", status: "completed", conclusion: "failure" });
  });

  it("transient: the class is stored with its evidence and decides; a redelivery answers the same, its action included", () => {
    const config = cfg({ RERUN_WHEN: "transient" });
    const last = jobEvent(1, "completed", "failure", read("npm ERR! code ECONNRESET"));
    const { out, record } = feed([jobEvent(1, "queued"), last, { ...last, handlerId: "again", receivedAt: (clock += 1000) }], config);
    assert.equal(out[1]!.status, 201);
    assert.match(out[1]!.reason, /job "job 1" hit a network failure \("npm ERR! code ECONNRESET"\): transient: re-running failed jobs$/);
    assert.deepEqual(record.jobs["1"]?.verdict, { class: "transient:network", evidence: "npm ERR! code ECONNRESET" });
    assert.equal(record.jobs["1"]?.failedStep, "Run npm ci");
    if (record.rerun.state === "pending") assert.match(record.rerun.because ?? "", /hit a network failure/);
    else assert.fail("the rerun is pending");
    // The redelivery drives the pending rerun (as before the policy); its memo names the action.
    assert.equal(record.deliveries.find((d) => d.id === last.deliveryId)?.action, "rerun-failed-jobs");
  });

  it("a definite class is kept: a later event with other facts for the same job does not change the verdict", () => {
    const config = cfg({ RERUN_WHEN: "transient" });
    const first = feed([jobEvent(1, "queued"), jobEvent(1, "completed", "failure", read("AssertionError: boom"))], config);
    assert.equal(first.out[1]!.status, 200);
    const later = runCompleted({ jobs: { "1": { id: 1, name: "job 1", status: "completed", conclusion: "failure", steps: [], annotations: { state: "read", value: [] }, log: read("fatal: early EOF") } } });
    const d = decide(first.record, later, config);
    assert.equal(d.status, 200);
    assert.match(d.reason, /not transient/);
    assert.equal(d.record?.jobs["1"]?.verdict?.class, "not-transient");
  });

  it("an unknown class is classified again from facts read later", () => {
    const config = cfg({ RERUN_WHEN: "transient", RERUN_UNKNOWN: "false" });
    const first = feed([jobEvent(1, "queued"), jobEvent(1, "completed", "failure", { state: "unknown", why: "404" })], config);
    assert.equal(first.out[1]!.status, 200);
    assert.equal(first.record.jobs["1"]?.verdict?.class, "unknown");
    const later = runCompleted({ jobs: { "1": { id: 1, name: "job 1", status: "completed", conclusion: "failure", steps: [], annotations: { state: "read", value: [] }, log: read("fatal: early EOF") } } });
    const d = decide(first.record, later, config);
    assert.equal(d.status, 201, d.reason);
    assert.equal(d.record?.jobs["1"]?.verdict?.class, "transient:network");
    assert.equal(d.record?.jobs["1"]?.failedStep, "Run npm ci", "the stored failed step is kept");
  });

  it("jobs listed for an attempt whose webhooks were lost are added to the record and classified", () => {
    const config = cfg({ RERUN_WHEN: "transient" });
    const listed = runCompleted({
      jobs: {
        "5": { id: 5, name: "e2e", status: "completed", conclusion: "failure", steps: [{ name: "Set up job", conclusion: "failure" }], annotations: { state: "read", value: [] }, log: read("") },
      },
    });
    const d = decide(undefined, listed, config);
    assert.equal(d.status, 201, d.reason);
    assert.deepEqual(d.record?.jobs["5"]?.verdict, { class: "transient:setup-job", evidence: 'step "Set up job"' });
    assert.equal(d.record?.failureSeen, true);
  });
});

describe("listed jobs complete what the webhooks left open", () => {
  it("a job recorded as queued whose completed webhook was lost takes the listing's conclusion and class", () => {
    const config = cfg({ RERUN_WHEN: "transient" });
    const { record } = feed([jobEvent(1, "queued"), jobEvent(2, "queued"), jobEvent(2, "completed", "success")], config);
    const listed = runCompleted({
      jobs: {
        "1": { id: 1, name: "job 1", status: "completed", conclusion: "failure", steps: [{ name: "Run tests", conclusion: "failure" }], annotations: { state: "read", value: [] }, log: read("AssertionError: no") },
      },
    });
    const d = decide(record, listed, config);
    assert.equal(d.status, 200, d.reason);
    assert.equal(d.record?.jobs["1"]?.status, "completed");
    assert.equal(d.record?.jobs["1"]?.verdict?.class, "not-transient");
    assert.match(d.reason, /job "job 1" failed a test \("AssertionError: no"\): not transient/);
  });
});

describe("settle: a refusal for good", () => {
  it("rejected: the rerun becomes refused, 502; later events answer 200 with the refusal and no action", () => {
    const config = cfg();
    const { record } = feed([jobEvent(1, "queued")], config);
    const last = jobEvent(1, "completed", "failure");
    const d = decide(record, last, config);
    assert.equal(d.action.type, "rerun-failed-jobs");
    if (d.action.type !== "rerun-failed-jobs") return;
    const s = settle(d.record!, d.action, { kind: "rejected", message: "422: Unprocessable Entity" }, last, clock);
    assert.equal(s.status, 502);
    assert.equal(s.record.rerun.state, "refused");
    assert.match(s.reason, /refused the rerun for good \(422: Unprocessable Entity\); it is not requested again/);
    assert.deepEqual(s.record.deliveries.at(-1), { id: last.deliveryId, status: 502, reason: s.reason, action: "rerun-failed-jobs" });
    const later = decide(s.record, runCompleted(), config);
    assert.equal(later.status, 200);
    assert.equal(later.action.type, "none");
    assert.match(later.reason, /GitHub refused the rerun for good \(422: Unprocessable Entity\); not requested again/);
    // The same delivery again: the first answer, and the action it named.
    const again = decide(s.record, { ...last, handlerId: "h-again", receivedAt: clock + 5 }, config);
    assert.equal(again.status, 502);
    assert.equal(again.action.type, "none");
    assert.equal(again.answerAction, "rerun-failed-jobs");
    // A new attempt starts afresh.
    const next = decide(s.record, { ...jobEvent(1, "queued"), attempt: 2 }, config);
    assert.equal(next.record?.rerun.state, "none");
  });

  it("refused (a bad token, 401) stays pending as before", () => {
    const config = cfg();
    const { record } = feed([jobEvent(1, "queued")], config);
    const last = jobEvent(1, "completed", "failure");
    const d = decide(record, last, config);
    if (d.action.type !== "rerun-failed-jobs") return assert.fail();
    assert.equal(settle(d.record!, d.action, { kind: "refused", message: "401: Bad credentials" }, last, clock).record.rerun.state, "pending");
  });
});
