// NOTIFY_URL: a local HTTP server stands in for the chat product's incoming webhook. At most
// one message per run attempt and kind, across concurrent redeliveries and two server processes
// on one SQLite file; a failing or hanging endpoint never holds the webhook's answer.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signedDelivery, startFakeGitHub, startFakeNotifyEndpoint, workflowJobPayload, workflowRunPayload } from "@job-rerunner/testing";
import { startServer } from "../src/server.js";
import { deliver, startBin, waitFor } from "./support.js";

const SECRET = "notify-webhook-secret";
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "job-rerunner-notify-"));
  dirs.push(dir);
  return dir;
}

const RUN = { owner: "octo-org", repo: "octo-repo", branch: "master", workflow: "CI" } as const;

function job(runId: number, attempt: number, jobId: number, name: string, action: "queued" | "completed", conclusion: string | null = null) {
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...RUN, runId, attempt, jobId, jobName: name, action, conclusion }));
}

function runCompleted(runId: number, attempt: number, conclusion: string) {
  return signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...RUN, runId, attempt, action: "completed", conclusion }));
}

describe("notifications", () => {
  it("give-up after the attempt limit: exactly one message despite 10 concurrent redeliveries to two server processes on one SQLite store", async () => {
    const endpoint = await startFakeNotifyEndpoint("ok");
    const cwd = tempDir();
    const env = { GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", RUN_ATTEMPTS: "2", STORE: `sqlite:${join(cwd, "shared.db")}`, NOTIFY_URL: endpoint.url, DEADLINE_MS: "5000" };
    const [a, b] = await Promise.all([startBin(env, cwd), startBin(env, cwd)]);
    try {
      const runId = 5_500_001;
      // Attempt 2 is the last RUN_ATTEMPTS=2 allows: the machine answers 204 and it is watched apart.
      for (const d of [job(runId, 2, 1, "build", "queued"), job(runId, 2, 2, "test (ubuntu)", "queued"), job(runId, 2, 1, "build", "completed", "success")]) {
        assert.equal((await deliver(a.url, d)).status, 204);
      }
      const failed = job(runId, 2, 2, "test (ubuntu)", "completed", "failure");
      const completed = runCompleted(runId, 2, "failure");
      // GitHub's usual order first (the job, then the run): the message can name the failed job.
      // A run completion seen before its job's is given up on with "Failed jobs: (not known)".
      assert.equal((await deliver(a.url, failed)).status, 204);
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => [deliver(i % 2 === 0 ? a.url : b.url, failed), deliver(i % 2 === 0 ? b.url : a.url, completed)]).flat(),
      );
      assert.ok(answers.every((r) => r.status === 204), JSON.stringify(answers.map((r) => r.status)));
      await waitFor(() => endpoint.received.length >= 1, "the give-up message", 30_000);
    } finally {
      // Stopping waits for notifications still being sent: after it, nothing more can arrive.
      await Promise.all([a.stop(), b.stop()]);
      await endpoint.close();
    }
    const texts = endpoint.texts();
    assert.equal(texts.length, 1, texts.join("\n---\n"));
    const text = texts[0]!;
    assert.match(text, /gave up/);
    assert.match(text, /octo-org\/octo-repo/);
    assert.match(text, /CI on master/);
    assert.match(text, /attempt 2/);
    assert.match(text, /https:\/\/github\.com\/octo-org\/octo-repo\/actions\/runs\/5500001\/attempts\/2/);
    assert.match(text, /Failed jobs: test \(ubuntu\)$/m);
    assert.match(text, /Reason: run attempt 2 failed and RUN_ATTEMPTS=2 allows no further rerun/);
    assert.equal(endpoint.received[0]?.contentType, "application/json");
  });

  const DEADLINE_MS = 2000;
  /** Not a speed figure: room for the HTTP round trip and a loaded machine around the deadline. */
  const MARGIN_MS = 500;
  for (const behaviour of ["error", "hang"] as const) {
    it(`an endpoint that ${behaviour === "error" ? "answers 500" : "never answers"} does not hold or change the webhook's answer`, async () => {
      const endpoint = await startFakeNotifyEndpoint(behaviour);
      const server = await startServer(
        { GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", RUN_ATTEMPTS: "1", STORE: "memory", NOTIFY_URL: endpoint.url, DEADLINE_MS: String(DEADLINE_MS), LOG_LEVEL: "error" },
        { port: 0, host: "127.0.0.1" },
      );
      try {
        const runId = 5_500_100 + (behaviour === "error" ? 1 : 2);
        // RUN_ATTEMPTS=1: attempt 1 is the last; its failed completion is a give-up.
        assert.equal((await deliver(server.url, job(runId, 1, 1, "e2e", "queued"))).status, 204);
        const started = performance.now();
        const answer = await deliver(server.url, runCompleted(runId, 1, "failure"));
        const elapsed = performance.now() - started;
        assert.equal(answer.status, 204, answer.body.reason);
        // The contract: answered within DEADLINE_MS, whatever the endpoint does (a margin for the HTTP round trip).
        assert.ok(elapsed <= DEADLINE_MS + MARGIN_MS, `answered after ${Math.round(elapsed)} ms; DEADLINE_MS=${DEADLINE_MS}`);
        if (behaviour === "hang") {
          // The answer came back while the endpoint still holds the notification's request.
          await waitFor(() => endpoint.received.length === 1, "the held notification request", 30_000);
        } else {
          // Bounded retries: 3 tries, then it gives up on the message.
          await waitFor(() => endpoint.received.length === 3, "three tries", 30_000);
        }
      } finally {
        await endpoint.close();
        await server.close();
      }
      if (behaviour === "error") assert.equal(endpoint.received.length, 3, "no more than three tries");
    });
  }

  it("NOTIFY_ON=rerun: one message per rerun, none for the give-up", async () => {
    const gh = await startFakeGitHub();
    const endpoint = await startFakeNotifyEndpoint("ok");
    const server = await startServer(
      { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_notify", GITHUB_API_URL: gh.url, RUN_ATTEMPTS: "3", STORE: "memory", NOTIFY_URL: endpoint.url, NOTIFY_ON: "rerun", LOG_LEVEL: "error" },
      { port: 0, host: "127.0.0.1" },
    );
    const runId = 5_500_200;
    try {
      for (const attempt of [1, 2, 3]) {
        gh.run(runId).status = "completed";
        await deliver(server.url, job(runId, attempt, 10 + attempt, "flaky test", "queued"));
        const failed = job(runId, attempt, 10 + attempt, "flaky test", "completed", "failure");
        const first = await deliver(server.url, failed);
        await deliver(server.url, failed); // a redelivery
        await deliver(server.url, runCompleted(runId, attempt, "failure"));
        assert.equal(first.status, attempt < 3 ? 201 : 204, first.body.reason);
      }
      await waitFor(() => endpoint.received.length >= 2, "two rerun messages", 30_000);
    } finally {
      await server.close();
      await endpoint.close();
      await gh.close();
    }
    assert.equal(gh.performed(runId), 2);
    const texts = endpoint.texts();
    assert.equal(texts.length, 2, texts.join("\n---\n"));
    assert.match(texts.find((t) => /attempt 1\b/.test(t)) ?? "", /re-ran the failed jobs of octo-org\/octo-repo · CI on master, run 5500200 attempt 1/);
    assert.match(texts.find((t) => /attempt 2\b/.test(t)) ?? "", /actions\/runs\/5500200\/attempts\/2/);
  });

  it("bad NOTIFY_ON and NOTIFY_URL values are configuration errors naming the variable", async () => {
    await assert.rejects(startServer({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", NOTIFY_URL: "https://hooks.slack.com/services/x", NOTIFY_ON: "give-up,sometimes" }, { port: 0 }), /NOTIFY_ON/);
    await assert.rejects(startServer({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", NOTIFY_URL: "ftp://example.com" }, { port: 0 }), /NOTIFY_URL/);
  });
});
