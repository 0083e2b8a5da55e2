import { generateKeyPairSync } from "node:crypto";
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createReconciler, createRerunner, MemoryStore, recordKey, sweepConfigFromEnv, warnAboutCredentials, type LogEntry, type Rerunner } from "@job-rerunner/core";
import { createInstallationTokens } from "../src/github/app/installation-tokens.js";
import { createPendingDriver } from "../src/engine/reconcile/pending-driver.js";
import { generateAppKeys, startFakeGitHub, signedDelivery, workflowRunPayload, type FakeGitHub, type RunShape } from "@job-rerunner/testing";

const SECRET = "app-test-secret";
const APP_ID = 424242;
// GitHub hands out App keys as PKCS#1 PEM.
const keys = generateAppKeys();
let nextRun = 90_000;

function failedRun(shape: Omit<RunShape, "runId"> & { runId?: number }) {
  const runId = shape.runId ?? nextRun++;
  return { runId, delivery: signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...shape, runId, action: "completed", conclusion: "failure" })) };
}

function appEnv(gh: FakeGitHub, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_SIGN_KEY: SECRET,
    GITHUB_APP_ID: String(APP_ID),
    // As a secrets manager stores it: one line, `\n` escapes.
    GITHUB_APP_PRIVATE_KEY: keys.privateKey.replace(/\n/g, "\\n"),
    GITHUB_API_URL: gh.url,
    ...extra,
  };
}

describe("GitHub App mode against the stand-in", () => {
  let gh: FakeGitHub;
  let offset = 0;
  const clock = (): number => Date.now() + offset;
  let logs: LogEntry[];

  function rerunner(extra: Record<string, string> = {}): Rerunner {
    logs = [];
    return createRerunner({ config: configFromEnv(appEnv(gh, extra)), store: new MemoryStore(), clock, logger: (e) => logs.push(e) });
  }

  before(async () => {
    gh = await startFakeGitHub({
      app: { id: APP_ID, publicKey: keys.publicKey, clock, installations: { 11: "octo-org", 22: "other-org", 33: "burst-org", 44: "renew-org", 55: "bad-org" } },
    });
  });
  after(async () => {
    await gh.close();
  });

  it("the rerun call carries the installation token of the delivery's installation", async () => {
    const engine = rerunner();
    const { runId, delivery } = failedRun({ installationId: 11 });
    const response = await engine.handle(delivery);
    assert.equal(response.status, 201, response.body.reason);
    assert.equal(gh.performed(runId), 1);
    const post = gh.calls.find((c) => c.method === "POST" && c.path.endsWith(`/runs/${runId}/rerun-failed-jobs`))!;
    assert.match(post.token ?? "", /^ghs_/);
    assert.equal(gh.app!.installationOf(post.token), 11);
    const tokenCall = gh.calls.find((c) => c.path === "/app/installations/11/access_tokens")!;
    assert.equal(tokenCall.method, "POST");
    assert.equal(tokenCall.token?.split(".").length, 3, "the token request carries the App's JWT");
    assert.ok(!logs.some((e) => JSON.stringify(e).includes("PRIVATE KEY")), "the key is never logged");
  });

  it("the pending driver acts with the installation a delivery of the run named (the record keeps it)", async () => {
    const store = new MemoryStore();
    const config = configFromEnv(appEnv(gh, { DEADLINE_MS: "1000" }));
    const engine = createRerunner({ config, store, clock, logger: () => {} });
    gh.rerun("server-error", "ok");
    const { runId, delivery } = failedRun({ installationId: 11, owner: "octo-org", repo: "pending", repoId: 1103 });
    const first = await engine.handle(delivery);
    assert.equal(first.status, 502, first.body.reason);
    const record = (await store.get(recordKey(1103, runId)))!.record;
    assert.equal(record.installationId, 11);
    offset += config.leaseMs + 1000;
    const driven = await createPendingDriver({ rerunner: engine, store, logger: () => {}, clock }).drive();
    assert.equal(driven.rerunsMade, 1, JSON.stringify(driven));
    assert.equal(gh.performed(runId), 1);
    const posts = gh.calls.filter((c) => c.method === "POST" && c.path.endsWith(`/runs/${runId}/rerun-failed-jobs`));
    assert.equal(gh.app!.installationOf(posts.at(-1)!.token), 11, "the driver's call carries installation 11's token");
    offset = 0;
    gh.rerun("ok");
  });

  it("a sweep lists each repository with its installation's token and re-runs with it; a repository without the App is reported", async () => {
    const store = new MemoryStore();
    const config = configFromEnv(appEnv(gh));
    const engine = createRerunner({ config, store, clock, logger: () => {} });
    const runId = nextRun++;
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    gh.addRuns("other-org/swept", [{ id: runId, repoId: 2204, createdAt: minutesAgo(10), updatedAt: minutesAgo(1), conclusion: "failure" }]);
    gh.addRuns("stranger/elsewhere", []);
    const sweep = sweepConfigFromEnv({ SWEEP_REPOS: "other-org/swept,stranger/elsewhere" });
    const summary = await createReconciler({ rerunner: engine, store, sweep, logger: () => {}, clock }).sweep();
    assert.ok(summary);
    assert.equal(summary.rerunsMade, 1, summary.problems.join("\n"));
    const list = gh.calls.find((c) => c.path === "/repos/other-org/swept/actions/runs")!;
    assert.equal(gh.app!.installationOf(list.token), 22, "listed with installation 22's token");
    const post = gh.calls.find((c) => c.method === "POST" && c.path.endsWith(`/runs/${runId}/rerun-failed-jobs`))!;
    assert.equal(gh.app!.installationOf(post.token), 22, "re-run with installation 22's token");
    assert.ok(summary.problems.some((p) => /stranger\/elsewhere.*not installed/.test(p)), summary.problems.join("\n"));
    assert.equal((await store.get(recordKey(2204, runId)))?.record.installationId, 22);
  });

  it("the start-up check asks GET /app as the App: quiet with the right key, a warning naming the App with a wrong one", async () => {
    const good: LogEntry[] = [];
    const ok = await warnAboutCredentials({ app: { appId: String(APP_ID), privateKey: keys.privateKey }, baseUrl: gh.url }, (e) => good.push(e));
    assert.equal(ok.kind, "ok");
    assert.ok(!good.some((e) => e.level === "warn"));
    const other = generateAppKeys();
    const bad: LogEntry[] = [];
    const refused = await warnAboutCredentials({ app: { appId: String(APP_ID), privateKey: other.privateKey }, baseUrl: gh.url }, (e) => bad.push(e));
    assert.equal(refused.kind, "problem");
    assert.match(String(bad[0]?.msg), new RegExp(`GitHub App ${APP_ID} was refused by GitHub \\(401`));
    assert.ok(!JSON.stringify(bad).includes("PRIVATE KEY"), "the key is never logged");
  });

  it("the start-up check reads the App's permissions: without actions: write a warning naming it and the App, never the key", async () => {
    const app = { app: { appId: String(APP_ID), privateKey: keys.privateKey }, baseUrl: gh.url };
    try {
      gh.app!.setPermissions({ actions: "read", checks: "read", contents: "read", metadata: "read" });
      const logs: LogEntry[] = [];
      const result = await warnAboutCredentials(app, (e) => logs.push(e));
      assert.equal(result.kind, "problem");
      const warnings = logs.filter((e) => e.level === "warn").map((e) => String(e.msg));
      assert.equal(warnings.length, 1, JSON.stringify(logs));
      assert.match(warnings[0]!, new RegExp(`^credential check: the GitHub App job-rerunner-test \\(id ${APP_ID}\\) has actions: read, not actions: write: it cannot re-run`));
      assert.ok(!JSON.stringify(logs).includes("PRIVATE KEY"), "the key is never logged");

      // Lesser problems: one more warning line each, after the grave one.
      gh.app!.setPermissions({ metadata: "read" });
      const more: LogEntry[] = [];
      await warnAboutCredentials(app, (e) => more.push(e));
      const lines = more.filter((e) => e.level === "warn").map((e) => String(e.msg));
      assert.equal(lines.length, 3, JSON.stringify(more));
      assert.match(lines[0]!, /has no actions permission, not actions: write/);
      assert.match(lines[1]!, /has no checks permission, not checks: read: re-runs work, but the rerun policy/);
      assert.match(lines[2]!, /has no contents permission, not contents: read: re-runs work, but a repository's \.github\/job-rerunner\.yml/);
    } finally {
      gh.app!.setPermissions();
    }
  });

  it("the start-up check is quiet for an App with what app.yml asks (or more)", async () => {
    const app = { app: { appId: String(APP_ID), privateKey: keys.privateKey }, baseUrl: gh.url };
    try {
      for (const permissions of [undefined, { actions: "write", checks: "write", contents: "write", metadata: "read", issues: "write" }]) {
        gh.app!.setPermissions(permissions);
        const logs: LogEntry[] = [];
        const result = await warnAboutCredentials(app, (e) => logs.push(e));
        assert.equal(result.kind, "ok", JSON.stringify(result));
        assert.ok(!logs.some((e) => e.level === "warn"), JSON.stringify(logs));
      }
    } finally {
      gh.app!.setPermissions();
    }
  });

  it("two installations get two tokens, each used for its own repositories", async () => {
    const engine = rerunner();
    const a = failedRun({ installationId: 11, owner: "octo-org", repo: "one", repoId: 1101 });
    const b = failedRun({ installationId: 22, owner: "other-org", repo: "two", repoId: 2202 });
    const [ra, rb] = await Promise.all([engine.handle(a.delivery), engine.handle(b.delivery)]);
    assert.equal(ra.status, 201, ra.body.reason);
    assert.equal(rb.status, 201, rb.body.reason);
    const tokenOf = (runId: number) => gh.calls.find((c) => c.method === "POST" && c.path.endsWith(`/runs/${runId}/rerun-failed-jobs`))!.token;
    assert.equal(gh.app!.installationOf(tokenOf(a.runId)), 11);
    assert.equal(gh.app!.installationOf(tokenOf(b.runId)), 22);
    assert.notEqual(tokenOf(a.runId), tokenOf(b.runId));
  });

  it("50 deliveries in a burst for one installation ask for one token (and read each configuration file once)", async () => {
    const engine = rerunner();
    const before = gh.app!.tokenRequests(33);
    const runs = Array.from({ length: 50 }, () => failedRun({ installationId: 33, owner: "burst-org", repo: "busy", repoId: 3303 }));
    const responses = await Promise.all(runs.map((r) => engine.handle(r.delivery)));
    for (const r of responses) assert.equal(r.status, 201, r.body.reason);
    assert.equal(gh.app!.tokenRequests(33) - before, 1);
    for (const r of runs) assert.equal(gh.performed(r.runId), 1);
    // Neither file exists: one 404 each, cached for the other 49 deliveries.
    assert.equal(gh.files.requests("burst-org", "busy", ".github/job-rerunner.yml").total, 1);
    assert.equal(gh.files.requests("burst-org", ".github", ".github/job-rerunner.yml").total, 1);
  });

  it("a token is reused while fresh and renewed shortly before it expires", async () => {
    const engine = rerunner({ REPO_CONFIG: "false" });
    const tokens = () => gh.calls.filter((c) => c.method === "POST" && c.path.includes("/rerun-failed-jobs") && gh.app!.installationOf(c.token) === 44).map((c) => c.token);
    const start = gh.app!.tokenRequests(44);
    try {
      assert.equal((await engine.handle(failedRun({ installationId: 44, owner: "renew-org" }).delivery)).status, 201);
      offset += 50 * 60_000; // 50 of its 60 minutes: still fresh
      assert.equal((await engine.handle(failedRun({ installationId: 44, owner: "renew-org" }).delivery)).status, 201);
      assert.equal(gh.app!.tokenRequests(44) - start, 1);
      offset += 20 * 60_000; // past expires_at: the stand-in would answer 401 to the old token
      const renewed = await engine.handle(failedRun({ installationId: 44, owner: "renew-org" }).delivery);
      assert.equal(renewed.status, 201, renewed.body.reason);
      assert.equal(gh.app!.tokenRequests(44) - start, 2);
      const used = tokens();
      assert.equal(used.length, 3);
      assert.equal(used[0], used[1]);
      assert.notEqual(used[1], used[2]);
    } finally {
      offset = 0;
    }
  });

  it("a delivery without an installation answers 204 with a reason and calls nothing", async () => {
    const engine = rerunner();
    const callsBefore = gh.calls.length;
    const response = await engine.handle(failedRun({}).delivery);
    assert.equal(response.status, 204);
    assert.match(response.body.reason, /no installation/);
    assert.equal(gh.calls.length, callsBefore);
  });

  it("ALLOWED_OWNERS refuses a stranger's delivery before any call (no token, no file read)", async () => {
    const engine = rerunner({ ALLOWED_OWNERS: "Octo-Org" });
    const callsBefore = gh.calls.length;
    const stranger = await engine.handle(failedRun({ installationId: 22, owner: "other-org" }).delivery);
    assert.equal(stranger.status, 204);
    assert.match(stranger.body.reason, /owner not allowed/);
    assert.equal(gh.calls.length, callsBefore);
    const friend = await engine.handle(failedRun({ installationId: 11, owner: "octo-org" }).delivery);
    assert.equal(friend.status, 201, friend.body.reason);
  });

  it("a key that is not the App's gets no token: the rerun stays pending with a reason, the key never shown", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    logs = [];
    const engine = createRerunner({
      config: configFromEnv({ ...appEnv(gh), GITHUB_APP_PRIVATE_KEY: other.privateKey }),
      store: new MemoryStore(),
      clock,
      logger: (e) => logs.push(e),
    });
    const { runId, delivery } = failedRun({ installationId: 55, owner: "bad-org" });
    const response = await engine.handle(delivery);
    assert.equal(response.status, 502, response.body.reason);
    assert.match(response.body.reason, /could not get a token for installation 55/);
    assert.match(response.body.reason, /401/);
    assert.equal(gh.performed(runId), 0);
    const seen = JSON.stringify(logs) + response.body.reason;
    assert.ok(!seen.includes("PRIVATE KEY") && !seen.includes(other.privateKey.split("\n")[1]!));
  });
});

describe("GitHub Enterprise Server: GITHUB_API_URL with /api/v3", () => {
  let gh: FakeGitHub;
  before(async () => {
    gh = await startFakeGitHub({ prefix: "/api/v3", app: { id: APP_ID, publicKey: keys.publicKey } });
  });
  after(async () => {
    await gh.close();
  });

  it("App mode asks for tokens and re-runs under the prefix", async () => {
    assert.match(gh.url, /\/api\/v3$/);
    const engine = createRerunner({ config: configFromEnv(appEnv(gh)), store: new MemoryStore(), logger: () => {} });
    const { runId, delivery } = failedRun({ installationId: 77 });
    const response = await engine.handle(delivery);
    assert.equal(response.status, 201, response.body.reason);
    assert.ok(gh.calls.some((c) => c.method === "POST" && c.path === "/api/v3/app/installations/77/access_tokens"));
    assert.ok(gh.calls.some((c) => c.method === "POST" && c.path === `/api/v3/repos/octo-org/octo-repo/actions/runs/${runId}/rerun-failed-jobs`));
    assert.ok(gh.calls.some((c) => c.path === "/api/v3/repos/octo-org/octo-repo/contents/.github%2Fjob-rerunner.yml" || c.path === "/api/v3/repos/octo-org/octo-repo/contents/.github/job-rerunner.yml"));
    assert.ok(!gh.calls.some((c) => !c.path.startsWith("/api/v3/")), "every call under /api/v3");
  });
});

describe("GitHub Enterprise Server in token mode", () => {
  let gh: FakeGitHub;
  before(async () => {
    gh = await startFakeGitHub({ prefix: "/api/v3" });
  });
  after(async () => {
    await gh.close();
  });

  it("re-runs under the prefix with the token", async () => {
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_ghes", GITHUB_API_URL: `${gh.url}/` });
    const engine = createRerunner({ config, store: new MemoryStore(), logger: () => {} });
    const { runId, delivery } = failedRun({});
    const response = await engine.handle(delivery);
    assert.equal(response.status, 201, response.body.reason);
    const post = gh.calls.find((c) => c.method === "POST")!;
    assert.equal(post.path, `/api/v3/repos/octo-org/octo-repo/actions/runs/${runId}/rerun-failed-jobs`);
    assert.equal(post.token, "ghp_ghes");
  });
});

describe("installation tokens", () => {
  it("an installation dropped from a full cache while its token is issued still gets it", async () => {
    const releases: (() => void)[] = [];
    const tokens = createInstallationTokens({
      maxInstallations: 1,
      issue: async (id) => {
        await new Promise<void>((resolve) => releases.push(resolve));
        return { token: `t${id}`, expiresAt: Date.now() + 3_600_000 };
      },
    });
    const both = Promise.all([tokens.get(1), tokens.get(2)]);
    await new Promise((r) => setImmediate(r));
    for (const release of releases.splice(0)) release();
    assert.deepEqual(await both, ["t1", "t2"]);
  });

  it("one request in flight per installation; a failure is not cached; renewed before expiry", async () => {
    let now = 1_000_000;
    const issued: number[] = [];
    let fail = false;
    const releases: (() => void)[] = [];
    const tokens = createInstallationTokens({
      clock: () => now,
      refreshBeforeMs: 60_000,
      issue: async (id) => {
        issued.push(id);
        const serial = issued.length;
        await new Promise<void>((resolve) => releases.push(resolve));
        if (fail) throw new Error("GitHub said no");
        return { token: `t${id}-${serial}`, expiresAt: now + 3_600_000 };
      },
    });
    const waiting = [tokens.get(1), tokens.get(1), tokens.get(1), tokens.get(2)];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(issued, [1, 2]);
    for (const release of releases.splice(0)) release();
    assert.deepEqual(await Promise.all(waiting), ["t1-1", "t1-1", "t1-1", "t2-2"]);
    assert.equal(await tokens.get(1), "t1-1");
    now += 3_600_000 - 60_000; // within the refresh margin
    fail = true;
    const failing = tokens.get(1);
    await new Promise((r) => setImmediate(r));
    releases.splice(0).forEach((release) => release());
    await assert.rejects(failing, /GitHub said no/);
    fail = false;
    const again = tokens.get(1);
    await new Promise((r) => setImmediate(r));
    releases.splice(0).forEach((release) => release());
    assert.equal(await again, "t1-4");
    assert.equal(tokens.requests, 4);
  });
});
