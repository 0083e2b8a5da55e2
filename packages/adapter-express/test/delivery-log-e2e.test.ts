// Recovering lost deliveries at organization scale, over real processes and sockets: two servers
// (`npm start`, and src/bin.ts as it runs it) in GitHub App mode on one PostgreSQL store, with no
// SWEEP_REPOS, and the stand-in GitHub serving the App's delivery log (over a thousand entries,
// cursor pagination) and sending each redelivery, signed, to the server's webhook.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateAppKeys, startFakeGitHub, workflowJobPayload, workflowRunPayload, type FakeGitHub, type FakeLoggedDelivery } from "@job-rerunner/testing";
import { testSchema, type TestSchema } from "./pg-support.js";
import { fileURLToPath } from "node:url";
import { freePort, spawnBin, spawnLogged, waitFor, waitUntilServing, type RunningBin } from "./support.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SECRET = "delivery-log-e2e-secret";
const APP_ID = 626262;
const MINUTE = 60_000;
const INSTALLATIONS: Record<number, string> = { 31: "org-one", 32: "org-two" };
const keys = generateAppKeys();
let nextRun = 8_800_000;

/** A run of one of 200 repositories across the two installations. */
function shape(runId: number) {
  const repoIndex = runId % 200;
  const installationId = repoIndex % 2 === 0 ? 31 : 32;
  return { runId, owner: INSTALLATIONS[installationId]!, repo: `repo-${repoIndex}`, repoId: 500_000 + repoIndex, installationId };
}
const runCompleted = (runId: number, conclusion: string) => workflowRunPayload({ ...shape(runId), action: "completed", conclusion });
const jobEvent = (runId: number, action: "queued" | "in_progress" | "completed", conclusion: string | null = null) =>
  workflowJobPayload({ ...shape(runId), jobId: runId * 10, action, conclusion });

describe("lost deliveries recovered from the App's delivery log, two servers on one PostgreSQL store", () => {
  let gh: FakeGitHub;
  let schema: TestSchema;
  let dir: string;
  const servers: RunningBin[] = [];

  before(async () => {
    gh = await startFakeGitHub({ app: { id: APP_ID, publicKey: keys.publicKey, installations: INSTALLATIONS } });
    schema = testSchema("deliverylog");
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-deliveries-"));
  });
  after(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await gh.close();
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A server on `port`: `npm start` itself (it builds dist when stale), or src/bin.ts as it runs it. */
  async function serve(port: number, how: "npm start" | "bin"): Promise<RunningBin> {
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? tmpdir(),
      PORT: String(port),
      GITHUB_SIGN_KEY: SECRET,
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_PRIVATE_KEY: keys.privateKey.replace(/\n/g, "\\n"),
      GITHUB_API_URL: gh.url,
      STORE: schema.url(),
      SWEEP_INTERVAL_S: "2",
    };
    const child = how === "npm start" ? spawnLogged("npm", ["start"], env, ROOT) : spawnBin(env, dir);
    const url = `http://127.0.0.1:${port}`;
    // The first `npm start` builds dist, which takes a while.
    await waitUntilServing(url, child, 240_000);
    const running: RunningBin = {
      ...child,
      url,
      async stop() {
        if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGTERM");
        return await child.exited;
      },
    };
    servers.push(running);
    return running;
  }

  const passes = (server: RunningBin): Record<string, unknown>[] => server.logs().filter((l) => l.msg === "sweep" && l.source === "delivery-log");

  it("re-runs every run whose failure delivery was lost exactly once within a minute, with no per-repository listing; answered, 4xx, old and push deliveries are never redelivered; idle passes cost one request; a loss while running is recovered next pass", { timeout: 420_000 }, async () => {
    const hooks = gh.hooks!;
    const now = Date.now();
    // Before the lookback (SWEEP_LOOKBACK_H=1): lost, and left alone. The log's ids grow with time, so it comes first.
    const oldRun = nextRun++;
    const old = hooks.record({ event: "workflow_run", payload: runCompleted(oldRun, "failure"), statusCode: 0, deliveredAt: now - 3 * 60 * MINUTE });
    // 260 runs over the last 50 minutes: queued, in progress, completed jobs and the run, all answered: 1,040 entries.
    const answeredRuns: number[] = [];
    for (let i = 0; i < 260; i++) {
      const runId = nextRun++;
      answeredRuns.push(runId);
      const at = now - 50 * MINUTE + i * 10_000;
      hooks.record({ event: "workflow_job", payload: jobEvent(runId, "queued"), statusCode: 202, deliveredAt: at });
      hooks.record({ event: "workflow_job", payload: jobEvent(runId, "in_progress"), statusCode: 202, deliveredAt: at + 1000 });
      hooks.record({ event: "workflow_job", payload: jobEvent(runId, "completed", "failure"), statusCode: 202, deliveredAt: at + 2000 });
      hooks.record({ event: "workflow_run", payload: runCompleted(runId, i % 2 === 0 ? "failure" : "success"), statusCode: 201, deliveredAt: at + 3000 });
    }
    // Twelve runs whose failure never got an answer: no connection, a proxy's 502, the server's 503.
    const lost: { runId: number; entry: FakeLoggedDelivery }[] = [];
    for (const statusCode of [0, 502, 503, 0, 502, 503, 0, 502, 503, 0, 502, 503]) {
      const runId = nextRun++;
      lost.push({ runId, entry: hooks.record({ event: "workflow_run", payload: runCompleted(runId, "failure"), statusCode, deliveredAt: now - 20 * MINUTE }) });
    }
    // Answered with a 4xx (a wrong secret, a completed job with no record): answers, not losses.
    const refusedRuns = [nextRun++, nextRun++];
    const refused = refusedRuns.map((runId, i) => hooks.record({ event: i === 0 ? "workflow_run" : "workflow_job", payload: i === 0 ? runCompleted(runId, "failure") : jobEvent(runId, "completed", "failure"), statusCode: i === 0 ? 403 : 404, deliveredAt: now - 15 * MINUTE }));
    // Lost once, then redelivered by hand and answered.
    const savedRun = nextRun++;
    const saved = hooks.record({ event: "workflow_run", payload: runCompleted(savedRun, "failure"), statusCode: 502, deliveredAt: now - 12 * MINUTE });
    hooks.record({ event: "workflow_run", payload: runCompleted(savedRun, "failure"), statusCode: 202, guid: saved.guid, redelivery: true, deliveredAt: now - 11 * MINUTE });
    const push = hooks.record({ event: "push", payload: { ref: "refs/heads/main", repository: { id: 500_001 } }, statusCode: 502, deliveredAt: now - 10 * MINUTE });
    assert.ok(hooks.entries.length > 1000, `${hooks.entries.length} entries`);

    const [portA, portB] = [await freePort(), await freePort()];
    // The App's webhook URL: the first server (a load balancer would pick either).
    hooks.target(`http://127.0.0.1:${portA}/`, SECRET);
    // The webhook's server first (its first pass starts once it listens), then the second.
    const a = await serve(portA, "npm start");
    const started = Date.now();
    const b = await serve(portB, "bin");

    await waitFor(() => lost.every(({ runId }) => gh.performed(runId) === 1), "every lost run to be re-run", 60_000);
    assert.ok(Date.now() - started < 60_000);
    await hooks.settled();
    for (const { runId, entry } of lost) {
      assert.equal(hooks.redeliveryRequests(entry.guid), 1, `GUID ${entry.guid} redelivered once across both servers`);
      assert.equal(gh.rerunCalls(runId), 1, `run ${runId}: one rerun request`);
    }
    for (const entry of [old, ...refused, saved, push]) assert.equal(hooks.redeliveryRequests(entry.guid), 0, `${entry.event} ${entry.statusCode} never redelivered`);
    for (const runId of [oldRun, ...refusedRuns, savedRun, ...answeredRuns]) assert.equal(gh.performed(runId), 0, `run ${runId} not re-run`);
    assert.equal(gh.listCalls().length, 0, "no per-repository listing");
    assert.equal(hooks.redeliveryRequests(), lost.length);

    // Idle passes (on either server): one request each; a pass that found the lease taken makes none.
    const [seenA, seenB] = [passes(a).length, passes(b).length];
    await waitFor(() => passes(a).length - seenA + passes(b).length - seenB >= 4, "four more passes", 30_000);
    const idle = [...passes(a).slice(seenA), ...passes(b).slice(seenB)];
    for (const pass of idle) {
      assert.ok(Number(pass.requests) <= 1, `an idle pass made ${String(pass.requests)} requests: ${JSON.stringify(pass)}`);
      assert.equal(pass.redelivered, 0);
    }
    assert.ok(idle.some((pass) => pass.requests === 1), "the passes read the log (the others found the lease taken)");

    // Lost while the servers run: the next pass recovers it.
    const laterRun = nextRun++;
    const later = await hooks.deliver("workflow_run", runCompleted(laterRun, "failure"), { lose: 503 });
    await waitFor(() => gh.performed(laterRun) === 1, "the run lost while serving to be re-run", 30_000);
    await hooks.settled();
    assert.equal(hooks.redeliveryRequests(later.guid), 1);

    // A delivery that reaches the server is answered and never redelivered.
    const liveRun = nextRun++;
    const live = await hooks.deliver("workflow_run", runCompleted(liveRun, "failure"));
    assert.equal(live.statusCode, 201);
    assert.equal(gh.performed(liveRun), 1);
    const passesBefore = passes(a).length + passes(b).length;
    await waitFor(() => passes(a).length + passes(b).length >= passesBefore + 2, "two more passes", 30_000);
    assert.equal(hooks.redeliveryRequests(live.guid), 0);
    assert.equal(gh.listCalls().length, 0);

    // Each server counts the redeliveries it asked for.
    let requested = 0;
    for (const server of [a, b]) {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const line = /^job_rerunner_redeliveries_total\{outcome="requested"\} (\d+)$/m.exec(metrics);
      assert.ok(line, metrics.slice(0, 500));
      requested += Number(line[1]);
    }
    assert.equal(requested, lost.length + 1);
  });
});
