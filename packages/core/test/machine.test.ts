import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, decide, settle, type Config, type RunEvent, type RunRecord, type WorkflowJobEvent } from "@job-rerunner/core";

const config = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true" });
const repo = { id: 7, owner: "o", name: "r" };
let clock = 1_700_000_000_000;
let delivery = 0;

function jobEvent(jobId: number, status: WorkflowJobEvent["job"]["status"], conclusion: string | null = null, extra: Partial<WorkflowJobEvent> = {}): WorkflowJobEvent {
  delivery++;
  return {
    kind: "workflow_job",
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
    job: { id: jobId, name: `job ${jobId}`, status, conclusion },
    ...extra,
  };
}

function runEvent(status: "requested" | "in_progress" | "completed", conclusion: string | null, extra: Partial<RunEvent> = {}): RunEvent {
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
    status,
    conclusion,
    ...extra,
  } as RunEvent;
}

/** Feeds events through decide, returning the statuses and the final record. */
function run(events: RunEvent[], cfg: Config = config, start?: RunRecord) {
  let record = start;
  const statuses: number[] = [];
  const actions: string[] = [];
  for (const e of events) {
    const d = decide(record, e, cfg);
    statuses.push(d.status);
    actions.push(d.action.type);
    record = d.record;
  }
  return { statuses, actions, record };
}

describe("decide: the status table", () => {
  it("queued/in_progress 202, last completed with a failure 201 + action", () => {
    const r = run([jobEvent(1, "queued"), jobEvent(2, "queued"), jobEvent(1, "in_progress"), jobEvent(1, "completed", "success"), jobEvent(2, "completed", "failure")]);
    assert.deepEqual(r.statuses, [202, 202, 202, 202, 201]);
    assert.equal(r.actions.at(-1), "rerun-failed-jobs");
    assert.equal(r.record?.rerun.state, "pending");
  });

  it("all completed without failure: 200", () => {
    const r = run([jobEvent(1, "queued"), jobEvent(1, "completed", "success")]);
    assert.deepEqual(r.statuses, [202, 200]);
  });

  it("a completed job with no earlier record: 404, recorded all the same", () => {
    const r = run([jobEvent(1, "completed", "failure")]);
    assert.deepEqual(r.statuses, [404]);
    assert.equal(r.record?.jobs["1"]?.conclusion, "failure");
    assert.equal(r.actions[0], "none");
  });

  it("a failure on a branch not in REPO_BRANCHES: 200 naming the branch", () => {
    const d = run([jobEvent(1, "queued", null, { headBranch: "feature/x" }), jobEvent(1, "completed", "failure", { headBranch: "feature/x" })]);
    assert.deepEqual(d.statuses, [202, 200]);
    assert.match(d.record?.deliveries.at(-1)?.reason ?? "", /branch "feature\/x", not the repository's default branch "master"/);
    const listed = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", REPO_BRANCHES: "main,release/*" });
    const e = run([jobEvent(1, "queued", null, { headBranch: "feature/x" }), jobEvent(1, "completed", "failure", { headBranch: "feature/x" })], listed);
    assert.deepEqual(e.statuses, [202, 200]);
    assert.match(e.record?.deliveries.at(-1)?.reason ?? "", /branch "feature\/x", not in REPO_BRANCHES \(main,release\/\*\)/);
    const last = decide(undefined, jobEvent(1, "queued", null, { headBranch: "feature/x" }), config);
    assert.equal(last.status, 202);
  });

  it("REPO_BRANCHES unset: the repository's default branch is re-run, whatever it is called", () => {
    const onMain = { headBranch: "main", defaultBranch: "main" };
    assert.deepEqual(run([jobEvent(1, "queued", null, onMain), jobEvent(1, "completed", "failure", onMain)]).statuses, [202, 201]);
    const masterNotDefault = { headBranch: "master", defaultBranch: "main" };
    const d = run([jobEvent(1, "queued", null, masterNotDefault), jobEvent(1, "completed", "failure", masterNotDefault)]);
    assert.deepEqual(d.statuses, [202, 200]);
    assert.match(d.record?.deliveries.at(-1)?.reason ?? "", /not the repository's default branch "main" \(REPO_BRANCHES unset\)/);
    // workflow_run completed decides the same way.
    assert.equal(run([runEvent("requested", null, onMain), runEvent("completed", "failure", onMain)]).statuses.at(-1), 201);
  });

  it("REPO_BRANCHES unset and no default branch in the payload: not re-run, and the reason says why", () => {
    const unknown = { headBranch: "main", defaultBranch: null };
    const d = run([jobEvent(1, "queued", null, unknown), jobEvent(1, "completed", "failure", unknown)]);
    assert.deepEqual(d.statuses, [202, 200]);
    assert.deepEqual(d.actions, ["none", "none"]);
    assert.match(d.record?.deliveries.at(-1)?.reason ?? "", /payload names no repository default branch/);
  });

  it("REPO_BRANCHES set works as before, whatever the default branch", () => {
    const master = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", REPO_BRANCHES: "master" });
    const facts = { headBranch: "master", defaultBranch: "main" };
    assert.deepEqual(run([jobEvent(1, "queued", null, facts), jobEvent(1, "completed", "failure", facts)], master).statuses, [202, 201]);
    const all = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", REPO_BRANCHES: "*" });
    const none = { headBranch: "feature/x", defaultBranch: null };
    assert.deepEqual(run([jobEvent(1, "queued", null, none), jobEvent(1, "completed", "failure", none)], all).statuses, [202, 201]);
  });

  it("sender in NO_RETRY_LIST (any case): 204, nothing stored", () => {
    const cfg = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", NO_RETRY_LIST: "OctoCat" });
    const d = decide(undefined, jobEvent(1, "queued"), cfg);
    assert.equal(d.status, 204);
    assert.equal(d.record, undefined);
    assert.equal(d.changed, false);
  });

  it("run attempt at RUN_ATTEMPTS: 204", () => {
    const d = decide(undefined, jobEvent(1, "queued", null, { attempt: 4 }), config);
    assert.equal(d.status, 204);
    assert.match(d.reason, /RUN_ATTEMPTS=4/);
  });

  it("workflow not in RERUN_WORKFLOWS: 204", () => {
    const cfg = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", RERUN_WORKFLOWS: "Release" });
    assert.equal(decide(undefined, jobEvent(1, "queued"), cfg).status, 204);
    assert.equal(decide(undefined, jobEvent(1, "queued", null, { workflowName: "Release" }), cfg).status, 202);
  });

  it("RERUN_CONCLUSIONS decides what counts as failed", () => {
    assert.deepEqual(run([jobEvent(1, "queued"), jobEvent(1, "completed", "timed_out")]).statuses, [202, 200]);
    const cfg = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", RERUN_CONCLUSIONS: "failure,timed_out" });
    assert.deepEqual(run([jobEvent(1, "queued"), jobEvent(1, "completed", "timed_out")], cfg).statuses, [202, 201]);
  });
});

describe("decide: ordering, repeats and attempts", () => {
  it("job status only moves forward: a late in_progress after completed changes nothing", () => {
    const r = run([jobEvent(1, "queued"), jobEvent(2, "queued"), jobEvent(1, "completed", "failure"), jobEvent(1, "in_progress")]);
    assert.equal(r.record?.jobs["1"]?.status, "completed");
    assert.equal(r.record?.jobs["1"]?.conclusion, "failure");
  });

  it("a completed job repeated with another conclusion keeps the first", () => {
    const r = run([jobEvent(1, "queued"), jobEvent(2, "queued"), jobEvent(1, "completed", "success"), jobEvent(1, "completed", "failure")]);
    assert.equal(r.record?.jobs["1"]?.conclusion, "success");
    assert.equal(r.record?.failureSeen, false);
  });

  it("a repeated delivery id gets the first answer with no change", () => {
    const first = jobEvent(1, "queued");
    const a = decide(undefined, first, config);
    const b = decide(a.record, { ...first, handlerId: "other", receivedAt: clock + 5 }, config);
    assert.equal(b.status, a.status);
    assert.equal(b.reason, a.reason);
    assert.equal(b.changed, false);
    assert.equal(b.record, a.record);
  });

  it("a job that shows up late re-opens the attempt, but a rerun is decided at most once", () => {
    const r = run([jobEvent(1, "queued"), jobEvent(1, "completed", "failure"), jobEvent(2, "queued"), jobEvent(2, "completed", "failure")]);
    // The lease of the first decision is still live, so the late job's events only wait.
    assert.deepEqual(r.statuses, [202, 201, 202, 202]);
    assert.equal(r.actions.filter((a) => a !== "none").length, 1);
    // Once requested, a late failing job gets 200.
    const requested: RunRecord = { ...r.record!, rerun: { state: "requested", attempt: 1, at: clock } };
    const late = run([jobEvent(3, "queued"), jobEvent(3, "completed", "failure")], config, requested);
    assert.deepEqual(late.statuses, [202, 200]);
    assert.deepEqual(late.actions, ["none", "none"]);
  });

  it("a run whose only job's completion came first (404) is still re-run when its late queued event arrives", () => {
    const r = run([jobEvent(1, "completed", "failure"), jobEvent(1, "queued"), jobEvent(1, "in_progress")]);
    assert.deepEqual(r.statuses.slice(0, 2), [404, 201]);
    assert.equal(r.actions[1], "rerun-failed-jobs");
    assert.equal(r.record?.jobs["1"]?.status, "completed");
  });

  it("an older attempt's event: 200 and no change", () => {
    const r = run([jobEvent(1, "queued", null, { attempt: 2 })]);
    const d = decide(r.record, jobEvent(1, "completed", "failure", { attempt: 1 }), config);
    assert.equal(d.status, 200);
    assert.equal(d.changed, false);
    assert.equal(d.record, r.record);
  });

  it("a newer attempt starts a fresh job table and may be re-run again", () => {
    const first = run([jobEvent(1, "queued"), jobEvent(2, "queued"), jobEvent(2, "completed", "success"), jobEvent(1, "completed", "failure")]);
    assert.equal(first.statuses.at(-1), 201);
    const requested: RunRecord = { ...first.record!, rerun: { state: "requested", attempt: 1, at: clock } };
    const second = run([jobEvent(1, "queued", null, { attempt: 2 }), jobEvent(1, "completed", "failure", { attempt: 2 })], config, requested);
    assert.deepEqual(second.statuses, [202, 201]);
    assert.deepEqual(Object.keys(second.record!.jobs), ["1"]);
    assert.equal(second.record!.attempt, 2);
  });

  it("workflow_run completed is authoritative: failure re-runs even with jobs still open; success does not", () => {
    const a = run([jobEvent(1, "queued"), runEvent("completed", "failure")]);
    assert.deepEqual(a.statuses, [202, 201]);
    const b = run([jobEvent(1, "queued"), jobEvent(1, "completed", "failure"), runEvent("completed", "success")].slice(0, 1).concat([runEvent("completed", "success"), jobEvent(1, "completed", "failure")]));
    assert.deepEqual(b.statuses, [202, 200, 200]);
    assert.equal(b.actions.every((x) => x === "none"), true);
  });

  it("workflow_run requested/in_progress: 202; completed with no record: decided at once", () => {
    assert.deepEqual(run([runEvent("requested", null), runEvent("in_progress", null)]).statuses, [202, 202]);
    assert.deepEqual(run([runEvent("completed", "failure")]).statuses, [201]);
  });
});

describe("settle: the outcome of the rerun call", () => {
  function pending() {
    const events = [jobEvent(1, "queued"), jobEvent(1, "completed", "failure")];
    const r = run(events);
    const d = decide(run(events.slice(0, 1)).record, events[1]!, config);
    assert.equal(d.action.type, "rerun-failed-jobs");
    return { record: r.record!, action: d.action.type === "rerun-failed-jobs" ? d.action : assert.fail(), event: events[1]! };
  }

  it("accepted: requested, 201; in-progress: lease freed, 202; transient: lease freed, 502", () => {
    const p = pending();
    const ok = settle(p.record, p.action, { kind: "accepted" }, p.event, clock);
    assert.equal(ok.status, 201);
    assert.equal(ok.record.rerun.state, "requested");
    for (const [kind, status] of [["in-progress", 202], ["transient", 502], ["refused", 502]] as const) {
      const s = settle(p.record, p.action, { kind, message: "m" }, p.event, clock);
      assert.equal(s.status, status);
      assert.equal(s.record.rerun.state, "pending");
      if (s.record.rerun.state === "pending") assert.equal(s.record.rerun.leaseHolder, null);
      assert.equal(s.record.deliveries.at(-1)?.status, status, "the memo holds the final answer");
    }
  });

  it("a redelivery of a delivery that got 502 drives the pending rerun again, reading the run first", () => {
    const p = pending();
    const failed = settle(p.record, p.action, { kind: "transient", message: "boom" }, p.event, clock);
    const again = decide(failed.record, { ...p.event, handlerId: "h-retry", receivedAt: (clock += 1000) }, config);
    assert.equal(again.action.type, "rerun-failed-jobs");
    if (again.action.type === "rerun-failed-jobs") assert.equal(again.action.verifyFirst, true);
  });

  /** A first delivery's rerun failed (502); another delivery now drives it and holds the lease. */
  function drivenByAnother() {
    const p = pending();
    const failed = settle(p.record, p.action, { kind: "transient", message: "boom" }, p.event, clock);
    const other = jobEvent(2, "queued", null, { receivedAt: (clock += 1000) });
    const driven = decide(failed.record, other, config);
    if (driven.action.type !== "rerun-failed-jobs") assert.fail("the other delivery should drive the pending rerun");
    return { p, other, driven, action: driven.action };
  }

  it("a redelivery of a delivery that got 502 answers 201 once the rerun went through via another delivery", () => {
    const { p, other, driven } = drivenByAnother();
    if (driven.action.type !== "rerun-failed-jobs") return;
    const done = settle(driven.record!, driven.action, { kind: "accepted" }, other, clock);
    const again = decide(done.record, { ...p.event, handlerId: "h-again", receivedAt: (clock += 1000) }, config);
    assert.equal(again.status, 201);
    assert.equal(again.action.type, "none");
    assert.match(again.reason, /requested since/);
  });

  it("while one holder's lease is live, another delivery does not drive: 202", () => {
    const p = pending();
    const other = decide(p.record, jobEvent(2, "queued"), config);
    assert.equal(other.status, 202);
    assert.equal(other.action.type, "none");
    assert.match(other.reason, /another delivery/);
  });

  it("a redelivery that finds the lease taken answers 202 but keeps its first answer, so it later replays the rerun's success", () => {
    const { p, other, driven, action } = drivenByAnother();
    // While `other` holds the lease, the first delivery is redelivered.
    const blocked = decide(driven.record, { ...p.event, handlerId: "h-blocked", receivedAt: (clock += 10) }, config);
    assert.equal(blocked.status, 202);
    assert.match(blocked.reason, /another delivery/);
    assert.equal(blocked.changed, false, "the memo keeps the delivery's first answer");
    const done = settle(driven.record!, action, { kind: "accepted" }, other, clock);
    const again = decide(done.record, { ...p.event, handlerId: "h-again", receivedAt: (clock += 1000) }, config);
    assert.equal(again.status, 201, again.reason);
  });

  it("an expired lease can be taken over (a crashed holder does not block forever)", () => {
    const p = pending();
    const later = decide(p.record, jobEvent(2, "queued", null, { receivedAt: clock + config.leaseMs + 10_000 }), config);
    assert.equal(later.action.type, "rerun-failed-jobs");
  });
});
