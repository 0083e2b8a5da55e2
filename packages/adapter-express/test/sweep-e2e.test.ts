// Reconciliation with GitHub over real processes and sockets: the server (src/bin.ts as `npm
// start` runs it, and `npm start` itself) sweeping a stand-in GitHub, the two lost-rerun cases
// found by fault injection, races between sweeps and webhooks and between two servers on one
// SQLite file, and the one-shot `job-rerunner sweep` / `npm run sweep`.
import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configFromEnv, createReconciler, createRerunner, sweepConfigFromEnv } from "@job-rerunner/core";
import { generateAppKeys, signedDelivery, startFakeGitHub, workflowJobPayload, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";
import { SqliteStore } from "../src/sqlite-store.js";
import { BIN, deliver, spawnLogged, startBin, TSX, waitFor, type Child, type RunningBin } from "./support.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SECRET = "sweep-e2e-secret";
const TOKEN = "ghp_sweep_e2e_token";
const OWNER = "sweep-org";
const HOUR = 3_600_000;
let nextRun = 4_400_000;
let nextRepo = 1;

const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
const repoName = (): string => `repo-${process.pid}-${nextRepo++}`;

function jobDelivery(runId: number, jobId: number, action: "queued" | "completed", conclusion?: string, repo = "octo-repo") {
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion: conclusion ?? null, owner: OWNER, repo }));
}
function runCompleted(runId: number, conclusion: string, repo = "octo-repo") {
  return signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion, owner: OWNER, repo }));
}

/** `job-rerunner sweep` run the way the installed bin runs (src/bin.ts through tsx), to its exit. */
async function sweepOnce(env: Record<string, string>, cwd: string): Promise<Child & { code: number | null; text: string }> {
  const child = spawnLogged(process.execPath, ["--conditions=source", "--import", TSX, BIN, "sweep"], { PATH: process.env.PATH ?? "", ...env }, cwd);
  const exit = await child.exited;
  return { ...child, code: exit.code, text: child.stdout.join("\n") };
}

describe("sweep and pending driver over real HTTP", () => {
  let gh: FakeGitHub;
  let dir: string;
  const running: RunningBin[] = [];

  before(async () => {
    gh = await startFakeGitHub();
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-sweep-"));
  });
  after(async () => {
    await Promise.allSettled(running.map((r) => r.stop()));
    await gh.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    gh.rerun("ok");
    gh.rerunDelay(0);
  });

  function env(extra: Record<string, string>): Record<string, string> {
    return { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url, DEADLINE_MS: "2000", ...extra };
  }
  async function serve(extra: Record<string, string>): Promise<RunningBin> {
    const server = await startBin(env(extra), dir);
    running.push(server);
    return server;
  }

  it("lost case (a): 'already running' for 1.5 s while workflow_run completed finds the lease taken; the pending driver re-runs it once, with no further delivery", { timeout: 120_000 }, async () => {
    const server = await serve({ STORE: `sqlite:${join(dir, "case-a.sqlite")}`, PENDING_INTERVAL_S: "1" });
    const runId = nextRun++;
    assert.equal((await deliver(server.url, jobDelivery(runId, 1, "queued"))).status, 202);
    gh.runningFor(runId, 1500);
    gh.rerunDelay(1000);
    const last = deliver(server.url, jobDelivery(runId, 1, "completed", "failure"));
    await waitFor(() => gh.rerunCalls(runId) === 1, "the last job's rerun call");
    const completed = await deliver(server.url, runCompleted(runId, "failure"));
    assert.equal(completed.status, 202, completed.body.reason);
    assert.match(completed.body.reason, /being requested by another delivery/);
    const lastAnswer = await last;
    assert.equal(lastAnswer.status, 202, lastAnswer.body.reason);
    assert.match(lastAnswer.body.reason, /not completed yet|already running/);
    gh.rerunDelay(0);
    // No delivery from here on: only the pending driver can get the rerun through.
    await waitFor(() => gh.performed(runId) === 1, "the pending driver's rerun", 60_000);
    await waitFor(() => server.logs().filter((l) => l.msg === "pending reruns driven").length >= 1, "the driver's log line");
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(gh.performed(runId), 1);
    assert.equal(gh.rerunCalls(runId), 2, "one 403, one accepted");
    await server.stop();
  });

  it("lost case (b): kill -9 after the pending write; after a restart each rerun is done exactly once, with no further delivery", { timeout: 120_000 }, async () => {
    const store = `sqlite:${join(dir, "case-b.sqlite")}`;
    const first = await serve({ STORE: store, PENDING_INTERVAL_S: "1" });
    const [neverSent, sentUnanswered] = [nextRun++, nextRun++];
    // The first call never reaches GitHub's work; the second is performed but never answered.
    gh.rerun("hang", "perform-and-hang", "ok");
    void deliver(first.url, runCompleted(neverSent, "failure")).catch(() => undefined);
    await waitFor(() => gh.rerunCalls(neverSent) === 1, "the first rerun call (written pending before it)");
    void deliver(first.url, runCompleted(sentUnanswered, "failure")).catch(() => undefined);
    await waitFor(() => gh.rerunCalls(sentUnanswered) === 1, "the second rerun call");
    first.process.kill("SIGKILL");
    assert.equal((await first.exited).signal, "SIGKILL");

    const second = await serve({ STORE: store, PENDING_INTERVAL_S: "1" });
    await waitFor(() => gh.performed(neverSent) === 1, "the pending rerun driven after the restart", 60_000);
    const readFirst = (runId: number) => gh.calls.some((c) => c.method === "GET" && c.path.endsWith(`/actions/runs/${runId}`));
    await waitFor(() => readFirst(sentUnanswered), "the performed rerun's run read", 60_000);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(gh.performed(neverSent), 1);
    assert.equal(gh.rerunCalls(neverSent), 2);
    assert.ok(readFirst(neverSent), "the run was read before calling again");
    assert.equal(gh.performed(sentUnanswered), 1);
    assert.equal(gh.rerunCalls(sentUnanswered), 1, "GitHub had done it: read, not called again");
    await second.stop();
  });

  it("a sweep and the run's deciding webhook at the same moment, 20 times: exactly one rerun each", { timeout: 180_000 }, async () => {
    const file = join(dir, "race.sqlite");
    const server = await serve({ STORE: `sqlite:${file}` });
    const repo = repoName();
    const fullName = `${OWNER}/${repo}`;
    // The sweeper in this process, on the same SQLite file as the server process.
    const store = new SqliteStore(file);
    const config = configFromEnv(env({}));
    const rerunner = createRerunner({ config, store, logger: () => {} });
    const reconciler = createReconciler({ rerunner, store, sweep: sweepConfigFromEnv({ SWEEP_REPOS: fullName }), logger: () => {} });
    try {
      const runs: number[] = [];
      for (let i = 0; i < 20; i++) {
        const runId = nextRun++;
        runs.push(runId);
        gh.addRuns(fullName, [{ id: runId, createdAt: ago(60_000), updatedAt: ago(1000) }]);
        const [answer] = await Promise.all([deliver(server.url, runCompleted(runId, "failure", repo)), reconciler.sweep()]);
        assert.ok([201, 200, 202].includes(answer.status), answer.body.reason);
      }
      // Whatever one of the two left pending is finished by the next sweep or delivery; here nothing is.
      for (const runId of runs) {
        assert.equal(gh.performed(runId), 1, `run ${runId}`);
        assert.equal(gh.rerunCalls(runId), 1, `run ${runId}`);
      }
    } finally {
      await store.close();
      await server.stop();
    }
  });

  it("two server processes sweeping the same repositories on one SQLite file: exactly one rerun per run", { timeout: 180_000 }, async () => {
    const [r1, r2] = [repoName(), repoName()];
    const runs: number[] = [];
    for (const repo of [r1, r2]) {
      const batch = Array.from({ length: 6 }, () => ({ id: nextRun++, createdAt: ago(20 * 60_000), updatedAt: ago(60_000) }));
      runs.push(...batch.map((b) => b.id));
      gh.addRuns(`${OWNER}/${repo}`, batch);
    }
    const shared = { STORE: `sqlite:${join(dir, "two.sqlite")}`, SWEEP_REPOS: `${OWNER}/${r1},${OWNER}/${r2}`, SWEEP_INTERVAL_S: "1", PENDING_INTERVAL_S: "1" };
    const [a, b] = await Promise.all([serve(shared), serve(shared)]);
    await waitFor(() => runs.every((r) => gh.performed(r) === 1), "every run re-run", 60_000);
    const sweeps = () => [a, b].map((s) => s.logs().filter((l) => l.msg === "sweep").length);
    const seen = sweeps();
    await waitFor(() => sweeps().every((n, i) => n >= seen[i]! + 2), "two more sweeps in each server", 60_000);
    for (const runId of runs) {
      assert.equal(gh.performed(runId), 1, `run ${runId}`);
      assert.equal(gh.rerunCalls(runId), 1, `run ${runId}`);
    }
    await Promise.all([a.stop(), b.stop()]);
    const stopped = [a, b].map((s) => s.logs().some((l) => l.msg === "stopped"));
    assert.deepEqual(stopped, [true, true], "both stop cleanly on SIGTERM while sweeping");
  });

  it("a sweep never blocks deliveries, and SIGTERM during a sweep stops it cleanly (exit 0)", { timeout: 120_000 }, async () => {
    const repo = `${OWNER}/${repoName()}`;
    gh.addRuns(repo, []);
    gh.failListing(repo, 1, 0); // GitHub never answers this listing
    const server = await serve({ STORE: `sqlite:${join(dir, "hang.sqlite")}`, SWEEP_REPOS: repo, SWEEP_INTERVAL_S: "1" });
    await waitFor(() => gh.listCalls(repo).length === 1, "the sweep's listing request", 30_000);
    const runId = nextRun++;
    const answer = await deliver(server.url, runCompleted(runId, "failure"));
    assert.equal(answer.status, 201, answer.body.reason);
    assert.equal(gh.performed(runId), 1);
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr.join(""));
    assert.ok(server.logs().some((l) => l.msg === "stopped"));
    assert.equal(gh.listCalls(repo).length, 1, "no sweep started after the signal");
  });

  it("job-rerunner sweep: one sweep with the server's environment and store, a summary, exit 0; then an idle sweep is one 304", { timeout: 120_000 }, async () => {
    const repo = repoName();
    const runId = nextRun++;
    gh.addRuns(`${OWNER}/${repo}`, [{ id: runId, createdAt: ago(30 * 60_000), updatedAt: ago(60_000) }]);
    const shared = env({ STORE: `sqlite:${join(dir, "once.sqlite")}`, SWEEP_REPOS: `${OWNER}/${repo}` });
    const first = await sweepOnce(shared, dir);
    assert.equal(first.code, 0, first.stderr.join(""));
    assert.match(first.text, /job-rerunner sweep: 1 repository, 2 requests \(0 answered 304\), 1 run examined, 1 rerun made, 0 errors/);
    assert.match(first.text, /pending reruns: 0 waiting/);
    assert.ok(!first.logs().some((l) => l.msg === "sweep"), "the summary is printed once, for people, not logged again as JSON");
    assert.equal(gh.performed(runId), 1);
    // The rerun changed the listing once (the run is queued now); after that, the sweep is idle.
    assert.equal((await sweepOnce(shared, dir)).code, 0);
    const idle = await sweepOnce(shared, dir);
    assert.equal(idle.code, 0, idle.stderr.join(""));
    assert.match(idle.text, /1 repository, 1 request \(1 answered 304\), 0 runs examined, 0 reruns made, 0 errors/);
    const last = gh.listCalls(`${OWNER}/${repo}`).at(-1);
    assert.equal(typeof last?.headers["if-none-match"], "string");
    assert.equal(gh.performed(runId), 1);
  });

  it("job-rerunner sweep in App mode: reads the App's delivery log and has GitHub redeliver a lost failure to the server, exit 0; a refused JWT exits 1", { timeout: 120_000 }, async () => {
    const keys = generateAppKeys();
    const app = await startFakeGitHub({ app: { id: 7777, publicKey: keys.publicKey, installations: { 71: OWNER } } });
    try {
      const appEnv = {
        GITHUB_SIGN_KEY: SECRET,
        GITHUB_APP_ID: "7777",
        GITHUB_APP_PRIVATE_KEY: keys.privateKey.replace(/\n/g, "\\n"),
        GITHUB_API_URL: app.url,
        STORE: `sqlite:${join(dir, "app-once.sqlite")}`,
      };
      // The server only answers deliveries here: the one-shot sweep is what recovers.
      const server = await serve({ ...appEnv, GITHUB_TOKEN: "", SWEEP_DELIVERIES: "false" });
      app.hooks!.target(server.url, SECRET);
      const runId = nextRun++;
      const payload = workflowRunPayload({ runId, action: "completed", conclusion: "failure", owner: OWNER, repo: "octo-repo", installationId: 71 });
      const lost = app.hooks!.record({ event: "workflow_run", payload, statusCode: 502, deliveredAt: Date.now() - 10 * 60_000 });
      const once = await sweepOnce(appEnv, dir);
      assert.equal(once.code, 0, once.stderr.join("") + once.text);
      assert.match(once.text, /delivery log: 1 delivery read \(1 page\), 1 lost, 1 redelivered/);
      await app.hooks!.settled();
      assert.equal(app.hooks!.redeliveryRequests(lost.guid), 1);
      assert.equal(app.performed(runId), 1);
      assert.equal(app.listCalls().length, 0, "no repository listed");

      const wrongKey = generateAppKeys();
      const refused = await sweepOnce({ ...appEnv, GITHUB_APP_PRIVATE_KEY: wrongKey.privateKey.replace(/\n/g, "\\n") }, dir);
      assert.equal(refused.code, 1, refused.text);
      assert.match(refused.stderr.join(""), /GitHub refused the App's JWT on its delivery log \(401\)/);
      assert.ok(!(refused.stderr.join("") + refused.text).includes("PRIVATE KEY"), "the key is never printed");
    } finally {
      await app.close();
    }
  });

  it("job-rerunner sweep: non-zero with one clear line on bad configuration or when GitHub cannot be reached", { timeout: 120_000 }, async () => {
    const bad = await sweepOnce(env({ STORE: "memory", SWEEP_REPOS: "not a repository" }), dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr.join(""), /^job-rerunner: SWEEP_REPOS must be comma-separated owner\/name pairs/);
    assert.doesNotMatch(bad.stderr.join(""), /\n\s+at /, "no stack trace");
    const lookback = await sweepOnce(env({ STORE: "memory", SWEEP_REPOS: "o/r", SWEEP_LOOKBACK_H: "721" }), dir);
    assert.equal(lookback.code, 1);
    assert.match(lookback.stderr.join(""), /SWEEP_LOOKBACK_H must be a whole number from 1 to 720/);
    const closed = await startFakeGitHub();
    const deadUrl = closed.url;
    await closed.close();
    const unreachable = await sweepOnce(env({ STORE: "memory", SWEEP_REPOS: "o/r,o/s", GITHUB_API_URL: deadUrl }), dir);
    assert.equal(unreachable.code, 2, unreachable.text);
    assert.match(unreachable.stderr.join(""), new RegExp(`GitHub could not be reached at ${deadUrl.replace(/\./g, "\\.")}`));
    assert.doesNotMatch(unreachable.text + unreachable.stderr.join(""), new RegExp(TOKEN), "the token is never printed");
    const everything = unreachable.text + unreachable.stderr.join("");
    assert.equal(everything.split("o/r: page 1: no answer from GitHub").length - 1, 1, `the problem is printed once:\n${everything}`);
    // A repository it cannot read is in the summary; the run still exits 0.
    const missing = await sweepOnce(env({ STORE: "memory", SWEEP_REPOS: `${OWNER}/no-such-repo` }), dir);
    assert.equal(missing.code, 0, missing.stderr.join(""));
    assert.match(missing.text, /1 error/);
    assert.match(missing.text, /no-such-repo: skipped: 404/);
  });
});

describe("npm start and npm run sweep", () => {
  let gh: FakeGitHub;
  let dir: string;
  before(async () => {
    gh = await startFakeGitHub();
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-npm-sweep-"));
  });
  after(async () => {
    await gh.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("npm start with a short interval re-runs only the failed run whose deliveries never came; filters, attempt limit and lookback hold", { timeout: 300_000 }, async () => {
    const repo = repoName();
    const fullName = `${OWNER}/${repo}`;
    const [lost, byWebhook, passed, otherBranch, byBot, lastAttempt, tooOld] = [nextRun++, nextRun++, nextRun++, nextRun++, nextRun++, nextRun++, nextRun++];
    const recent = { createdAt: ago(20 * 60_000), updatedAt: ago(2 * 60_000) };
    gh.addRuns(fullName, [
      { id: lost, ...recent },
      { id: passed, ...recent, conclusion: "success" },
      { id: otherBranch, ...recent, headBranch: "feature/x" },
      { id: byBot, ...recent, actor: "octocat", triggeringActor: "Renovate-Bot" },
      { id: lastAttempt, ...recent, runAttempt: 3 },
      { id: tooOld, createdAt: ago(3 * HOUR), updatedAt: ago(2 * HOUR) },
    ]);
    const npm = spawnLogged(
      "npm",
      ["start"],
      {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        ...{ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url },
        STORE: `sqlite:${join(dir, "npm.sqlite")}`,
        PORT: "0",
        SWEEP_REPOS: fullName,
        SWEEP_INTERVAL_S: "1",
        RUN_ATTEMPTS: "3",
        NO_RETRY_LIST: "renovate-bot",
      },
      ROOT,
    );
    let exited = false;
    void npm.exited.then(() => (exited = true));
    try {
      await waitFor(() => exited || npm.logs().some((l) => l.msg === "listening"), "the server to listen", 240_000);
      const port = npm.logs().find((l) => l.msg === "listening")?.port;
      assert.equal(typeof port, "number", npm.stderr.join(""));
      const url = `http://127.0.0.1:${String(port)}`;
      // A run the webhooks handle: re-run by its delivery, then listed (GitHub's listing lags) as the failed attempt 1.
      const answer = await deliver(url, runCompleted(byWebhook, "failure", repo));
      assert.equal(answer.status, 201, answer.body.reason);
      gh.addRuns(fullName, [{ id: byWebhook, ...recent }]);
      await waitFor(() => gh.performed(lost) === 1, "the sweep's rerun of the lost run", 60_000);
      const sweeps = () => npm.logs().filter((l) => l.msg === "sweep").length;
      const seen = sweeps();
      await waitFor(() => sweeps() >= seen + 2, "two more sweeps", 60_000);
      assert.equal(gh.performed(lost), 1);
      assert.equal(gh.rerunCalls(byWebhook), 1, "re-run by its webhook only");
      for (const runId of [passed, otherBranch, byBot, lastAttempt, tooOld]) assert.equal(gh.rerunCalls(runId), 0, `run ${runId}`);
      npm.process.kill("SIGTERM");
      assert.deepEqual(await npm.exited, { code: 0, signal: null }, npm.stderr.join(""));
    } finally {
      if (!exited) {
        npm.process.kill("SIGTERM");
        await npm.exited;
      }
    }
  });

  it("npm run sweep: one sweep from the repository root, summary printed, exit 0", { timeout: 300_000 }, async () => {
    const repo = repoName();
    const runId = nextRun++;
    gh.addRuns(`${OWNER}/${repo}`, [{ id: runId, createdAt: ago(60_000), updatedAt: ago(30_000) }]);
    const npm = spawnLogged(
      "npm",
      ["run", "--silent", "sweep"],
      {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        GITHUB_SIGN_KEY: SECRET,
        GITHUB_TOKEN: TOKEN,
        GITHUB_API_URL: gh.url,
        STORE: `sqlite:${join(dir, "npm-run.sqlite")}`,
        SWEEP_REPOS: `${OWNER}/${repo}`,
      },
      ROOT,
    );
    const exit = await npm.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, npm.stderr.join(""));
    assert.match(npm.stdout.join("\n"), /job-rerunner sweep: 1 repository, 2 requests \(0 answered 304\), 1 run examined, 1 rerun made, 0 errors/);
    assert.equal(gh.performed(runId), 1);
  });
});
