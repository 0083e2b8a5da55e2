// Starting, stopping and restarting the server process: configuration errors, SIGTERM with a
// delivery in flight, a restart in the middle of a run with the SQLite store, DRY_RUN.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signedDelivery, startFakeGitHub, workflowJobPayload, type FakeGitHub } from "@job-rerunner/testing";
import { deliver, freePort, spawnBin, startBin, waitFor } from "./support.js";

const SECRET = "lifecycle-secret";
let nextRun = 82_000;

/**
 * In front of the stand-in GitHub: holds every rerun call until `release()`, then passes it on,
 * so a test can act (SIGTERM) while the engine waits for GitHub's answer.
 */
async function startHoldingProxy(target: string): Promise<{ url: string; held(): number; release(): void; close(): Promise<void> }> {
  const waiting: (() => void)[] = [];
  let released = false;
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const out = request(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => res.destroy());
    out.end(body);
  };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const go = (): void => forward(req, res, Buffer.concat(chunks));
      if (req.method === "POST" && (req.url ?? "").endsWith("/rerun-failed-jobs") && !released) waiting.push(go);
      else go();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => waiting.length,
    release() {
      released = true;
      for (const go of waiting.splice(0)) go();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function job(runId: number, jobId: number, action: "queued" | "completed", conclusion?: string) {
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion: conclusion ?? null }));
}

describe("server startup: bad configuration stops it with one line naming the variable", () => {
  let cwd: string;
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), "job-rerunner-startup-"));
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  const cases: { name: string; env: Record<string, string>; variable: RegExp }[] = [
    { name: "no GITHUB_SIGN_KEY", env: { GITHUB_TOKEN: "t" }, variable: /^job-rerunner: GITHUB_SIGN_KEY is required/ },
    { name: "no GITHUB_TOKEN and no DRY_RUN", env: { GITHUB_SIGN_KEY: "s" }, variable: /^job-rerunner: GITHUB_TOKEN is required/ },
    { name: "RUN_ATTEMPTS=abc", env: { GITHUB_SIGN_KEY: "s", DRY_RUN: "true", RUN_ATTEMPTS: "abc" }, variable: /^job-rerunner: RUN_ATTEMPTS must be/ },
    { name: "LOG_LEVEL=loud", env: { GITHUB_SIGN_KEY: "s", DRY_RUN: "true", LOG_LEVEL: "loud" }, variable: /^job-rerunner: LOG_LEVEL must be/ },
    { name: "STORE=firestore", env: { GITHUB_SIGN_KEY: "s", DRY_RUN: "true", STORE: "firestore" }, variable: /^job-rerunner: STORE cannot be "firestore" here/ },
  ];
  for (const c of cases) {
    it(`${c.name}: exit code 1, one line on stderr, no stack trace`, async () => {
      const child = spawnBin({ PORT: String(await freePort()), ...c.env }, cwd);
      const exit = await child.exited;
      assert.equal(exit.code, 1);
      const lines = child.stderr.join("").split("\n").filter((l) => l.length > 0);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, c.variable);
      assert.equal(child.logs().some((l) => l.msg === "listening"), false);
    });
  }

  it("a port already in use: exit code 1 and one line saying so", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const child = spawnBin({ PORT: String(port), GITHUB_SIGN_KEY: "s", DRY_RUN: "1", STORE: "memory" }, cwd);
      const exit = await child.exited;
      assert.equal(exit.code, 1);
      const lines = child.stderr.join("").split("\n").filter((l) => l.length > 0);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, /EADDRINUSE/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe("server lifecycle against a stand-in GitHub", () => {
  let gh: FakeGitHub;
  let cwd: string;
  before(async () => {
    gh = await startFakeGitHub();
    cwd = mkdtempSync(join(tmpdir(), "job-rerunner-lifecycle-"));
  });
  after(async () => {
    await gh.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("a restart in the middle of a run loses nothing: the run is re-run when its last job fails after the restart", async () => {
    const env = { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "t", GITHUB_API_URL: gh.url, STORE: `sqlite:${join(cwd, "state", "runs.sqlite")}` };
    gh.rerun("ok");
    const runId = nextRun++;
    const first = await startBin(env, cwd);
    try {
      assert.equal((await deliver(first.url, job(runId, 1, "queued"))).status, 202);
      assert.equal((await deliver(first.url, job(runId, 2, "queued"))).status, 202);
      assert.equal((await deliver(first.url, job(runId, 1, "completed", "failure"))).status, 202);
    } finally {
      const exit = await first.stop();
      assert.equal(exit.code, 0);
    }
    const second = await startBin(env, cwd);
    try {
      const last = await deliver(second.url, job(runId, 2, "completed", "success"));
      assert.equal(last.status, 201, last.body.reason);
      assert.equal(gh.performed(runId), 1);
    } finally {
      assert.equal((await second.stop()).code, 0);
    }
    // And once more: the "requested" state survived too, so nothing is re-run twice.
    const third = await startBin(env, cwd);
    try {
      const again = await deliver(third.url, job(runId, 2, "completed", "success"));
      assert.equal(again.status, 200, again.body.reason);
      assert.equal(gh.rerunCalls(runId), 1);
    } finally {
      await third.stop();
    }
  });

  it("a kill -9 mid-run loses nothing either (every write is committed before the answer)", async () => {
    const env = { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "t", GITHUB_API_URL: gh.url, STORE: `sqlite:${join(cwd, "killed.sqlite")}` };
    gh.rerun("ok");
    const runId = nextRun++;
    const first = await startBin(env, cwd);
    assert.equal((await deliver(first.url, job(runId, 1, "queued"))).status, 202);
    assert.equal((await deliver(first.url, job(runId, 2, "queued"))).status, 202);
    assert.equal((await deliver(first.url, job(runId, 1, "completed", "failure"))).status, 202);
    first.process.kill("SIGKILL");
    assert.equal((await first.exited).signal, "SIGKILL");
    const second = await startBin(env, cwd);
    try {
      assert.equal((await deliver(second.url, job(runId, 2, "completed", "success"))).status, 201);
      assert.equal(gh.performed(runId), 1);
    } finally {
      await second.stop();
    }
  });

  it("SIGTERM lets a delivery in flight finish (its answer arrives), closes the store, exits 0", async () => {
    const server = await startBin(
      { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "t", GITHUB_API_URL: gh.url, STORE: "memory", DEADLINE_MS: "1500" },
      cwd,
    );
    const runId = nextRun++;
    try {
      assert.equal((await deliver(server.url, job(runId, 1, "queued"))).status, 202);
      gh.rerun("hang");
      const inFlight = deliver(server.url, job(runId, 1, "completed", "failure"));
      await waitFor(() => gh.rerunCalls(runId) === 1, "the rerun call to reach GitHub");
      server.process.kill("SIGTERM");
      const answer = await inFlight;
      // The engine's deadline cut the hung GitHub call: the rerun stays pending, answered 502.
      assert.equal(answer.status, 502, answer.body.reason);
      const exit = await server.exited;
      assert.equal(exit.code, 0);
      assert.ok(server.logs().some((l) => l.msg === "stopped"));
      // No new connections after the signal.
      await assert.rejects(fetch(server.url));
    } finally {
      gh.rerun("ok");
      await server.stop();
    }
  });

  it("SIGTERM after the client gave up: the engine's work still finishes and is recorded before the store closes", async () => {
    const proxy = await startHoldingProxy(gh.url);
    const file = join(cwd, "drain.sqlite");
    // The longest deadline allowed, so the held call is released well before the engine gives up on it.
    const env = { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "t", GITHUB_API_URL: proxy.url, STORE: `sqlite:${file}`, DEADLINE_MS: "9000" };
    gh.rerun("ok");
    const runId = nextRun++;
    const server = await startBin(env, cwd);
    try {
      assert.equal((await deliver(server.url, job(runId, 1, "queued"))).status, 202);
      const last = job(runId, 1, "completed", "failure");
      const abandoned = request(server.url, { method: "POST", headers: last.headers });
      abandoned.on("error", () => {});
      abandoned.end(last.rawBody);
      await waitFor(() => proxy.held() === 1, "the rerun call to reach GitHub");
      // The connection is gone, so nothing but the engine's own work can hold the shutdown.
      abandoned.destroy();
      server.process.kill("SIGTERM");
      await waitFor(() => server.logs().some((l) => l.msg === "shutting down: waiting for deliveries still being processed"), "shutdown to wait for the engine");
      proxy.release();
      assert.equal((await server.exited).code, 0);
      const logs = server.logs();
      const delivered = logs.findIndex((l) => l.msg === "delivery" && l.delivery === last.headers["x-github-delivery"]);
      assert.ok(delivered >= 0, "the delivery was logged");
      assert.equal(logs[delivered]?.status, 201, String(logs[delivered]?.reason));
      assert.ok(delivered < logs.findIndex((l) => l.msg === "stopped"), "the delivery finished before the store closed");
      assert.deepEqual(logs.filter((l) => l.level === "error"), []);
      assert.equal(gh.performed(runId), 1);
    } finally {
      await server.stop();
      await proxy.close();
    }
    // Recorded as requested: after a restart, another completion of that attempt calls nothing.
    const again = await startBin({ ...env, GITHUB_API_URL: gh.url }, cwd);
    try {
      const answer = await deliver(again.url, job(runId, 1, "completed", "failure"));
      assert.equal(answer.status, 200, answer.body.reason);
      assert.equal(gh.rerunCalls(runId), 1);
      assert.equal(gh.calls.filter((c) => c.method === "GET" && c.path.endsWith(`/runs/${runId}`)).length, 0);
    } finally {
      await again.stop();
    }
  });

  it("LOG_LEVEL=warn: a normal delivery writes no line, a bad signature writes one warn line", async () => {
    const server = await startBin({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", LOG_LEVEL: "warn" }, cwd);
    try {
      const normal = job(nextRun++, 1, "queued");
      assert.equal((await deliver(server.url, normal)).status, 202);
      const forged = signedDelivery("another-secret", "workflow_job", workflowJobPayload({ runId: nextRun++, jobId: 1, action: "queued" }));
      assert.equal((await deliver(server.url, forged)).status, 403);
      // Lines leave in order through one pipe: once the 403's line is here, the 202's would be too.
      await waitFor(() => server.logs().some((l) => l.delivery === forged.headers["x-github-delivery"]), "the 403's log line");
      const lines = server.logs();
      assert.deepEqual(lines.filter((l) => l.delivery === normal.headers["x-github-delivery"]), []);
      const refused = lines.filter((l) => l.delivery === forged.headers["x-github-delivery"]);
      assert.equal(refused.length, 1);
      assert.equal(refused[0]?.level, "warn");
      assert.equal(refused[0]?.status, 403);
      assert.deepEqual(lines.filter((l) => l.level === "info" || l.level === "debug"), []);
    } finally {
      await server.stop();
    }
  });

  it("DRY_RUN decides and records, logs the rerun it would make, and calls nothing", async () => {
    const server = await startBin({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", GITHUB_API_URL: gh.url, STORE: "memory" }, cwd);
    const runId = nextRun++;
    try {
      assert.equal((await deliver(server.url, job(runId, 1, "queued"))).status, 202);
      const last = await deliver(server.url, job(runId, 1, "completed", "failure"));
      assert.equal(last.status, 201, last.body.reason);
      await waitFor(() => server.logs().some((l) => l.msg === "dry run: would re-run failed jobs" && l.run === runId), "the dry-run log line");
      assert.equal(gh.calls.filter((c) => c.path.includes(`/runs/${runId}`)).length, 0);
    } finally {
      await server.stop();
    }
  });
});
