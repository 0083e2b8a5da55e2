// The committed bundle run as GitHub's runner runs it (test/support.ts), against the stand-in
// GitHub: what it re-runs, what it leaves, what it reports, and how it fails.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startFakeGitHub, workflowRunPayload, type FakeGitHub, type FakeListedJob } from "@job-rerunner/testing";
import { copyAction, runStep, type StepRun } from "./support.js";

const TOKEN = "ghs_action_test_token_never_printed";
let gh: FakeGitHub;
let action: { dir: string; remove(): void };
let nextRun = 6_100_000;
let nextJob = 9_100_000;

before(async () => {
  gh = await startFakeGitHub();
  action = copyAction();
});
after(async () => {
  await gh.close();
  action.remove();
});

/** A run step; every run must keep the token out of what it prints and writes, and print no stack trace. */
async function step(payload: unknown, inputs: Record<string, string> = {}, eventName = "workflow_run"): Promise<StepRun> {
  const run = await runStep({ action: action.dir, apiUrl: gh.url, token: TOKEN, eventName, payload, inputs });
  // The token is handed to the runner to mask (a command the runner consumes, never shown), first.
  assert.equal(run.stdout.split("\n")[0], `::add-mask::${TOKEN}`);
  const shown = run.stdout.split("\n").slice(1).join("\n");
  for (const text of [shown, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
    assert.ok(!text.includes(TOKEN), "the token was printed");
    assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, "a stack trace was printed");
  }
  return run;
}

function completed(runId: number, conclusion: string, shape: { attempt?: number; branch?: string; defaultBranch?: string } = {}) {
  return workflowRunPayload({ runId, action: "completed", conclusion, ...shape });
}

type Steps = NonNullable<FakeListedJob["steps"]>;
const TESTS_FAILED: Steps = [
  { name: "Set up job", conclusion: "success" },
  { name: "Run tests", conclusion: "failure" },
  { name: "Complete job", conclusion: "success" },
];

/** A failed attempt's jobs as GitHub lists them: one failed job (returned) and one that passed. */
function failedAttempt(runId: number, name = "build", attempt = 1): number {
  const jobId = ++nextJob;
  gh.attemptJobs(runId, attempt, [
    { id: jobId, name, status: "completed", conclusion: "failure", steps: TESTS_FAILED },
    { id: ++nextJob, name: "lint", status: "completed", conclusion: "success", steps: [] },
  ]);
  return jobId;
}

/** A job log as the runner writes it (timestamped lines), ending in the given lines. */
function runnerLog(...lines: string[]): string {
  return [...["##[group]Run npm test", "##[endgroup]"], ...lines, "##[error]Process completed with exit code 1."]
    .map((l) => `2024-05-01T12:00:00.1234567Z ${l}`)
    .join("\n");
}

function failedJobs(run: StepRun): { name: string; class: string; evidence: string }[] {
  return JSON.parse(run.outputs["failed-jobs"] ?? "null") as { name: string; class: string; evidence: string }[];
}

describe("the action on workflow_run completed", () => {
  it("re-runs a failed attempt once: rerun=true, a notice, the summary names the failed job; the same event again calls nothing", async () => {
    const runId = ++nextRun;
    failedAttempt(runId, "build");
    const first = await step(completed(runId, "failure"));
    assert.equal(first.code, 0, first.stdout);
    assert.equal(first.outputs.rerun, "true");
    assert.match(first.outputs.reason ?? "", new RegExp(`octo-org/octo-repo run ${runId} attempt 1 finished with failed jobs: GitHub accepted the rerun of failed jobs`));
    assert.deepEqual(failedJobs(first), [{ name: "build", class: "not classified", evidence: 'failed in step "Run tests"' }]);
    assert.match(first.stdout, /^::notice::job-rerunner re-ran the failed jobs: /m);
    assert.match(first.summary, /### job-rerunner re-ran the failed jobs/);
    assert.match(first.summary, new RegExp(`\\[run ${runId} attempt 1\\]\\(https://github.com/octo-org/octo-repo/actions/runs/${runId}/attempts/1\\)`));
    assert.match(first.summary, /\| build \| `not classified` \| failed in step "Run tests" \|/);
    assert.equal(gh.rerunCalls(runId), 1);
    const post = gh.calls.find((c) => c.method === "POST" && c.path.endsWith(`/runs/${runId}/rerun-failed-jobs`));
    assert.equal(post?.token, TOKEN);

    const again = await step(completed(runId, "failure"));
    assert.equal(again.code, 0);
    assert.equal(again.outputs.rerun, "false");
    assert.match(again.outputs.reason ?? "", /the run is at attempt 2\); not called again/);
    assert.equal(gh.rerunCalls(runId), 1, "a repeated event made a second rerun call");
  });

  it("an event whose run GitHub has already moved to its next attempt calls nothing", async () => {
    const runId = ++nextRun;
    failedAttempt(runId);
    gh.run(runId).runAttempt = 2;
    gh.run(runId).status = "queued";
    const run = await step(completed(runId, "failure"));
    assert.equal(run.code, 0);
    assert.equal(run.outputs.rerun, "false");
    assert.equal(gh.rerunCalls(runId), 0);
    assert.equal(gh.readCalls(runId), 1);
  });

  it("success, the attempt limit, another branch by default and a dry run call nothing, and say why", async () => {
    const success = ++nextRun;
    const ok = await step(completed(success, "success"));
    assert.equal(ok.outputs.rerun, "false");
    assert.match(ok.outputs.reason ?? "", /concluded success: nothing to re-run/);
    assert.match(ok.summary, /### job-rerunner did not re-run/);
    assert.equal(gh.factCalls().filter((c) => c.path.includes(`/runs/${success}/`)).length, 0, "a success needs no look-up");

    const limit = ++nextRun;
    failedAttempt(limit, "build", 4);
    const limited = await step(completed(limit, "failure", { attempt: 4 }));
    assert.match(limited.outputs.reason ?? "", /run attempt 4 has reached RUN_ATTEMPTS=4/);

    const branch = ++nextRun;
    failedAttempt(branch);
    const other = await step(completed(branch, "failure", { branch: "feature/x", defaultBranch: "main" }));
    assert.match(other.outputs.reason ?? "", /feature\/x/);
    assert.match(other.summary, /\| build \|/);

    const dry = ++nextRun;
    failedAttempt(dry);
    const dryRun = await step(completed(dry, "failure"), { "dry-run": "true" });
    assert.equal(dryRun.outputs.rerun, "false");
    assert.match(dryRun.outputs.reason ?? "", /DRY_RUN, would re-run failed jobs \(GitHub not called\)/);
    assert.match(dryRun.summary, /### job-rerunner would re-run the failed jobs \(dry run\)$/m);
    assert.match(dryRun.stdout, /^::notice::job-rerunner \(dry run\)/m);

    for (const [run, result] of [[success, ok], [limit, limited], [branch, other], [dry, dryRun]] as const) {
      assert.equal(result.code, 0, result.stdout);
      assert.equal(gh.rerunCalls(run), 0, `run ${run} was re-run`);
    }
  });

  it("under rerun-when: transient, a genuine failure is left with its evidence and a transient one is re-run", async () => {
    const genuine = ++nextRun;
    const genuineJob = failedAttempt(genuine, "unit tests");
    gh.log(genuineJob, runnerLog("AssertionError: expected 1 to equal 2"));
    const left = await step(completed(genuine, "failure"), { "rerun-when": "transient" });
    assert.equal(left.code, 0, left.stdout);
    assert.equal(left.outputs.rerun, "false");
    assert.equal(gh.rerunCalls(genuine), 0);
    const [job] = failedJobs(left);
    assert.equal(job?.name, "unit tests");
    assert.equal(job?.class, "not-transient");
    assert.match(left.summary, /\| unit tests \| `not-transient` \| .*AssertionError: expected 1 to equal 2/);
    assert.match(left.outputs.reason ?? "", /not transient.*\(RERUN_WHEN=transient\): not re-run/);

    const transient = ++nextRun;
    const transientJob = failedAttempt(transient, "install");
    gh.log(transientJob, runnerLog("npm ERR! network read ECONNRESET"));
    const rerun = await step(completed(transient, "failure"), { "rerun-when": "transient" });
    assert.equal(rerun.outputs.rerun, "true", rerun.outputs.reason);
    assert.deepEqual(failedJobs(rerun), [{ name: "install", class: "transient:network", evidence: "npm ERR! network read ECONNRESET" }]);
    assert.match(rerun.summary, /\| install \| `transient:network` \| npm ERR! network read ECONNRESET \|/);
    assert.equal(gh.rerunCalls(transient), 1);
  });

  it("a repository file overrides the inputs key by key", async () => {
    const runId = ++nextRun;
    failedAttempt(runId);
    gh.files.set("octo-org", "octo-repo", ".github/job-rerunner.yml", "branches: ['*']\n");
    try {
      const run = await step(completed(runId, "failure", { branch: "feature/y" }));
      assert.equal(run.outputs.rerun, "true", run.outputs.reason);
      assert.equal(gh.rerunCalls(runId), 1);
      const off = ++nextRun;
      failedAttempt(off);
      const ignored = await step(completed(off, "failure", { branch: "feature/y" }), { "repo-config": "false" });
      assert.equal(ignored.code, 0, ignored.stdout);
      assert.equal(ignored.outputs.rerun, "false");
      assert.match(ignored.outputs.reason ?? "", /failed on branch "feature\/y", not the repository's default branch "master"/);
      assert.equal(gh.rerunCalls(off), 0);
      // A blank repo-config (an unset ${{ vars.X }}) is the action's default: the file is read.
      const blank = ++nextRun;
      failedAttempt(blank);
      const read = await step(completed(blank, "failure", { branch: "feature/y" }), { "repo-config": "" });
      assert.equal(read.outputs.rerun, "true", read.outputs.reason);
      // Key by key: the file's branches, the input's run-attempts (1: no rerun at all).
      const limited = ++nextRun;
      failedAttempt(limited);
      const one = await step(completed(limited, "failure", { branch: "feature/y" }), { "run-attempts": "1" });
      assert.equal(one.outputs.rerun, "false");
      assert.match(one.outputs.reason ?? "", /RUN_ATTEMPTS=1/);
      assert.equal(gh.rerunCalls(limited), 0);
    } finally {
      gh.files.set("octo-org", "octo-repo", ".github/job-rerunner.yml", null);
    }
  });
});

describe("the action's failures and notices", () => {
  it("GitHub re-runs but the answer is lost: the step fails saying nothing retries it; run again, it reads the run and calls nothing", async () => {
    const runId = ++nextRun;
    failedAttempt(runId);
    gh.rerun("drop-after-perform");
    let lost: StepRun;
    try {
      lost = await step(completed(runId, "failure"));
    } finally {
      gh.rerun("ok");
    }
    assert.equal(lost.code, 1, lost.stdout);
    assert.equal(lost.outputs.rerun, "false");
    assert.match(lost.outputs.reason ?? "", /the rerun call failed .*; nothing here retries it: run this step again to decide again$/);
    assert.doesNotMatch(lost.outputs.reason ?? "", /stays pending/);
    assert.equal(gh.performed(runId), 1);
    const again = await step(completed(runId, "failure"));
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.outputs.rerun, "false");
    assert.match(again.outputs.reason ?? "", /an earlier call did re-run it \(the run is at attempt 2\); not called again/);
    assert.equal(gh.rerunCalls(runId), 1, "the second step made no rerun call");
    assert.equal(gh.performed(runId), 1);
  });

  it("a 403 for a missing permission fails the step naming actions: write", async () => {
    const runId = ++nextRun;
    failedAttempt(runId);
    gh.rerun("forbidden");
    try {
      const run = await step(completed(runId, "failure"));
      assert.equal(run.code, 1);
      assert.match(run.stdout, /^::error::GitHub refused to re-run the failed jobs of octo-org\/octo-repo run \d+ attempt 1: the token lacks the actions: write permission .*permissions: actions: write/m);
      assert.equal(run.outputs.rerun, "false");
      assert.match(run.summary, /### job-rerunner could not re-run/);
    } finally {
      gh.rerun("ok");
    }
  });

  it("run-attempts: abc fails the step naming the input and what it expects, before any call", async () => {
    const before = gh.calls.length;
    const run = await step(completed(++nextRun, "failure"), { "run-attempts": "abc" });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^::error::Input "run-attempts" must be a whole number from 1 to 51, got "abc"$/m);
    assert.equal(gh.calls.length, before);
    const policy = await step(completed(++nextRun, "failure"), { "rerun-when": "sometimes" });
    assert.match(policy.stdout, /^::error::Input "rerun-when" must be "failure" or "transient", got "sometimes"$/m);
  });

  it("another event exits with a notice; workflow_dispatch decides the run named by run-id", async () => {
    const push = await step({ ref: "refs/heads/main" }, {}, "push");
    assert.equal(push.code, 0);
    assert.match(push.stdout, /^::notice::job-rerunner: event "push" is not one job-rerunner decides on/m);
    assert.equal(push.outputs.rerun, "false");

    const runId = ++nextRun;
    failedAttempt(runId);
    const dispatch = { inputs: { "run-id": String(runId) }, ref: "refs/heads/master", repository: completed(runId, "failure").repository, sender: { login: "octocat" } };
    const manual = await step(dispatch, { "run-id": String(runId) }, "workflow_dispatch");
    assert.equal(manual.code, 0, manual.stdout);
    assert.equal(manual.outputs.rerun, "true", manual.outputs.reason);
    assert.equal(gh.rerunCalls(runId), 1);
    const noId = await step(dispatch, {}, "workflow_dispatch");
    assert.match(noId.stdout, /^::notice::job-rerunner: workflow_dispatch without the run-id input/m);
  });
});
