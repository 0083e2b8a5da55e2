// The function under the real functions-framework CLI (child processes), with FirestoreStore on
// the Firestore emulator and a local HTTP server standing in for the GitHub API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { signBody, signedDelivery, startFakeGitHub, workflowJobPayload, type FakeGitHub } from "@job-rerunner/testing";
import { freePort, startEmulator, type Emulator } from "./emulator.js";
import { post, startFunction, type RunningFunction } from "./functions-framework.js";

const SECRET = "gcf-test-secret";
let emulator: Emulator;
let github: FakeGitHub;
let fn: RunningFunction;
const running: RunningFunction[] = [];
let nextRun = 7_000_000;

/** The environment `gcloud functions deploy` would set, pointed at the local stand-ins. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_SIGN_KEY: SECRET,
    GITHUB_TOKEN: "ghs_test_token",
    GITHUB_API_URL: github.url,
    FIRESTORE_EMULATOR_HOST: emulator.host,
    GOOGLE_CLOUD_PROJECT: emulator.projectId,
    FIRESTORE_COLLECTION: `e2e-${process.pid}`,
    NODE_ENV: "production",
    ...extra,
  };
}

async function start(extra: Record<string, string> = {}): Promise<RunningFunction> {
  const started = await startFunction(env(extra));
  running.push(started);
  return started;
}

function job(runId: number, jobId: number, action: "queued" | "in_progress" | "completed", conclusion?: string, deliveryId?: string) {
  const payload = workflowJobPayload({ runId, jobId, action, ...(conclusion === undefined ? {} : { conclusion }) });
  return signedDelivery(SECRET, "workflow_job", payload, deliveryId);
}

before(async () => {
  emulator = await startEmulator();
  github = await startFakeGitHub();
  fn = await start();
});
after(async () => {
  await Promise.allSettled(running.map((r) => r.stop()));
  await github.close();
  await emulator.stop();
});

describe("rerunner under functions-framework, state in Firestore", () => {
  it("GET answers the health text", async () => {
    const response = await fetch(fn.url);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /job-rerunner is running/);
  });

  it("403 when the signature is missing or wrong, checked before anything else", async () => {
    const delivery = job(nextRun++, 1, "queued");
    const { "x-hub-signature-256": _signature, ...unsigned } = delivery.headers;
    const missing = await post(fn.url, { headers: unsigned, rawBody: delivery.rawBody });
    assert.equal(missing.status, 403);
    assert.match(String(missing.json?.reason), /missing/);
    const wrong = await post(fn.url, { headers: { ...delivery.headers, "x-hub-signature-256": "sha256=" + "0".repeat(64) }, rawBody: delivery.rawBody });
    assert.equal(wrong.status, 403);
    assert.match(String(wrong.json?.reason), /does not match/);
    // A tampered body with the original signature.
    const tampered = await post(fn.url, { headers: delivery.headers, rawBody: delivery.rawBody.replace("queued", "complete") });
    assert.equal(tampered.status, 403);
  });

  it("400 when a correctly signed body is not JSON", async () => {
    const rawBody = "this is { not json";
    const delivery = signedDelivery(SECRET, "workflow_job", {}, randomUUID());
    const answer = await post(fn.url, {
      headers: { ...delivery.headers, "content-type": "text/plain", "x-hub-signature-256": signBody(SECRET, rawBody) },
      rawBody,
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.json?.status, 400);
    assert.match(String(answer.json?.reason), /not valid JSON/);
  });

  it("400 without a stack trace when the framework's own JSON parser rejects an application/json body", async () => {
    // functions-framework parses application/json bodies before the function runs, so this 400
    // comes from the framework; with NODE_ENV=production (as on Cloud Functions) it carries no stack.
    const answer = await post(fn.url, { headers: { "content-type": "application/json", "x-github-event": "workflow_job" }, rawBody: "{ nope" });
    assert.equal(answer.status, 400);
    assert.doesNotMatch(answer.text, /at .*\.js:\d+/);
  });

  it("204 for a ping and for events it does not track, with the reason in headers", async () => {
    const ping = await post(fn.url, signedDelivery(SECRET, "ping", { zen: "Keep it logically awesome.", hook_id: 1 }));
    assert.equal(ping.status, 204);
    assert.equal(ping.text, "");
    assert.ok(ping.headers.get("x-job-rerunner-reason"));
    const push = await post(fn.url, signedDelivery(SECRET, "push", { ref: "refs/heads/master" }));
    assert.equal(push.status, 204);
  });

  it("202 while jobs run, 404 for a completed job of an unknown run, 200 when an attempt succeeds", async () => {
    const unknown = await post(fn.url, job(nextRun++, 9, "completed", "success"));
    assert.equal(unknown.status, 404);

    const runId = nextRun++;
    assert.equal((await post(fn.url, job(runId, 1, "queued"))).status, 202);
    assert.equal((await post(fn.url, job(runId, 2, "queued"))).status, 202);
    assert.equal((await post(fn.url, job(runId, 1, "completed", "success"))).status, 202);
    const done = await post(fn.url, job(runId, 2, "completed", "success"));
    assert.equal(done.status, 200);
    assert.equal(done.json?.action, "none");
    assert.equal(github.rerunCalls(runId), 0);
  });

  it("201 re-runs a failing run exactly once; a repeated delivery gets the same answer and calls nothing", async () => {
    github.rerun("ok");
    const runId = nextRun++;
    assert.equal((await post(fn.url, job(runId, 1, "queued"))).status, 202);
    assert.equal((await post(fn.url, job(runId, 2, "queued"))).status, 202);
    assert.equal((await post(fn.url, job(runId, 1, "completed", "failure"))).status, 202);
    const last = job(runId, 2, "completed", "success");
    const first = await post(fn.url, last);
    assert.equal(first.status, 201);
    assert.equal(first.json?.action, "rerun-failed-jobs");
    assert.equal(github.performed(runId), 1);

    const again = await post(fn.url, last);
    assert.equal(again.status, 201);
    assert.deepEqual({ ...again.json, action: null }, { ...first.json, action: null });
    // A late duplicate event of the same attempt (new delivery id) changes nothing either.
    const late = await post(fn.url, job(runId, 1, "completed", "failure"));
    assert.ok([200, 201].includes(late.status), `late event answered ${late.status}`);
    assert.equal(github.rerunCalls(runId), 1);
    assert.equal(github.performed(runId), 1);
  });

  it("502 when GitHub fails the rerun; the redelivery drives it and it is performed once", async () => {
    const runId = nextRun++;
    github.rerun("server-error", "ok");
    assert.equal((await post(fn.url, job(runId, 1, "queued"))).status, 202);
    const last = job(runId, 1, "completed", "failure");
    const failed = await post(fn.url, last);
    assert.equal(failed.status, 502);
    assert.equal(github.performed(runId), 0);
    const redelivered = await post(fn.url, last);
    assert.equal(redelivered.status, 201);
    assert.equal(github.performed(runId), 1);
    github.rerun("ok");
  });

  it("logs each delivery as a Cloud Logging structured line (severity, message, time)", async () => {
    const lines = fn.logs().filter((l) => l.message === "delivery");
    assert.ok(lines.length > 0, fn.stdout.join("\n"));
    for (const line of lines) {
      assert.ok(["INFO", "WARNING", "ERROR"].includes(String(line.severity)));
      // `time` takes an RFC 3339 string; `timestamp` would need {seconds, nanos}.
      assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(line.timestamp, undefined);
      assert.equal(line.level, undefined);
      assert.equal(typeof line.status, "number");
    }
    assert.ok(fn.logs().some((l) => l.message === "configured" && String(l.store).startsWith("firestore emulator")));
    assert.doesNotMatch(fn.stdout.join("\n"), new RegExp(SECRET));
  });

  it("a restart mid-run loses nothing: the next instance finds the run in Firestore and re-runs it once", async () => {
    const runId = nextRun++;
    assert.equal((await post(fn.url, job(runId, 1, "queued"))).status, 202);
    assert.equal((await post(fn.url, job(runId, 2, "queued"))).status, 202);
    assert.equal((await post(fn.url, job(runId, 1, "completed", "failure"))).status, 202);
    // The instance is taken away abruptly; a new one cold-starts.
    await fn.kill();
    fn = await start();
    const last = await post(fn.url, job(runId, 2, "completed", "success"));
    assert.equal(last.status, 201, JSON.stringify(last.json));
    assert.equal(github.performed(runId), 1);
    // Two instances at once share the state too: a second one sees the rerun already done.
    const other = await start();
    const late = await post(other.url, job(runId, 2, "completed", "success"));
    assert.ok([200, 201].includes(late.status));
    assert.equal(github.rerunCalls(runId), 1);
  });
});

describe("rerunner under functions-framework, degraded", () => {
  it("a bad configuration answers every request 500 naming the variable, logged once, without crashing", async () => {
    const bad = await start({ RUN_ATTEMPTS: "abc" });
    const answer = await post(bad.url, job(nextRun++, 1, "queued"));
    assert.equal(answer.status, 500);
    assert.match(String(answer.json?.reason), /RUN_ATTEMPTS/);
    assert.equal((await fetch(bad.url)).status, 500);
    assert.equal((await post(bad.url, job(nextRun++, 1, "queued"))).status, 500);
    assert.equal(bad.process.exitCode, null);
    const errors = bad.logs().filter((l) => l.severity === "ERROR" && String(l.reason).includes("RUN_ATTEMPTS"));
    assert.equal(errors.length, 1);
  });

  it("STORE=sqlite is refused for this adapter with a message naming STORE", async () => {
    const bad = await start({ STORE: "sqlite:./x.db" });
    const answer = await post(bad.url, job(nextRun++, 1, "queued"));
    assert.equal(answer.status, 500);
    assert.match(String(answer.json?.reason), /STORE/);
  });

  it("503 within the deadline when Firestore cannot be reached (GitHub may redeliver)", async () => {
    const down = await start({ FIRESTORE_EMULATOR_HOST: "127.0.0.1:1", DEADLINE_MS: "1500" });
    const answer = await post(down.url, job(nextRun++, 1, "queued"));
    assert.equal(answer.status, 503);
    assert.match(String(answer.json?.reason), /store/);
  });

  it("503 within the deadline when Firestore accepts the connection but never answers", async () => {
    // A store that hangs is worse than one that refuses: only the deadline ends the wait.
    const sockets = new Set<Socket>();
    let accepted = 0;
    const silent = createServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      const deadlineMs = 1500;
      const hung = await start({ FIRESTORE_EMULATOR_HOST: `127.0.0.1:${port}`, DEADLINE_MS: String(deadlineMs) });
      const sent = performance.now();
      const answer = await post(hung.url, job(nextRun++, 1, "queued"));
      const waited = performance.now() - sent;
      assert.equal(answer.status, 503);
      assert.equal(answer.json?.status, 503);
      assert.match(String(answer.json?.reason), /store did not answer before the deadline/);
      assert.ok(accepted > 0, "the Firestore client never connected to the silent socket");
      // A generous bound, not a speed measurement: the point is that the deadline ends the wait.
      assert.ok(waited < deadlineMs + 5000, `answered after ${Math.round(waited)} ms`);
      await hung.stop();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("STORE=memory works without Firestore", async () => {
    const memory = await start({ STORE: "memory", FIRESTORE_EMULATOR_HOST: "127.0.0.1:1" });
    assert.equal((await post(memory.url, job(nextRun++, 1, "queued"))).status, 202);
  });
});
