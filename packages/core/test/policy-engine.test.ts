import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, MemoryStore, recordKey, type Rerunner, type RunEvent } from "@job-rerunner/core";
import {
  LOG_FLOOD_BYTES,
  signedDelivery,
  startFakeGitHub,
  workflowJobPayload,
  workflowRunPayload,
  type FakeGitHub,
} from "@job-rerunner/testing";

const SECRET = "policy-engine-secret";
const REPO_ID = 186853002;
let nextRun = 91_000;
let nextJob = 7_000_000;

type Steps = { name: string; conclusion: string | null }[];

const TESTS_FAILED: Steps = [
  { name: "Set up job", conclusion: "success" },
  { name: "Run actions/checkout@v4", conclusion: "success" },
  { name: "Run tests", conclusion: "failure" },
  { name: "Complete job", conclusion: "success" },
];
const INSTALL_FAILED: Steps = [
  { name: "Set up job", conclusion: "success" },
  { name: "Run npm ci", conclusion: "failure" },
];

/** A job log as the runner writes it (timestamped lines), ending in the given lines. */
function runnerLog(...lines: string[]): string {
  const head = ["##[group]Run npm ci", "npm ci", "##[endgroup]"];
  return [...head, ...lines, "##[error]Process completed with exit code 1."].map((l) => `2024-05-01T12:00:00.1234567Z ${l}`).join("\n") + "\n";
}

describe("rerun policy: the engine over HTTP against the stand-in GitHub", () => {
  let gh: FakeGitHub;
  let store: MemoryStore;

  before(async () => {
    gh = await startFakeGitHub();
  });
  after(async () => {
    await gh.close();
  });
  beforeEach(() => {
    gh.calls.length = 0;
    gh.logCalls.length = 0;
    gh.rerun("ok");
    store = new MemoryStore();
  });

  function rerunner(env: Record<string, string> = {}): Rerunner {
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_policy", GITHUB_API_URL: gh.url, ...env });
    return createRerunner({ config, store, logger: () => {} });
  }

  function job(runId: number, jobId: number, action: "queued" | "completed", conclusion?: string, steps?: Steps, name?: string) {
    return signedDelivery(
      SECRET,
      "workflow_job",
      workflowJobPayload({ runId, jobId, action, conclusion: conclusion ?? null, ...(steps ? { steps } : {}), ...(name ? { jobName: name } : {}) }),
    );
  }
  function runCompleted(runId: number, conclusion = "failure") {
    return signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion }));
  }

  /** One job queued, so its completion is the attempt's last event. */
  async function oneJobRun(r: Rerunner): Promise<{ runId: number; jobId: number }> {
    const runId = nextRun++;
    const jobId = nextJob++;
    assert.equal((await r.handle(job(runId, jobId, "queued"))).status, 202);
    return { runId, jobId };
  }

  it("the decision history keeps each classified failure's evidence (the status page's evidence column reads it)", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const transient = await oneJobRun(r);
    gh.log(transient.jobId, runnerLog("npm ERR! network read ECONNRESET"));
    assert.equal((await r.handle(job(transient.runId, transient.jobId, "completed", "failure", INSTALL_FAILED, "install"))).status, 201);
    const genuine = await oneJobRun(r);
    gh.log(genuine.jobId, runnerLog("AssertionError: expected 1 to equal 2"));
    assert.equal((await r.handle(job(genuine.runId, genuine.jobId, "completed", "failure", TESTS_FAILED, "unit"))).status, 200);
    const history = await store.listHistory(0, 100);
    const jobOf = (runId: number) => history.find((e) => e.runId === runId)?.jobs[0];
    assert.deepEqual(jobOf(transient.runId), { name: "install", conclusion: "failure", evidence: "npm ERR! network read ECONNRESET" });
    assert.deepEqual(jobOf(genuine.runId), { name: "unit", conclusion: "failure", evidence: "AssertionError: expected 1 to equal 2" });
  });

  it("RERUN_WHEN=failure with no patterns: re-runs as before and makes no annotation, log or listing request", async () => {
    const r = rerunner();
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, runnerLog("AssertionError: expected 1 to equal 2"));
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED));
    assert.equal(answer.status, 201, answer.body.reason);
    assert.equal((await r.handle(runCompleted(runId))).status, 200);
    // The sweep's path too: a workflow_run completed for a run with no record.
    assert.equal((await r.handle(runCompleted(nextRun++))).status, 201);
    assert.deepEqual(gh.factCalls(), []);
    assert.deepEqual(gh.logCalls, []);
  });

  it("transient: a lost runner re-runs exactly once, the reason names the job, class and evidence", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, runnerLog("##[error]The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled."));
    const last = job(runId, jobId, "completed", "failure", INSTALL_FAILED, "e2e");
    const answer = await r.handle(last);
    assert.equal(answer.status, 201, answer.body.reason);
    assert.equal(answer.body.action, "rerun-failed-jobs");
    assert.match(answer.body.reason, /job "e2e" lost its runner \("The runner has received a shutdown signal\. This can happen/);
    assert.match(answer.body.reason, /: transient: GitHub accepted the rerun of failed jobs$/);
    assert.equal(gh.rerunCalls(runId), 1);
    // Exactly the two look-ups for the failed job, then the download on the other host: a suffix
    // range of LOG_TAIL_BYTES and no token sent there.
    assert.deepEqual(
      gh.factCalls().map((c) => c.path),
      [`/repos/octo-org/octo-repo/check-runs/${jobId}/annotations`, `/repos/octo-org/octo-repo/actions/jobs/${jobId}/logs`],
    );
    assert.equal(gh.logCalls.length, 1);
    assert.equal(gh.logCalls[0]!.headers.range, "bytes=-65536");
    assert.equal(gh.logCalls[0]!.headers.authorization, undefined);
    const record = (await store.get(recordKey(REPO_ID, runId)))!.record;
    assert.equal(record.jobs[String(jobId)]?.verdict?.class, "transient:runner-lost");
    // A redelivery repeats the first answer, its action too, and reads nothing again.
    const again = await r.handle(last);
    assert.equal(again.status, 201);
    assert.equal(again.body.action, "rerun-failed-jobs");
    assert.equal(again.body.reason, answer.body.reason);
    assert.equal(gh.factCalls().length, 2);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("transient: a genuine failure is not re-run: 200 naming the job, the step and the mode; later events agree", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, runnerLog("FAIL src/app.test.ts", "AssertionError: expected 200, got 500"));
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED, "build (ubuntu)"));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.equal(answer.body.action, "none");
    // The decisive line is the evidence, with the family it belongs to.
    assert.match(answer.body.reason, /job "build \(ubuntu\)" failed a test \("AssertionError: expected 200, got 500"\): not transient \(RERUN_WHEN=transient\): not re-run$/);
    const later = await r.handle(runCompleted(runId));
    assert.equal(later.status, 200);
    assert.match(later.body.reason, /failed a test.*not re-run$/);
    assert.equal(gh.rerunCalls(runId), 0);
    assert.equal(gh.factCalls().length, 2, "a job with a definite class is not read again");
  });

  it("NO_RERUN_PATTERNS vetoes under the default RERUN_WHEN=failure (the patterns make the look-ups)", async () => {
    const r = rerunner({ NO_RERUN_PATTERNS: '["AssertionError"]' });
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, runnerLog("AssertionError: expected 200, got 500"));
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED, "unit"));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.match(answer.body.reason, /job "unit" matched NO_RERUN_PATTERNS \("AssertionError: expected 200, got 500"\): not transient: not re-run/);
    assert.equal(gh.rerunCalls(runId), 0);
  });

  it("NO_RERUN_STEPS needs no request: the failed step comes from the payload", async () => {
    const r = rerunner({ NO_RERUN_STEPS: "Run tests,Lint*" });
    const { runId, jobId } = await oneJobRun(r);
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED, "unit"));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.match(answer.body.reason, /job "unit" failed in step "Run tests" \(NO_RERUN_STEPS\): not transient/);
    assert.deepEqual(gh.factCalls(), []);
  });

  it("logs not ready (404) when the job completes: unknown, read again when the attempt's last job completes", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const runId = nextRun++;
    const failing = nextJob++;
    const other = nextJob++;
    await r.handle(job(runId, failing, "queued"));
    await r.handle(job(runId, other, "queued"));
    gh.log(failing, runnerLog("npm ERR! code ECONNRESET", "npm ERR! network aborted"), "not-ready", "ok");
    const first = await r.handle(job(runId, failing, "completed", "failure", INSTALL_FAILED));
    assert.equal(first.status, 202, first.body.reason);
    const stored = (await store.get(recordKey(REPO_ID, runId)))!.record.jobs[String(failing)];
    assert.equal(stored?.verdict?.class, "unknown");
    assert.match(stored?.verdict?.evidence ?? "", /log could not be read \(GitHub answered 404/);
    const last = await r.handle(job(runId, other, "completed", "success"));
    assert.equal(last.status, 201, last.body.reason);
    // The line nearest the step's end decides.
    assert.match(last.body.reason, /hit a network failure \("npm ERR! network aborted"\): transient/);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("logs still not ready at the last job: RERUN_UNKNOWN=false waits; the workflow_run completed reads again and re-runs", async () => {
    const r = rerunner({ RERUN_WHEN: "transient", RERUN_UNKNOWN: "false" });
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, runnerLog("fatal: early EOF"), "not-ready", "ok");
    const first = await r.handle(job(runId, jobId, "completed", "failure", INSTALL_FAILED, "deps"));
    assert.equal(first.status, 200, first.body.reason);
    assert.match(first.body.reason, /job "deps": unknown \(log could not be read.*\(RERUN_UNKNOWN=false\): not re-run/);
    const done = await r.handle(runCompleted(runId));
    assert.equal(done.status, 201, done.body.reason);
    assert.match(done.body.reason, /"fatal: early EOF"/);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("annotations endpoint failing: the job is unknown, and RERUN_UNKNOWN decides", async () => {
    for (const [rerunUnknown, status] of [["true", 201], ["false", 200]] as const) {
      const r = rerunner({ RERUN_WHEN: "transient", RERUN_UNKNOWN: rerunUnknown });
      const { runId, jobId } = await oneJobRun(r);
      gh.annotations(jobId, "fail");
      gh.log(jobId, runnerLog("Some output with no known signature"));
      const answer = await r.handle(job(runId, jobId, "completed", "failure", INSTALL_FAILED, "flaky"));
      assert.equal(answer.status, status, answer.body.reason);
      assert.match(answer.body.reason, /job "flaky": unknown \(annotations could not be read \(GitHub answered 500/);
      const record = (await store.get(recordKey(REPO_ID, runId)))!.record;
      assert.equal(record.jobs[String(jobId)]?.verdict?.class, "unknown");
    }
  });

  it("an annotation alone can decide: a job never picked up", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const { runId, jobId } = await oneJobRun(r);
    gh.annotations(jobId, [{ message: "The job was not acquired by Runner of type hosted even after multiple attempts", title: "" }]);
    gh.log(jobId, "", "not-ready");
    const answer = await r.handle(job(runId, jobId, "completed", "failure", [], "matrix (3)"));
    assert.equal(answer.status, 201, answer.body.reason);
    assert.match(answer.body.reason, /job "matrix \(3\)" was never picked up by a runner/);
  });

  it("a download host that ignores the byte range and streams 50 MB: the read stops at the limit", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, "unused", "ignore-range");
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.match(answer.body.reason, /no transient signature/);
    // Socket buffers let the server write a little past what was read, never the whole file.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sent = gh.logBytesSent(jobId);
    assert.ok(sent >= 65_536, `sent ${sent}`);
    assert.ok(sent < LOG_FLOOD_BYTES / 5, `the download host wrote ${sent} bytes: the read did not stop at the limit`);
    if (process.env.POLICY_DEBUG) console.log("bytes written by the flooding host:", sent);
  });

  it("a download host that never answers: the look-ups give up within the deadline, the job is unknown, and the rerun still fits", async () => {
    const r = rerunner({ RERUN_WHEN: "transient", DEADLINE_MS: "1500" });
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, "x", "hang");
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED, "slow"));
    assert.equal(answer.status, 201, answer.body.reason);
    assert.match(answer.body.reason, /job "slow": unknown \(log could not be read \(no answer before the deadline\)\)/);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("a download host that answers 500: unknown", async () => {
    const r = rerunner({ RERUN_WHEN: "transient", RERUN_UNKNOWN: "false" });
    const { runId, jobId } = await oneJobRun(r);
    gh.log(jobId, "x", "fail");
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED, "j"));
    assert.equal(answer.status, 200);
    assert.match(answer.body.reason, /job "j": unknown \(log could not be read \(the log download answered 500\)\)/);
  });

  it("a long log is read by its tail: the range asks for LOG_TAIL_BYTES; a transient line before the tail does not count", async () => {
    const r = rerunner({ RERUN_WHEN: "transient", LOG_TAIL_BYTES: "2048" });
    const { runId, jobId } = await oneJobRun(r);
    const early = runnerLog("npm ERR! code ECONNRESET");
    gh.log(jobId, early + runnerLog(...Array.from({ length: 200 }, (_, i) => `test ${i} ok`), "AssertionError: boom"));
    const answer = await r.handle(job(runId, jobId, "completed", "failure", TESTS_FAILED));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.equal(gh.logCalls[0]!.headers.range, "bytes=-2048");
  });

  it("a download host that ignores the suffix range but gives the length: one more request asks for the tail by offsets", async () => {
    const r = rerunner({ RERUN_WHEN: "transient", LOG_TAIL_BYTES: "2048" });
    const { runId, jobId } = await oneJobRun(r);
    const text = runnerLog(...Array.from({ length: 300 }, (_, i) => `step output line ${i}`), "error: RPC failed; curl 92 HTTP/2 stream 5 was not closed cleanly: CANCEL (err 8)");
    gh.log(jobId, text, "offsets-only");
    const answer = await r.handle(job(runId, jobId, "completed", "failure", INSTALL_FAILED));
    assert.equal(answer.status, 201, answer.body.reason);
    assert.match(answer.body.reason, /hit a network failure \("error: RPC failed; curl 92/);
    const size = Buffer.byteLength(text);
    assert.deepEqual(gh.logCalls.map((c) => c.headers.range), ["bytes=-2048", `bytes=${size - 2048}-${size - 1}`]);
    assert.ok(gh.logBytesSent(jobId) < size + 2048 + 1);
  });

  it("an attempt whose job webhooks were lost: workflow_run completed lists the attempt's jobs and classifies the failed ones", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const runId = nextRun++;
    const setupFailed = nextJob++;
    gh.attemptJobs(runId, 1, [
      { id: nextJob++, name: "lint", status: "completed", conclusion: "success", steps: [{ name: "Set up job", conclusion: "success" }] },
      { id: setupFailed, name: "e2e", status: "completed", conclusion: "failure", steps: [{ name: "Set up job", conclusion: "failure" }] },
    ]);
    gh.log(setupFailed, runnerLog("Download action repository 'actions/checkout@v4'", "##[error]An action could not be found at the URI"));
    const answer = await r.handle(runCompleted(runId));
    assert.equal(answer.status, 201, answer.body.reason);
    assert.match(answer.body.reason, /job "e2e" failed while its runner set up the job \(step "Set up job"\): transient/);
    assert.equal(gh.factCalls().filter((c) => c.path.endsWith(`/attempts/1/jobs`)).length, 1);
    const record = (await store.get(recordKey(REPO_ID, runId)))!.record;
    assert.equal(record.jobs[String(setupFailed)]?.verdict?.class, "transient:setup-job");
  });

  it("the sweep's path: handleEvent with a workflow_run completed event classifies listed jobs; a genuine failure is not re-run", async () => {
    const r = rerunner({ RERUN_WHEN: "transient" });
    const runId = nextRun++;
    const failed = nextJob++;
    gh.attemptJobs(runId, 1, [{ id: failed, name: "test", status: "completed", conclusion: "failure", steps: TESTS_FAILED }]);
    gh.log(failed, runnerLog("AssertionError: nope"));
    const event: RunEvent = {
      kind: "workflow_run",
      deliveryId: `sweep-${runId}-1`,
      receivedAt: Date.now(),
      handlerId: `sweep-handler-${runId}`,
      repo: { id: REPO_ID, owner: "octo-org", name: "octo-repo" },
      runId,
      attempt: 1,
      headBranch: "master",
      defaultBranch: "master",
      workflowName: "CI",
      sender: "octocat",
      status: "completed",
      conclusion: "failure",
    };
    const answer = await r.handleEvent(event);
    assert.equal(answer.status, 200, answer.body.reason);
    assert.match(answer.body.reason, /job "test" failed a test \("AssertionError: nope"\): not transient/);
    assert.equal(gh.rerunCalls(runId), 0);
  });

  it("the attempt's job listing failing: the failed jobs are not known, RERUN_UNKNOWN decides", async () => {
    const r = rerunner({ RERUN_WHEN: "transient", RERUN_UNKNOWN: "false" });
    const runId = nextRun++;
    gh.attemptJobs(runId, 1, "fail");
    const answer = await r.handle(runCompleted(runId));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.match(answer.body.reason, /its failed jobs are not known: unknown \(RERUN_UNKNOWN=false\)/);
  });

  it("MAX_FAILED_JOBS: a widespread failure is not re-run, with no look-up under RERUN_WHEN=failure", async () => {
    const r = rerunner({ MAX_FAILED_JOBS: "2" });
    const runId = nextRun++;
    const jobs = [nextJob++, nextJob++, nextJob++];
    for (const j of jobs) await r.handle(job(runId, j, "queued"));
    for (const j of jobs) await r.handle(job(runId, j, "completed", "failure"));
    const answer = await r.handle(runCompleted(runId));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.match(answer.body.reason, /3 jobs failed, more than MAX_FAILED_JOBS=2/);
    assert.equal(gh.rerunCalls(runId), 0);
    assert.deepEqual(gh.factCalls(), []);
  });

  it("MAX_FAILED_JOBS when the job webhooks were lost (the sweep's path): the attempt's jobs are listed once, no log is read", async () => {
    const r = rerunner({ MAX_FAILED_JOBS: "1" });
    const runId = nextRun++;
    gh.attemptJobs(runId, 1, [
      { id: nextJob++, name: "a", status: "completed", conclusion: "failure", steps: TESTS_FAILED },
      { id: nextJob++, name: "b", status: "completed", conclusion: "failure", steps: TESTS_FAILED },
    ]);
    const answer = await r.handle(runCompleted(runId));
    assert.equal(answer.status, 200, answer.body.reason);
    assert.match(answer.body.reason, /2 jobs failed, more than MAX_FAILED_JOBS=1/);
    assert.equal(gh.rerunCalls(runId), 0);
    const calls = gh.factCalls().filter((c) => c.path.includes(`/runs/${runId}/`));
    assert.deepEqual(calls.map((c) => c.path.endsWith("/attempts/1/jobs")), [true], "one listing, no annotation or log");
  });

  it("422 and 404 from the rerun call are refusals for good: never POSTed again, later events answer 200", async () => {
    for (const behaviour of ["unprocessable", "not-found"] as const) {
      gh.rerun(behaviour);
      const r = rerunner();
      const { runId, jobId } = await oneJobRun(r);
      const first = await r.handle(job(runId, jobId, "completed", "failure"));
      assert.equal(first.status, 502, first.body.reason);
      assert.match(first.body.reason, /refused the rerun for good/);
      assert.equal((await store.get(recordKey(REPO_ID, runId)))!.record.rerun.state, "refused");
      gh.rerun("ok");
      const later = await r.handle(runCompleted(runId));
      assert.equal(later.status, 200, later.body.reason);
      assert.match(later.body.reason, /refused the rerun for good/);
      assert.equal(gh.rerunCalls(runId), 1);
    }
  });
});
