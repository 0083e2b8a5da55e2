// The server started for real, as `npm start` does (a child process running bin.ts with only
// environment variables), deliveries signed and sent over HTTP, and a local HTTP server standing
// in for the GitHub API. One test per row of DESIGN.md's status table, and the failure cases.
import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  signedDelivery,
  signBody,
  startFakeGitHub,
  webhookExamples,
  workflowJobPayload,
  workflowRunPayload,
  type FakeGitHub,
  type RunShape,
} from "@job-rerunner/testing";
import { deliver, startBin, waitFor, type RunningBin } from "./support.js";

const SECRET = "e2e-webhook-secret";
const TOKEN = "ghp_e2e_token_never_logged";
let nextRun = 71_000;

type JobAction = "queued" | "in_progress" | "completed";

function job(runId: number, jobId: number, action: JobAction, conclusion?: string, shape: Partial<RunShape> = {}, deliveryId?: string) {
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...shape, runId, jobId, action, conclusion: conclusion ?? null }), deliveryId);
}

function runEvent(runId: number, action: "requested" | "in_progress" | "completed", conclusion?: string, shape: Partial<RunShape> = {}) {
  return signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...shape, runId, action, conclusion: conclusion ?? null }));
}

describe("server e2e: the status table over real HTTP (default SQLite store under ./data)", () => {
  let gh: FakeGitHub;
  let server: RunningBin;
  let cwd: string;

  before(async () => {
    gh = await startFakeGitHub();
    cwd = mkdtempSync(join(tmpdir(), "job-rerunner-e2e-"));
    server = await startBin(
      {
        GITHUB_SIGN_KEY: SECRET,
        GITHUB_TOKEN: TOKEN,
        GITHUB_API_URL: gh.url,
        RUN_ATTEMPTS: "3",
        NO_RETRY_LIST: "Renovate-Bot",
        RERUN_WORKFLOWS: "CI",
        REPO_BRANCHES: "master,release/*",
        DEADLINE_MS: "2000",
      },
      cwd,
    );
  });
  after(async () => {
    await server?.stop();
    await gh?.close();
    rmSync(cwd, { recursive: true, force: true });
  });
  beforeEach(() => gh.rerun("ok"));

  /** Two jobs queued, the first one completed successfully: the next completion ends the attempt. */
  async function twoJobRun(shape: Partial<RunShape> = {}): Promise<number> {
    const runId = nextRun++;
    assert.equal((await deliver(server.url, job(runId, 1, "queued", undefined, shape))).status, 202);
    assert.equal((await deliver(server.url, job(runId, 2, "queued", undefined, shape))).status, 202);
    const first = await deliver(server.url, job(runId, 1, "completed", "success", shape));
    assert.equal(first.status, 202, first.body.reason);
    return runId;
  }

  it("creates the SQLite file under ./data on first start and reports the store in the listening line", async () => {
    assert.ok(existsSync(join(cwd, "data", "job-rerunner.sqlite")));
    await waitFor(() => server.logs().some((l) => l.msg === "listening"), "the listening line");
    const listening = server.logs().find((l) => l.msg === "listening");
    assert.match(String(listening?.store), /^sqlite:.*data[/\\]job-rerunner\.sqlite$/);
  });

  it("GET / answers a health text", async () => {
    const response = await fetch(server.url);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /job-rerunner is running/);
  });

  it("403 when X-Hub-Signature-256 is missing", async () => {
    const delivery = job(nextRun++, 1, "queued");
    const { "x-hub-signature-256": _dropped, ...headers } = delivery.headers;
    const answer = await deliver(server.url, { headers, rawBody: delivery.rawBody });
    assert.equal(answer.status, 403);
    assert.match(answer.body.reason, /missing/);
  });

  it("403 for a wrong secret and for a body changed after signing", async () => {
    const other = signedDelivery("not-the-secret", "workflow_job", workflowJobPayload({ runId: nextRun++, jobId: 1, action: "queued" }));
    const wrong = await deliver(server.url, other);
    assert.equal(wrong.status, 403);
    assert.match(wrong.body.reason, /does not match/);
    const good = job(nextRun++, 1, "queued");
    const tampered = await deliver(server.url, { headers: good.headers, rawBody: good.rawBody.replace('"queued"', '"completed"') });
    assert.equal(tampered.status, 403);
    // The only call is the credential check at start (GET /rate_limit), never one for these deliveries.
    assert.equal(gh.calls.filter((c) => c.path !== "/rate_limit").length, 0);
  });

  it("400 for a correctly signed body that is not JSON", async () => {
    const rawBody = "payload=%7B%22action%22%3A%22queued%22%7D";
    const answer = await deliver(server.url, {
      headers: { "content-type": "application/x-www-form-urlencoded", "x-github-event": "workflow_job", "x-github-delivery": "malformed-1", "x-hub-signature-256": signBody(SECRET, rawBody) },
      rawBody,
    });
    assert.equal(answer.status, 400);
    assert.match(answer.body.reason, /not valid JSON/);
    assert.equal(answer.body.delivery, "malformed-1");
  });

  it("204 for GitHub's ping and for an event that is not tracked", async () => {
    const ping = webhookExamples("ping")[0];
    assert.ok(ping);
    const pinged = await deliver(server.url, signedDelivery(SECRET, "ping", ping));
    assert.equal(pinged.status, 204);
    assert.match(pinged.body.reason, /ping/);
    const push = webhookExamples("push")[0];
    assert.ok(push);
    assert.equal((await deliver(server.url, signedDelivery(SECRET, "push", push))).status, 204);
  });

  it("204 for a sender in NO_RETRY_LIST (case-insensitive), an attempt at RUN_ATTEMPTS, a workflow not in RERUN_WORKFLOWS", async () => {
    const bot = await deliver(server.url, job(nextRun++, 1, "completed", "failure", { sender: "renovate-bot" }));
    assert.equal(bot.status, 204);
    assert.match(bot.body.reason, /NO_RETRY_LIST/);
    const last = await deliver(server.url, job(nextRun++, 1, "completed", "failure", { attempt: 3 }));
    assert.equal(last.status, 204);
    assert.match(last.body.reason, /RUN_ATTEMPTS=3/);
    const workflow = await deliver(server.url, job(nextRun++, 1, "completed", "failure", { workflow: "Nightly" }));
    assert.equal(workflow.status, 204);
    assert.match(workflow.body.reason, /RERUN_WORKFLOWS/);
    assert.equal(gh.calls.filter((c) => c.path !== "/rate_limit").length, 0);
  });

  it("202 while jobs run, 201 when the last job fails (one POST with the token), 200 for the run's completion afterwards", async () => {
    const runId = await twoJobRun();
    const postsBefore = gh.rerunCalls();
    const failed = await deliver(server.url, job(runId, 2, "completed", "failure"));
    assert.equal(failed.status, 201, failed.body.reason);
    assert.equal(failed.body.action, "rerun-failed-jobs");
    assert.equal(failed.body.run, `octo-org/octo-repo#${runId}`);
    assert.equal(gh.rerunCalls(runId), 1);
    assert.equal(gh.rerunCalls(), postsBefore + 1);
    assert.equal(gh.performed(runId), 1);
    const post = gh.calls.find((c) => c.method === "POST" && c.path.includes(`/runs/${runId}/`));
    assert.equal(post?.path, `/repos/octo-org/octo-repo/actions/runs/${runId}/rerun-failed-jobs`);
    assert.equal(post?.headers.authorization, `Bearer ${TOKEN}`);

    const completed = await deliver(server.url, runEvent(runId, "completed", "failure"));
    assert.equal(completed.status, 200);
    assert.match(completed.body.reason, /already re-run/);
    assert.equal(gh.rerunCalls(runId), 1);
    // The token never shows up in the logs.
    assert.ok(!server.stdout.join("\n").includes(TOKEN));
  });

  it("a repeated delivery gets its first answer again and never a second POST", async () => {
    const runId = await twoJobRun();
    const last = job(runId, 2, "completed", "failure");
    const first = await deliver(server.url, last);
    assert.equal(first.status, 201);
    const again = await deliver(server.url, last);
    assert.equal(again.status, 201);
    assert.equal(again.body.reason, first.body.reason);
    const queuedAgain = await deliver(server.url, job(runId, 1, "queued"));
    assert.equal(queuedAgain.status, 202);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("200 when every job succeeded, and when the failing branch is not in REPO_BRANCHES", async () => {
    const green = await twoJobRun();
    const ok = await deliver(server.url, job(green, 2, "completed", "success"));
    assert.equal(ok.status, 200);
    assert.match(ok.body.reason, /nothing to re-run/);
    const feature = await twoJobRun({ branch: "feature/x" });
    const notSelected = await deliver(server.url, job(feature, 2, "completed", "failure", { branch: "feature/x" }));
    assert.equal(notSelected.status, 200);
    assert.match(notSelected.body.reason, /REPO_BRANCHES/);
    const release = await twoJobRun({ branch: "release/1.2" });
    assert.equal((await deliver(server.url, job(release, 2, "completed", "failure", { branch: "release/1.2" }))).status, 201);
    assert.equal(gh.rerunCalls(green) + gh.rerunCalls(feature), 0);
  });

  it("200 for an event of an older attempt than the tracked one", async () => {
    const runId = nextRun++;
    assert.equal((await deliver(server.url, job(runId, 11, "queued", undefined, { attempt: 2 }))).status, 202);
    const stale = await deliver(server.url, job(runId, 1, "completed", "failure", { attempt: 1 }));
    assert.equal(stale.status, 200);
    assert.match(stale.body.reason, /older than the tracked attempt 2/);
    assert.equal(gh.rerunCalls(runId), 0);
  });

  it("404 for a completed job of a run with no earlier record (recorded all the same)", async () => {
    const runId = nextRun++;
    const unknown = await deliver(server.url, job(runId, 1, "completed", "success"));
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.reason, /no earlier record/);
    // Recorded: the run completing now is known and answered 200, not 404.
    const done = await deliver(server.url, runEvent(runId, "completed", "success"));
    assert.equal(done.status, 200);
  });

  it("events out of order: a late queued/in_progress never re-opens a completed job, the rerun happens once", async () => {
    const runId = nextRun++;
    assert.equal((await deliver(server.url, job(runId, 1, "queued"))).status, 202);
    assert.equal((await deliver(server.url, job(runId, 2, "queued"))).status, 202);
    assert.equal((await deliver(server.url, job(runId, 2, "completed", "failure"))).status, 202);
    assert.equal((await deliver(server.url, job(runId, 2, "in_progress"))).status, 202);
    assert.equal((await deliver(server.url, job(runId, 2, "queued"))).status, 202);
    const lastJob = await deliver(server.url, job(runId, 1, "completed", "success"));
    assert.equal(lastJob.status, 201, lastJob.body.reason);
    // A late in_progress of a job already completed changes nothing (DESIGN: 202, nothing moves back).
    assert.equal((await deliver(server.url, job(runId, 1, "in_progress"))).status, 202);
    assert.equal((await deliver(server.url, runEvent(runId, "completed", "failure"))).status, 200);
    assert.equal(gh.rerunCalls(runId), 1);
  });

  it("502 when GitHub answers 500; a redelivery drives the pending rerun and gets 201", async () => {
    const runId = await twoJobRun();
    gh.rerun("server-error", "ok");
    const last = job(runId, 2, "completed", "failure");
    const failed = await deliver(server.url, last);
    assert.equal(failed.status, 502);
    assert.match(failed.body.reason, /stays pending/);
    assert.equal(gh.performed(runId), 0);
    const redelivered = await deliver(server.url, last);
    assert.equal(redelivered.status, 201, redelivered.body.reason);
    assert.equal(gh.rerunCalls(runId), 2);
    assert.equal(gh.performed(runId), 1);
  });

  it("403 'already running' keeps the rerun pending (202); the run's completion drives it (201)", async () => {
    const runId = await twoJobRun();
    gh.rerun("already-running", "ok");
    const early = await deliver(server.url, job(runId, 2, "completed", "failure"));
    assert.equal(early.status, 202, early.body.reason);
    assert.match(early.body.reason, /not completed yet/);
    const completed = await deliver(server.url, runEvent(runId, "completed", "failure"));
    assert.equal(completed.status, 201, completed.body.reason);
    assert.equal(gh.performed(runId), 1);
  });

  it("403 for a missing permission answers 502 and names the token scopes", async () => {
    const runId = await twoJobRun();
    gh.rerun("forbidden");
    const refused = await deliver(server.url, job(runId, 2, "completed", "failure"));
    assert.equal(refused.status, 502);
    assert.match(refused.body.reason, /workflow scopes/);
    assert.equal(gh.performed(runId), 0);
  });

  it("GitHub performs the rerun and drops the connection: 502, and the redelivery reads the run instead of POSTing again", async () => {
    const runId = await twoJobRun();
    gh.rerun("drop-after-perform", "ok");
    const last = job(runId, 2, "completed", "failure");
    const dropped = await deliver(server.url, last);
    assert.equal(dropped.status, 502, dropped.body.reason);
    assert.equal(gh.performed(runId), 1);
    const redelivered = await deliver(server.url, last);
    assert.equal(redelivered.status, 201, redelivered.body.reason);
    assert.match(redelivered.body.reason, /not called again/);
    assert.equal(gh.rerunCalls(runId), 1, "the rerun was POSTed a second time");
    assert.equal(gh.performed(runId), 1);
    assert.ok(gh.calls.some((c) => c.method === "GET" && c.path.endsWith(`/actions/runs/${runId}`)));
  });

  it("GitHub never answers: 502 within the deadline, and a later redelivery completes the rerun", async () => {
    const runId = await twoJobRun();
    gh.rerun("hang", "ok");
    const last = job(runId, 2, "completed", "failure");
    const hung = await deliver(server.url, last);
    assert.equal(hung.status, 502);
    assert.match(hung.body.reason, /deadline/);
    const redelivered = await deliver(server.url, last);
    assert.equal(redelivered.status, 201, redelivered.body.reason);
    assert.equal(gh.performed(runId), 1);
  });

  it("503 when the store cannot be written (another process holds the SQLite write lock); the redelivery succeeds", async () => {
    const locker = new Database(join(cwd, "data", "job-rerunner.sqlite"));
    const delivery = job(nextRun++, 1, "queued");
    try {
      locker.exec("BEGIN IMMEDIATE");
      const blocked = await deliver(server.url, delivery);
      assert.equal(blocked.status, 503, blocked.body.reason);
      assert.match(blocked.body.reason, /redeliver/);
    } finally {
      if (locker.inTransaction) locker.exec("ROLLBACK");
      locker.close();
    }
    assert.equal((await deliver(server.url, delivery)).status, 202);
  });

  it("413 for a body over 25 MB; a body just under it is still read and verified", async () => {
    const limit = 25 * 1024 * 1024;
    const ping = JSON.stringify(webhookExamples("ping")[0]);
    const under = ping + " ".repeat(limit - Buffer.byteLength(ping));
    const accepted = await deliver(server.url, {
      headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "big-ok", "x-hub-signature-256": signBody(SECRET, under) },
      rawBody: under,
    });
    assert.equal(accepted.status, 204, accepted.body.reason);
    const over = under + " ";
    const refused = await deliver(server.url, {
      headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "big-no", "x-hub-signature-256": signBody(SECRET, over) },
      rawBody: over,
    }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (refused instanceof Error) {
      // The server answers from the declared length and closes the connection without reading
      // the rest; a client still uploading may meet the close before it reads the 413.
      const code = (refused.cause as { code?: unknown } | undefined)?.code;
      assert.ok(code === "EPIPE" || code === "ECONNRESET", `${refused.message}: ${String(code)}`);
    } else {
      assert.equal(refused.status, 413);
      assert.match(refused.body.reason, /26214400-byte limit/);
    }
    await waitFor(
      () => server.logs().some((l) => l.delivery === "big-no" && l.status === 413 && /26214400-byte limit/.test(String(l.reason))),
      "the 413's log line",
    );
    // Still serving afterwards.
    assert.equal((await fetch(server.url)).status, 200);
  });

  it("logs one JSON line per delivery", async () => {
    const delivery = job(nextRun++, 1, "queued", undefined, {}, "log-line-check");
    await deliver(server.url, delivery);
    await waitFor(() => server.logs().some((l) => l.delivery === "log-line-check"), "the delivery's log line");
    await new Promise((r) => setTimeout(r, 100));
    const lines = server.logs().filter((l) => l.msg === "delivery" && l.delivery === "log-line-check");
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.status, 202);
  });
});
