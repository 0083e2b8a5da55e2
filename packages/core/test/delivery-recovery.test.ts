// Recovering lost deliveries from the GitHub App's delivery log: the pure judgement of a GUID's
// attempts, then whole passes against the stand-in GitHub (its log served with cursor
// pagination, a redelivery sent again, signed, over a real socket to a server around the engine).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { configFromEnv, createReconciler, createRerunner, MemoryStore, toHttpResponse, type LogEntry, type Reconciler, type Store } from "@job-rerunner/core";
import { generateAppKeys, startFakeGitHub, workflowJobPayload, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";
import { judgeDeliveries, MARK_SETTLE_MS, nextMark, readLoggedDelivery, redeliveryDue, REDELIVERY_SHOWS_WITHIN_MS, type LoggedDelivery } from "../src/domain/delivery-log.js";
import { createDeliveryRecovery } from "../src/engine/reconcile/delivery-recovery.js";
import { createDeliveryLog } from "../src/github/app/delivery-log.js";
import { createGitHubApp } from "../src/github/app/github-app.js";
import { nextLinkParam } from "../src/github/links.js";

const SECRET = "delivery-log-secret";
const APP_ID = 515151;
const OWNER = "octo-org";
const INSTALLATION = 11;
const keys = generateAppKeys();
const MINUTE = 60_000;
let nextRun = 7_100_000;

const attempt = (over: Partial<LoggedDelivery> & { id: number }): LoggedDelivery => ({
  guid: `g-${over.id}`,
  deliveredAt: Date.now(),
  redelivery: false,
  statusCode: 0,
  event: "workflow_run",
  ...over,
});

describe("judging the delivery log (pure)", () => {
  it("reads GitHub's entry shape and skips what is not one", () => {
    const entry = readLoggedDelivery({
      id: 12, guid: "0b989ba4-242f-11e5-81e1-c7b6966d2516", delivered_at: "2019-06-03T00:57:16Z", redelivery: false, duration: 0.27,
      status: "OK", status_code: 200, event: "workflow_run", action: "completed", installation_id: 123, repository_id: 456,
    });
    assert.equal(entry.kind, "delivery");
    assert.deepEqual(entry.kind === "delivery" ? [entry.id, entry.statusCode, entry.deliveredAt] : [], [12, 200, Date.parse("2019-06-03T00:57:16Z")]);
    for (const bad of [null, [], { id: "12" }, { id: 1, guid: "" }, { id: 1, guid: "g", delivered_at: "yesterday" }, { id: 1, guid: "g", delivered_at: "2019-06-03T00:57:16Z", status_code: "200", event: "x" }]) {
      assert.equal(readLoggedDelivery(bad).kind, "skipped", JSON.stringify(bad));
    }
  });

  it("a GUID is lost only when no attempt got a 2xx and the latest got no answer or a 5xx, for workflow events inside the window", () => {
    const floor = Date.now() - 60 * MINUTE;
    const judged = judgeDeliveries(
      [
        attempt({ id: 1, guid: "lost-0", statusCode: 0 }),
        attempt({ id: 2, guid: "lost-502", statusCode: 502, event: "workflow_job" }),
        attempt({ id: 3, guid: "answered", statusCode: 202 }),
        attempt({ id: 4, guid: "saved", statusCode: 503 }),
        attempt({ id: 9, guid: "saved", statusCode: 200, redelivery: true }),
        attempt({ id: 5, guid: "refused", statusCode: 403 }),
        attempt({ id: 6, guid: "refused-after-loss", statusCode: 502 }),
        attempt({ id: 10, guid: "refused-after-loss", statusCode: 404, redelivery: true }),
        attempt({ id: 7, guid: "push", statusCode: 502, event: "push" }),
        attempt({ id: 8, guid: "old", statusCode: 0, deliveredAt: floor - 1 }),
      ],
      floor,
    );
    const kinds = Object.fromEntries([...judged].map(([guid, state]) => [guid, state.kind]));
    assert.deepEqual(kinds, {
      "lost-0": "lost", "lost-502": "lost", answered: "answered", saved: "answered", refused: "refused",
      "refused-after-loss": "refused", push: "other-event", old: "too-old",
    });
  });

  it("a lost GUID is due until redelivered three times, and waits while its redelivery is not in the log yet", () => {
    const now = Date.now();
    const latest = attempt({ id: 50 });
    assert.deepEqual(redeliveryDue(latest, undefined, now), { kind: "due", next: { count: 1, attemptId: 50, at: now } });
    assert.equal(redeliveryDue(latest, { count: 1, attemptId: 50, at: now - MINUTE }, now).kind, "in-flight");
    // Never logged after the wait: asked again (a process that died between its claim and the request).
    assert.equal(redeliveryDue(latest, { count: 1, attemptId: 50, at: now - REDELIVERY_SHOWS_WITHIN_MS }, now).kind, "due");
    assert.equal(redeliveryDue(attempt({ id: 51 }), { count: 2, attemptId: 50, at: now }, now).kind, "due");
    assert.equal(redeliveryDue(attempt({ id: 52 }), { count: 3, attemptId: 51, at: now }, now).kind, "cap-reached");
  });
});

describe("where the mark moves, and the next page (pure)", () => {
  it("the mark stops below the youngest minutes and below the oldest GUID still open, and never moves back", () => {
    const now = Date.now();
    const read = [attempt({ id: 10, deliveredAt: now - 30 * MINUTE }), attempt({ id: 11, deliveredAt: now - 20 * MINUTE }), attempt({ id: 12, deliveredAt: now - MARK_SETTLE_MS / 2 }), attempt({ id: 13, deliveredAt: now - 20 * MINUTE })];
    assert.equal(nextMark(read, null, Number.POSITIVE_INFINITY, now), 11, "not past 12, listed within the settling time");
    assert.equal(nextMark(read, null, 11, now), 10, "not past the open GUID's attempt 11");
    assert.equal(nextMark(read, 11, Number.POSITIVE_INFINITY, now), null);
    assert.equal(nextMark([], 5, Number.POSITIVE_INFINITY, now), null);
  });

  it("reads the cursor of GitHub's next link, and tells a next link without one from none", () => {
    const link = '<https://api.github.com/app/hook/deliveries?per_page=100&cursor=v1_12077215967>; rel="next"';
    assert.deepEqual(nextLinkParam(link, "cursor"), { kind: "value", value: "v1_12077215967" });
    assert.deepEqual(nextLinkParam('<https://api.github.com/app/hook/deliveries?per_page=100>; rel="next"', "cursor"), { kind: "missing" });
    assert.deepEqual(nextLinkParam('<https://api.github.com/app/hook/deliveries?cursor=v1_1>; rel="prev"', "cursor"), { kind: "none" });
    assert.deepEqual(nextLinkParam(undefined, "cursor"), { kind: "none" });
  });
});

describe("recovery passes over the stand-in App's delivery log", () => {
  let gh: FakeGitHub | undefined;
  let server: Server;
  let store: Store;
  let url: string;
  let offset = 0;
  const clock = (): number => Date.now() + offset;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void engine.handle({ headers: req.headers, rawBody: Buffer.concat(chunks) }).then((answer) => {
          const http = toHttpResponse(answer);
          res.writeHead(http.status, http.headers);
          res.end(http.body);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    await gh?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const env = (github: FakeGitHub, extra: Record<string, string> = {}): Record<string, string> => ({
    GITHUB_SIGN_KEY: SECRET,
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_APP_PRIVATE_KEY: keys.privateKey,
    GITHUB_API_URL: github.url,
    ...extra,
  });
  // The engine behind the socket; each test makes its own (and its store) before it delivers.
  let engine = createRerunner({ config: configFromEnv({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true" }), store: new MemoryStore(), logger: () => {}, reconciledElsewhere: true });
  let logs: LogEntry[] = [];
  /** A new stand-in GitHub (its own log), store and engine for each test. */
  async function fresh(extra: Record<string, string> = {}): Promise<{ gh: FakeGitHub; reconciler: Reconciler }> {
    await gh?.close();
    gh = await startFakeGitHub({ app: { id: APP_ID, publicKey: keys.publicKey, installations: { [INSTALLATION]: OWNER } } });
    offset = 0;
    store = new MemoryStore({ now: clock });
    logs = [];
    const logger = (e: LogEntry): void => void logs.push(e);
    engine = createRerunner({ config: configFromEnv(env(gh, extra)), store, logger: () => {}, reconciledElsewhere: true });
    gh.hooks!.target(url, SECRET);
    return { gh, reconciler: createReconciler({ rerunner: engine, store, logger, clock }) };
  }
  const runCompleted = (runId: number, conclusion = "failure") =>
    workflowRunPayload({ runId, action: "completed", conclusion, owner: OWNER, repo: "api", repoId: 3300, installationId: INSTALLATION });
  const jobQueued = (runId: number) => workflowJobPayload({ runId, jobId: runId * 10, action: "queued", owner: OWNER, repo: "api", repoId: 3300, installationId: INSTALLATION });

  it("redelivers each lost workflow GUID once, reading page after page back to the lookback; answered, refused, old and push deliveries are left alone; an idle pass is one request", { timeout: 60_000 }, async () => {
    const { gh, reconciler } = await fresh();
    const hooks = gh.hooks!;
    const now = Date.now();
    // Lost, but before SWEEP_LOOKBACK_H (1 h): the oldest entry of the log, as ids grow with time.
    const old = nextRun++;
    const oldEntry = hooks.record({ event: "workflow_run", payload: runCompleted(old), statusCode: 0, deliveredAt: now - 2 * 60 * MINUTE });
    // 230 answered deliveries over the last 50 minutes: three pages of the log.
    for (let i = 0; i < 230; i++) hooks.record({ event: "workflow_job", payload: jobQueued(nextRun++), statusCode: 202, deliveredAt: now - 50 * MINUTE + i * 10_000 });
    const lost = [0, 502, 503].map((statusCode) => {
      const runId = nextRun++;
      return { runId, entry: hooks.record({ event: "workflow_run", payload: runCompleted(runId), statusCode, deliveredAt: now - 30 * MINUTE }) };
    });
    const answered = nextRun++;
    hooks.record({ event: "workflow_run", payload: runCompleted(answered), statusCode: 202, deliveredAt: now - 20 * MINUTE });
    const saved = nextRun++;
    const first = hooks.record({ event: "workflow_run", payload: runCompleted(saved), statusCode: 502, deliveredAt: now - 25 * MINUTE });
    hooks.record({ event: "workflow_run", payload: runCompleted(saved), statusCode: 201, guid: first.guid, redelivery: true, deliveredAt: now - 24 * MINUTE });
    const refused = nextRun++;
    hooks.record({ event: "workflow_run", payload: runCompleted(refused), statusCode: 403, deliveredAt: now - 20 * MINUTE });
    const push = hooks.record({ event: "push", payload: { ref: "refs/heads/main", repository: { id: 3300 } }, statusCode: 502, deliveredAt: now - 15 * MINUTE });

    const listsBefore = hooks.listRequests();
    const result = await reconciler.once();
    await hooks.settled();
    const pass = result.deliveries!;
    assert.equal(pass.redelivered, 3, JSON.stringify(pass));
    assert.equal(pass.lostFound, 3);
    assert.equal(pass.pages, 3);
    assert.equal(pass.requests, 6);
    assert.equal(pass.skipped.refused, 1);
    assert.equal(hooks.listRequests() - listsBefore, 3);
    for (const { runId, entry } of lost) {
      assert.equal(hooks.redeliveryRequests(entry.guid), 1);
      assert.equal(gh.performed(runId), 1, `run ${runId} re-run once`);
    }
    for (const runId of [answered, saved, refused, old]) assert.equal(gh.performed(runId), 0, `run ${runId} not re-run`);
    assert.equal(hooks.redeliveryRequests(push.guid), 0);
    assert.equal(hooks.redeliveryRequests(oldEntry.guid), 0, "older than SWEEP_LOOKBACK_H: left alone");
    assert.equal(gh.listCalls().length, 0, "no repository is listed");
    const line = logs.find((e) => e.msg === "sweep" && e.source === "delivery-log");
    assert.ok(line, "one sweep line for the pass");
    assert.match(String(line.summary), /3 lost, 3 redelivered/);

    // Idle: the redeliveries' own attempts (answered 201) are above the mark, on the first page.
    const idle = (await reconciler.once()).deliveries!;
    assert.equal(idle.requests, 1, JSON.stringify(idle));
    assert.equal(idle.redelivered, 0);
    assert.equal(hooks.redeliveryRequests(), 3);

    // A delivery lost while the server runs is recovered by the next pass.
    const later = nextRun++;
    const lostNow = await hooks.deliver("workflow_run", runCompleted(later), { lose: 502 });
    const next = (await reconciler.once()).deliveries!;
    await hooks.settled();
    assert.equal(next.redelivered, 1, JSON.stringify(next));
    assert.equal(hooks.redeliveryRequests(lostNow.guid), 1);
    assert.equal(gh.performed(later), 1);
  });

  it("a GUID whose redeliveries are lost too is asked again up to three times, then left alone", { timeout: 60_000 }, async () => {
    const { gh, reconciler } = await fresh();
    const hooks = gh.hooks!;
    const runId = nextRun++;
    const entry = hooks.record({ event: "workflow_run", payload: runCompleted(runId), statusCode: 503, deliveredAt: Date.now() - 10 * MINUTE });
    // The server is down: every redelivery gets no answer and is logged so.
    hooks.target(null, SECRET);
    for (let pass = 1; pass <= 4; pass++) {
      const summary = (await reconciler.once()).deliveries!;
      await hooks.settled();
      assert.equal(summary.redelivered, pass <= 3 ? 1 : 0, `pass ${pass}: ${JSON.stringify(summary)}`);
      if (pass === 4) assert.equal(summary.skipped.capReached, 1);
    }
    assert.equal(hooks.redeliveryRequests(entry.guid), 3);
    assert.equal(gh.performed(runId), 0);
  });

  it("a redelivery that got no answer or a 5xx counts and is awaited; asked again once its attempt has not shown in 10 minutes", { timeout: 60_000 }, async () => {
    const { gh, reconciler } = await fresh();
    const hooks = gh.hooks!;
    const failing = nextRun++;
    const dropped = nextRun++;
    const a = hooks.record({ event: "workflow_run", payload: runCompleted(failing), statusCode: 0, deliveredAt: Date.now() - 10 * MINUTE });
    const b = hooks.record({ event: "workflow_run", payload: runCompleted(dropped), statusCode: 0, deliveredAt: Date.now() - 9 * MINUTE });
    // GitHub answers 502 to the first (it may have queued it), accepts the second and never sends it.
    hooks.redeliver("server-error", "accept-and-drop", "ok");
    const first = (await reconciler.once()).deliveries!;
    assert.equal(first.redelivered, 2, JSON.stringify(first));
    assert.equal(first.errors, 1);
    const second = (await reconciler.once()).deliveries!;
    assert.deepEqual({ redelivered: second.redelivered, inFlight: second.skipped.inFlight }, { redelivered: 0, inFlight: 2 }, JSON.stringify(second));
    offset += REDELIVERY_SHOWS_WITHIN_MS;
    const later = (await reconciler.once()).deliveries!;
    await hooks.settled();
    assert.equal(later.redelivered, 2, JSON.stringify(later));
    assert.deepEqual([hooks.redeliveryRequests(a.guid), hooks.redeliveryRequests(b.guid)], [2, 2]);
    assert.deepEqual([gh.performed(failing), gh.performed(dropped)], [1, 1]);
    const done = (await reconciler.once()).deliveries!;
    assert.equal(done.lostFound, 0, JSON.stringify(done));
  });

  it("GitHub refusing the App's JWT on a redelivery stops the pass and counts nothing; the next pass redelivers it", { timeout: 60_000 }, async () => {
    const { gh, reconciler } = await fresh();
    const hooks = gh.hooks!;
    const runs = [nextRun++, nextRun++];
    const entries = runs.map((runId) => hooks.record({ event: "workflow_run", payload: runCompleted(runId), statusCode: 503, deliveredAt: Date.now() - 5 * MINUTE }));
    hooks.redeliver("bad-credentials", "ok");
    const refused = (await reconciler.once()).deliveries!;
    assert.deepEqual({ unauthorized: refused.unauthorized, redelivered: refused.redelivered, requests: refused.requests }, { unauthorized: true, redelivered: 0, requests: 2 }, JSON.stringify(refused));
    const next = (await reconciler.once()).deliveries!;
    await hooks.settled();
    assert.equal(next.redelivered, 2, JSON.stringify(next));
    assert.deepEqual(entries.map((e) => hooks.redeliveryRequests(e.guid)), [2, 1]);
    assert.deepEqual(runs.map((runId) => gh.performed(runId)), [1, 1]);
  });

  it("two instances whose pass leases overlap (the first's expired while it paced) redeliver each lost GUID once", { timeout: 60_000 }, async () => {
    const { gh } = await fresh();
    const hooks = gh.hooks!;
    const runs = [nextRun++, nextRun++, nextRun++];
    const entries = runs.map((runId) => hooks.record({ event: "workflow_run", payload: runCompleted(runId), statusCode: 502, deliveredAt: Date.now() - 5 * MINUTE }));
    const app = createGitHubApp({ app: { appId: String(APP_ID), privateKey: keys.privateKey }, baseUrl: gh.url });
    const log = createDeliveryLog({ jwt: () => app.jwt(), baseUrl: gh.url });
    const recovery = (holder: string, sleep?: (ms: number) => Promise<void>) =>
      createDeliveryRecovery({ log, store, logger: () => {}, lookbackMs: 3_600_000, dryRun: false, clock, holder, ...(sleep === undefined ? {} : { sleep }) });
    const second = recovery("second");
    let secondPass: Awaited<ReturnType<typeof second.recover>> | undefined;
    // The first waits out its lease while pacing its second redelivery, claimed already: the second instance passes meanwhile.
    const first = recovery("first", async () => {
      if (secondPass !== undefined) return;
      offset += 150_000;
      secondPass = await second.recover();
    });
    const firstPass = await first.recover();
    await hooks.settled();
    assert.ok(secondPass !== undefined);
    assert.equal(firstPass.redelivered + secondPass.redelivered, 3, JSON.stringify({ firstPass, secondPass }));
    assert.ok(secondPass.skipped.inFlight >= 1, "the GUID the first had claimed is left to it");
    assert.deepEqual(entries.map((e) => hooks.redeliveryRequests(e.guid)), [1, 1, 1]);
    assert.deepEqual(runs.map((runId) => gh.performed(runId)), [1, 1, 1]);
  });

  it("DRY_RUN reads the log, redelivers nothing and leaves the mark, so a real pass still recovers; SWEEP_DELIVERIES=false reads nothing", { timeout: 60_000 }, async () => {
    const dryRun = await fresh({ DRY_RUN: "true" });
    const runId = nextRun++;
    const entry = dryRun.gh.hooks!.record({ event: "workflow_run", payload: runCompleted(runId), statusCode: 0, deliveredAt: Date.now() - 10 * MINUTE });
    for (let pass = 0; pass < 2; pass++) {
      const dry = (await dryRun.reconciler.once()).deliveries!;
      assert.equal(dry.wouldRedeliver, 1, JSON.stringify(dry));
    }
    assert.equal(dryRun.gh.hooks!.redeliveryRequests(entry.guid), 0);
    engine = createRerunner({ config: configFromEnv(env(dryRun.gh)), store, logger: () => {}, reconciledElsewhere: true });
    const real = (await createReconciler({ rerunner: engine, store, logger: () => {} }).once()).deliveries!;
    await dryRun.gh.hooks!.settled();
    assert.equal(real.redelivered, 1, JSON.stringify(real));
    assert.equal(dryRun.gh.performed(runId), 1);

    const off = await fresh({ SWEEP_DELIVERIES: "false" });
    off.gh.hooks!.record({ event: "workflow_run", payload: runCompleted(nextRun++), statusCode: 0 });
    assert.equal((await off.reconciler.once()).deliveries, null);
    assert.equal(off.gh.hooks!.listRequests(), 0);
  });

  it("a log page that fails keeps the mark, and the next pass reads down to it again", { timeout: 60_000 }, async () => {
    const { gh, reconciler } = await fresh();
    const hooks = gh.hooks!;
    for (let i = 0; i < 20; i++) hooks.record({ event: "workflow_job", payload: jobQueued(nextRun++), statusCode: 202, deliveredAt: Date.now() - 40 * MINUTE });
    assert.equal((await reconciler.once()).deliveries!.pages, 1);
    // Lost after the mark, with more than a page above it; page 2 fails, then page 1 on the next pass.
    const runId = nextRun++;
    const entry = hooks.record({ event: "workflow_run", payload: runCompleted(runId), statusCode: 0, deliveredAt: Date.now() - 30 * MINUTE });
    for (let i = 0; i < 150; i++) hooks.record({ event: "workflow_job", payload: jobQueued(nextRun++), statusCode: 202, deliveredAt: Date.now() - 20 * MINUTE });
    hooks.failList(502, 1, 1);
    const failed = (await reconciler.once()).deliveries!;
    assert.deepEqual({ errors: failed.errors, redelivered: failed.redelivered, pages: failed.pages }, { errors: 1, redelivered: 0, pages: 1 }, JSON.stringify(failed));
    assert.equal(failed.unreachable, false);
    hooks.failList(0, 1);
    const silent = (await reconciler.once()).deliveries!;
    assert.equal(silent.unreachable, true, JSON.stringify(silent));
    const again = (await reconciler.once()).deliveries!;
    await hooks.settled();
    assert.equal(again.redelivered, 1, JSON.stringify(again));
    assert.equal(hooks.redeliveryRequests(entry.guid), 1);
    assert.equal(gh.performed(runId), 1);
  });

  it("rate limits: a 429 on page 2 or the hour's budget nearly used up on the only page stops the pass before any redelivery, and pauses every instance", { timeout: 60_000 }, async () => {
    // A lookback long enough for the hour the test moves its clock on.
    const { gh, reconciler } = await fresh({ SWEEP_LOOKBACK_H: "3" });
    const hooks = gh.hooks!;
    for (let i = 0; i < 150; i++) hooks.record({ event: "workflow_job", payload: jobQueued(nextRun++), statusCode: 202, deliveredAt: Date.now() - 20 * MINUTE });
    // Lost, on the first page: read before the 429 on page 2.
    const runId = nextRun++;
    const entry = hooks.record({ event: "workflow_run", payload: runCompleted(runId), statusCode: 0, deliveredAt: Date.now() - 10 * MINUTE });
    hooks.failList(429, 1, 1);
    const limited = (await reconciler.once()).deliveries!;
    assert.deepEqual({ lostFound: limited.lostFound, redelivered: limited.redelivered }, { lostFound: 1, redelivered: 0 }, JSON.stringify(limited));
    assert.ok(limited.pauseUntil !== null && limited.pauseUntil > clock());
    const other = createReconciler({ rerunner: engine, store, logger: () => {} });
    assert.equal((await other.once()).deliveries!.requests, 0, "another instance on the store waits too");
    offset += 2 * MINUTE;

    // 50 requests left in the hour: the page is read, nothing is redelivered, and the pause holds.
    hooks.rateLimitRemaining(50);
    try {
      const low = (await reconciler.once()).deliveries!;
      assert.deepEqual({ pages: low.pages, lostFound: low.lostFound, redelivered: low.redelivered }, { pages: 1, lostFound: 1, redelivered: 0 }, JSON.stringify(low));
      assert.ok(low.pauseUntil !== null && low.pauseUntil > clock());
      assert.equal((await other.once()).deliveries!.requests, 0);
    } finally {
      hooks.rateLimitRemaining(4999);
    }
    offset += 61 * MINUTE;
    const resumed = (await reconciler.once()).deliveries!;
    await hooks.settled();
    assert.equal(resumed.redelivered, 1, JSON.stringify(resumed));
    assert.equal(hooks.redeliveryRequests(entry.guid), 1);
  });
});
