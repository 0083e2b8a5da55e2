// The flaky-job table does not depend on webhook order (GitHub does not guarantee it): a job
// that failed in attempt 1 and passed in attempt 2 counts as "re-run passed" whether attempt 2's
// workflow_run completed arrives before or after its workflow_job completed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, flakyJobs, MemoryStore, type FlakyJob, type HistoryEntry } from "@job-rerunner/core";
import { sampleHistoryEntry, signedDelivery, workflowJobPayload, workflowRunPayload } from "@job-rerunner/testing";

const SECRET = "flaky-order-secret";

type Delivery = ReturnType<typeof signedDelivery>;

async function table(runAttempts: string, order: "run-first" | "job-first"): Promise<{ rows: FlakyJob[]; verdicts: string[] }> {
  const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", RUN_ATTEMPTS: runAttempts });
  const store = new MemoryStore();
  const engine = createRerunner({ config, store, logger: () => {} });
  const send = (d: Delivery) => engine.handle({ headers: d.headers, rawBody: d.rawBody });
  const run = { runId: 91, branch: "master", workflow: "CI" };
  const job = (attempt: number, jobId: number, jobName: string, action: "queued" | "completed", conclusion?: "success" | "failure") =>
    signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, attempt, jobId, jobName, action, ...(conclusion === undefined ? {} : { conclusion }) }));
  const runDone = (attempt: number, conclusion: "success" | "failure") => signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...run, attempt, action: "completed", conclusion }));

  // Attempt 1: build passes, e2e fails and is re-run.
  await send(job(1, 1, "build", "queued"));
  await send(job(1, 2, "e2e", "queued"));
  await send(job(1, 1, "build", "completed", "success"));
  assert.equal((await send(job(1, 2, "e2e", "completed", "failure"))).status, 201);
  await send(runDone(1, "failure"));
  // Attempt 2: e2e passes; its two completions arrive in either order.
  await send(job(2, 3, "e2e", "queued"));
  const jobDone = job(2, 3, "e2e", "completed", "success");
  const attempt2 = order === "run-first" ? [runDone(2, "success"), jobDone] : [jobDone, runDone(2, "success")];
  for (const d of attempt2) await send(d);

  const history = await store.listHistory(0, 100);
  return { rows: flakyJobs(history, 0), verdicts: history.map((h) => `${h.attempt}:${h.verdict}`).reverse() };
}

describe("flaky-job table and webhook order", () => {
  for (const runAttempts of ["3", "2"]) {
    it(`RUN_ATTEMPTS=${runAttempts}: attempt 2's run completion before or after its job completion gives the same counts`, async () => {
      const expected = [{ repo: "octo-org/octo-repo", workflow: "CI", job: "e2e", failures: 1, reruns: 1, rerunsPassed: 1, evidence: null, evidenceCount: 0 }];
      const jobFirst = await table(runAttempts, "job-first");
      const runFirst = await table(runAttempts, "run-first");
      assert.deepEqual(jobFirst.rows, expected, JSON.stringify(jobFirst.verdicts));
      assert.deepEqual(runFirst.rows, expected, JSON.stringify(runFirst.verdicts));
      assert.deepEqual(runFirst.verdicts, jobFirst.verdicts, "the same decisions are listed");
    });
  }
});

describe("flakyJobs pairing a failed job with the next attempt", () => {
  const e2e = (conclusion: string): HistoryEntry["jobs"] => [{ name: "e2e", conclusion }];
  const passed = (entries: HistoryEntry[]) => flakyJobs(entries, 0).find((r) => r.job === "e2e")?.rerunsPassed;
  const rerun = sampleHistoryEntry({ runId: 5, attempt: 1, verdict: "rerun", jobs: e2e("failure"), at: 1 });
  const next = (jobs: HistoryEntry["jobs"], runConclusion?: string): HistoryEntry =>
    sampleHistoryEntry({ runId: 5, attempt: 2, verdict: "passed", jobs, at: 2, ...(runConclusion === undefined ? {} : { runConclusion }) });

  it("the job's own conclusion in the next attempt decides when it is known", () => {
    assert.equal(passed([rerun, next(e2e("success"))]), 1);
    assert.equal(passed([rerun, next(e2e("failure"), "success")]), 0, "the job's fact wins over the run's");
    assert.equal(passed([rerun, next(e2e("cancelled"))]), 0);
  });

  it("otherwise the next attempt's run conclusion: success passed, anything else (or not known) did not", () => {
    assert.equal(passed([rerun, next([], "success")]), 1);
    assert.equal(passed([rerun, next([], "cancelled")]), 0, "a cancelled run is a 'passed' verdict under RERUN_CONCLUSIONS=failure, not a passed job");
    assert.equal(passed([rerun, next([])]), 0, "an entry from before run conclusions were recorded");
  });
});

describe("a failed job whose completion arrives after its attempt's run completion", () => {
  const SECRET_LATE = "late-job-secret";
  type Send = (d: Delivery) => Promise<{ status: number; body: { reason: string } }>;

  function engineOf(runAttempts: string): { send: Send; store: MemoryStore } {
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET_LATE, DRY_RUN: "true", RUN_ATTEMPTS: runAttempts });
    const store = new MemoryStore();
    const engine = createRerunner({ config, store, logger: () => {} });
    return { send: (d) => engine.handle({ headers: d.headers, rawBody: d.rawBody }), store };
  }
  const run = { runId: 92, branch: "master", workflow: "CI" };
  const job = (attempt: number, jobId: number, jobName: string, action: "queued" | "completed", conclusion?: "success" | "failure") =>
    signedDelivery(SECRET_LATE, "workflow_job", workflowJobPayload({ ...run, attempt, jobId, jobName, action, ...(conclusion === undefined ? {} : { conclusion }) }));
  const runDone = (attempt: number, conclusion: "success" | "failure") => signedDelivery(SECRET_LATE, "workflow_run", workflowRunPayload({ ...run, attempt, action: "completed", conclusion }));

  /** Attempt 1: build passes, e2e fails; e2e's completion comes before or after the run's. */
  async function attemptOne(send: Send, order: "job-first" | "run-first"): Promise<void> {
    await send(job(1, 1, "build", "queued"));
    await send(job(1, 2, "e2e", "queued"));
    await send(job(1, 1, "build", "completed", "success"));
    const failed = job(1, 2, "e2e", "completed", "failure");
    for (const d of order === "job-first" ? [failed, runDone(1, "failure")] : [runDone(1, "failure"), failed]) await send(d);
  }

  async function verdicts(store: MemoryStore): Promise<string[]> {
    return (await store.listHistory(0, 100)).map((h) => `${h.attempt}:${h.verdict}:${h.jobs.map((j) => `${j.name}=${j.conclusion}`).join(",")}`).reverse();
  }

  it("re-run attempt: the failure and its passing rerun count the same in either order; the late job is recorded once, as `other`", async () => {
    const expected = [{ repo: "octo-org/octo-repo", workflow: "CI", job: "e2e", failures: 1, reruns: 1, rerunsPassed: 1, evidence: null, evidenceCount: 0 }];
    for (const order of ["job-first", "run-first"] as const) {
      const { send, store } = engineOf("3");
      await attemptOne(send, order);
      // A redelivery of the late completion adds nothing.
      assert.equal((await send(job(1, 2, "e2e", "completed", "failure"))).status, 200);
      await send(job(2, 3, "e2e", "queued"));
      await send(job(2, 3, "e2e", "completed", "success"));
      await send(runDone(2, "success"));
      assert.deepEqual(flakyJobs(await store.listHistory(0, 100), 0), expected, order);
      const listed = await verdicts(store);
      if (order === "job-first") assert.deepEqual(listed, ["1:dry-run:build=success,e2e=failure", "2:passed:e2e=success"]);
      else assert.deepEqual(listed, ["1:dry-run:build=success", "1:other:e2e=failure", "2:passed:e2e=success"]);
    }
  });

  it("final attempt (RUN_ATTEMPTS=1): the give-up is recorded once, and the late failed job apart", async () => {
    const expected = [{ repo: "octo-org/octo-repo", workflow: "CI", job: "e2e", failures: 1, reruns: 0, rerunsPassed: 0, evidence: null, evidenceCount: 0 }];
    for (const order of ["job-first", "run-first"] as const) {
      const { send, store } = engineOf("1");
      await attemptOne(send, order);
      assert.equal((await send(job(1, 2, "e2e", "completed", "failure"))).status, 204, "a redelivery");
      assert.deepEqual(flakyJobs(await store.listHistory(0, 100), 0), expected, order);
      const listed = await verdicts(store);
      if (order === "job-first") assert.deepEqual(listed, ["1:gave-up:build=success,e2e=failure"]);
      else assert.deepEqual(listed, ["1:gave-up:build=success", "1:other:e2e=failure"]);
    }
  });

  it("a matrix whose failures all come after the run's completion: at most 16 such entries per run, every attempt's verdict kept", async () => {
    // RUN_ATTEMPTS=6: attempts 1-5 are the machine's, attempt 6 the final one (watched apart).
    const { send, store } = engineOf("6");
    const shards = Array.from({ length: 20 }, (_, i) => i + 1);
    for (let attempt = 1; attempt <= 6; attempt++) {
      const id = (shard: number): number => attempt * 100 + shard;
      for (const shard of shards) await send(job(attempt, id(shard), `shard ${shard}`, "queued"));
      await send(runDone(attempt, "failure"));
      for (const shard of shards) await send(job(attempt, id(shard), `shard ${shard}`, "completed", "failure"));
    }
    const history = await store.listHistory(0, 200);
    const verdicts = history.filter((h) => h.verdict !== "other").map((h) => `${h.attempt}:${h.verdict}`).reverse();
    assert.deepEqual(verdicts, ["1:dry-run", "2:dry-run", "3:dry-run", "4:dry-run", "5:dry-run", "6:gave-up"], "the history holds at most 50 entries per run: the verdicts stay");
    const late = history.filter((h) => h.verdict === "other").reverse();
    assert.equal(late.length, 16);
    // All sixteen go to attempt 1 (the first to come), each listing every failed job known then.
    assert.deepEqual(new Set(late.map((h) => h.attempt)), new Set([1]));
    assert.deepEqual(late.at(-1)!.jobs.map((j) => j.name), shards.slice(0, 16).map((s) => `shard ${s}`));
    const shard1 = flakyJobs(history, 0).find((r) => r.job === "shard 1");
    assert.equal(shard1?.failures, 1, "attempt 1's late failure counts (the later attempts' were decided without theirs)");
  });

  it("a job that passes after the run's completion is not recorded apart", async () => {
    const { send, store } = engineOf("3");
    await send(job(1, 1, "build", "queued"));
    await send(job(1, 2, "e2e", "queued"));
    await send(job(1, 2, "e2e", "completed", "failure"));
    await send(runDone(1, "failure"));
    await send(job(1, 1, "build", "completed", "success"));
    assert.deepEqual(await verdicts(store), ["1:dry-run:e2e=failure"]);
  });
});
