// The sweep in-process (engine, MemoryStore) against the stand-in GitHub over real HTTP: what it
// lists, what it re-runs, and how it pages, waits and keeps its cursor when GitHub fails.
import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createReconciler, createRerunner, MemoryStore, sweepConfigFromEnv, type LogEntry, type Reconciler, type Store } from "@job-rerunner/core";
import { createRunLister } from "../src/github/runs.js";
import { hasNextLink } from "../src/github/links.js";
import { readListedRun } from "../src/domain/listed-run.js";
import { slowDownUntil } from "../src/github/errors.js";
import { signedDelivery, startFakeGitHub, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";

const SECRET = "sweep-test-secret";
const HOUR = 3_600_000;
let nextRun = 880_000;
let nextRepo = 1;

const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

describe("stand-in GitHub: GET /repos/{o}/{r}/actions/runs", () => {
  let gh: FakeGitHub;
  before(async () => (gh = await startFakeGitHub()));
  after(() => gh.close());

  it("filters by status and created, pages with per_page/page and Link, answers 304 to a matching If-None-Match, 404 for unknown repositories", async () => {
    gh.addRuns("o/list", [
      { id: 1, createdAt: ago(3 * HOUR), conclusion: "failure" },
      { id: 2, createdAt: ago(2 * HOUR), conclusion: "success" },
      { id: 3, createdAt: ago(1 * HOUR), status: "in_progress", conclusion: null },
      { id: 4, createdAt: ago(0.5 * HOUR), conclusion: "failure" },
    ]);
    const get = (q: string, headers: Record<string, string> = {}) => fetch(`${gh.url}/repos/o/list/actions/runs?${q}`, { headers });
    const completed = await get("status=completed");
    const body = (await completed.json()) as { total_count: number; workflow_runs: { id: number }[] };
    assert.equal(body.total_count, 3);
    assert.deepEqual(body.workflow_runs.map((r) => r.id), [4, 2, 1], "newest first, in-progress left out");
    const recent = (await (await get(`status=completed&created=${encodeURIComponent(`>=${ago(2.5 * HOUR)}`)}`)).json()) as typeof body;
    assert.deepEqual(recent.workflow_runs.map((r) => r.id), [4, 2]);
    const page1 = await get("status=completed&per_page=2&page=1");
    assert.ok(hasNextLink(page1.headers.get("link") ?? undefined), page1.headers.get("link") ?? "no link");
    assert.match(page1.headers.get("link") ?? "", /page=2>; rel="next"/);
    const page2 = await get("status=completed&per_page=2&page=2");
    assert.deepEqual(((await page2.json()) as typeof body).workflow_runs.map((r) => r.id), [1]);
    assert.ok(!hasNextLink(page2.headers.get("link") ?? undefined));
    const etag = page1.headers.get("etag");
    assert.ok(etag);
    const again = await get("status=completed&per_page=2&page=1", { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    assert.equal((await get("status=completed")).status, 200);
    assert.equal((await get("status=completed", { "if-none-match": 'W/"stale"' })).status, 200);
    assert.equal((await fetch(`${gh.url}/repos/o/missing/actions/runs`)).status, 404);
    gh.failListing("o/list", 2, 503, 1);
    assert.equal((await get("per_page=2&page=2")).status, 503);
    assert.equal((await get("per_page=2&page=2")).status, 200, "the injected failure is used up");
  });
});

describe("reading GitHub's answers", () => {
  it("Retry-After wins; a nearly used-up limit waits for its reset; plenty left means go on", () => {
    const now = 1_000_000;
    assert.equal(slowDownUntil({ "retry-after": "30" }, now), now + 30_000);
    assert.equal(slowDownUntil({ "x-ratelimit-remaining": "3", "x-ratelimit-reset": String(now / 1000 + 600) }, now), now + 600_000);
    assert.equal(slowDownUntil({ "x-ratelimit-remaining": "4000", "x-ratelimit-reset": "1" }, now), null);
  });

  it("a listed run with malformed fields is skipped with a reason", () => {
    const repo = { owner: "o", name: "r" };
    const good = { id: 5, status: "completed", conclusion: "failure", updated_at: ago(0), run_attempt: 2, repository: { id: 9 }, triggering_actor: { login: "bot" }, actor: { login: "me" } };
    const read = readListedRun(good, repo);
    assert.equal(read.kind, "run");
    assert.equal(read.kind === "run" ? read.actor : null, "bot", "the triggering actor is the sender");
    assert.match(String((readListedRun({ ...good, id: "x" }, repo) as { reason: string }).reason), /no valid id/);
    assert.match(String((readListedRun({ ...good, updated_at: "yesterday-ish" }, repo) as { reason: string }).reason), /updated_at/);
    assert.match(String((readListedRun({ ...good, run_attempt: 0 }, repo) as { reason: string }).reason), /run_attempt/);
    assert.match(String((readListedRun({ ...good, repository: null }, repo) as { reason: string }).reason), /repository id/);
  });
});

describe("sweep in-process against the stand-in GitHub", () => {
  let gh: FakeGitHub;
  let store: Store;
  let logs: LogEntry[];

  before(async () => (gh = await startFakeGitHub()));
  after(() => gh.close());
  beforeEach(() => {
    gh.rerun("ok");
    store = new MemoryStore();
    logs = [];
  });

  function setup(repos: string[], extra: Record<string, string> = {}): Reconciler {
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_sweep", GITHUB_API_URL: gh.url, ...extra });
    const rerunner = createRerunner({ config, store, logger: (e) => logs.push(e) });
    const sweep = sweepConfigFromEnv({ SWEEP_REPOS: repos.join(","), ...extra });
    return createReconciler({ rerunner, store, sweep, logger: (e) => logs.push(e) });
  }
  const repoName = (): string => `sweep-org/repo-${nextRepo++}`;

  it("re-runs a failed run whose deliveries never came, once; then idle sweeps cost one 304 per repository", async () => {
    const [a, b] = [repoName(), repoName()];
    const [failed, passed] = [nextRun++, nextRun++];
    gh.addRuns(a, [{ id: failed, createdAt: ago(10 * 60_000), updatedAt: ago(60_000), conclusion: "failure" }]);
    gh.addRuns(b, [{ id: passed, repoId: 42, createdAt: ago(10 * 60_000), updatedAt: ago(60_000), conclusion: "success" }]);
    const reconciler = setup([a, b]);
    const first = await reconciler.sweep();
    assert.ok(first);
    assert.equal(first.rerunsMade, 1, first.problems.join("\n"));
    assert.equal(first.runsExamined, 2);
    assert.equal(gh.performed(failed), 1);
    assert.equal(gh.rerunCalls(passed), 0);
    const logged = logs.find((l) => l.msg === "sweep");
    assert.equal(logged?.rerunsMade, 1);

    const callsBefore = gh.listCalls().length;
    const idle = await reconciler.sweep();
    assert.ok(idle);
    // Repository a changed (its run was re-run: now queued), so it is listed again; b is idle.
    assert.deepEqual({ requests: idle.requests, notModified: idle.notModified }, { requests: 2, notModified: 1 });
    assert.equal(gh.performed(failed), 1, "never re-run twice");
    const idle2 = await reconciler.sweep();
    assert.ok(idle2);
    assert.deepEqual({ requests: idle2.requests, notModified: idle2.notModified, errors: idle2.errors }, { requests: 2, notModified: 2, errors: 0 });
    const conditional = gh.listCalls().slice(callsBefore);
    assert.ok(conditional.slice(-2).every((c) => typeof c.headers["if-none-match"] === "string"), "idle requests are conditional");
    assert.equal(gh.performed(failed), 1);
  });

  it("REPO_BRANCHES unset: a swept run is judged against the repository's default branch, read once per sweep", async () => {
    const repo = repoName();
    gh.defaultBranch(repo, "main");
    const [onMain, onOther] = [nextRun++, nextRun++];
    gh.addRuns(repo, [
      { id: onMain, headBranch: "main", createdAt: ago(10 * 60_000), updatedAt: ago(60_000), conclusion: "failure" },
      { id: onOther, headBranch: "master", createdAt: ago(10 * 60_000), updatedAt: ago(60_000), conclusion: "failure" },
    ]);
    const before = gh.calls.filter((c) => c.path === `/repos/${repo}`).length;
    const listsBefore = gh.listCalls(repo).length;
    const summary = await setup([repo]).sweep();
    assert.ok(summary);
    assert.equal(gh.performed(onMain), 1, summary.problems.join("\n"));
    assert.equal(gh.rerunCalls(onOther), 0, "master is not this repository's default branch");
    const reads = gh.calls.filter((c) => c.path === `/repos/${repo}`).length - before;
    assert.equal(reads, 1, "one repository read for two failed runs");
    const lists = gh.listCalls(repo).length - listsBefore;
    assert.equal(summary.requests, lists + reads, "the summary counts the repository read with the list request");
    assert.equal(summary.requests, 2);
  });

  it("finds a run created long before the window that finished inside it; leaves runs that finished before the lookback", async () => {
    const repo = repoName();
    const [longRun, oldRun] = [nextRun++, nextRun++];
    gh.addRuns(repo, [
      { id: longRun, createdAt: ago(5 * HOUR), updatedAt: ago(2 * 60_000), conclusion: "failure" },
      { id: oldRun, createdAt: ago(3 * HOUR), updatedAt: ago(2 * HOUR), conclusion: "failure" },
    ]);
    const summary = await setup([repo]).sweep();
    assert.equal(summary?.rerunsMade, 1, summary?.problems.join("\n"));
    assert.equal(gh.performed(longRun), 1);
    assert.equal(gh.rerunCalls(oldRun), 0, "finished before SWEEP_LOOKBACK_H");
    const created = new URL(gh.listCalls(repo)[0]!.url, gh.url).searchParams.get("created") ?? "";
    assert.match(created, /^>=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Date.now() - Date.parse(created.slice(2)) > 24 * HOUR, `the query reaches back a day before the window: ${created}`);
  });

  it("a run created longer before the window than the horizon is left to its webhooks; raising SWEEP_HORIZON_H reaches it at once", async () => {
    const repo = repoName();
    const [missed, found] = [nextRun++, nextRun++];
    gh.addRuns(repo, [{ id: missed, createdAt: ago(30 * HOUR), updatedAt: ago(10 * 60_000), conclusion: "failure" }]);
    const byDefault = await setup([repo]).sweep();
    assert.equal(byDefault?.runsExamined, 0, "created 30 h ago: before the default 24 h horizon");
    assert.equal(gh.rerunCalls(missed), 0);
    // The repository's cursor now holds the 24 h bound; a raised horizon must not wait for it to age.
    gh.addRuns(repo, [{ id: found, createdAt: ago(30 * HOUR), updatedAt: ago(0), conclusion: "failure" }]);
    const widened = await setup([repo], { SWEEP_HORIZON_H: "48" }).sweep();
    assert.equal(widened?.rerunsMade, 1, widened?.problems.join("\n"));
    assert.equal(gh.performed(found), 1);
    assert.equal(gh.rerunCalls(missed), 0, "finished before the first sweep, which covered its window");
    const created = new URL(gh.listCalls(repo).at(-1)!.url, gh.url).searchParams.get("created") ?? "";
    assert.ok(Date.now() - Date.parse(created.slice(2)) > 48 * HOUR, `the query reaches back 48 h before the window: ${created}`);
  });

  it("pages through Link; a 5xx mid-pagination keeps the cursor, and the next sweep finds the run", async () => {
    const repo = repoName();
    const runs = Array.from({ length: 150 }, (_, i) => ({ id: nextRun++, createdAt: ago(50 * 60_000 - i * 1000), updatedAt: ago(60_000), conclusion: "success" as const }));
    const lost = nextRun++;
    // The oldest run, so it is on page 2.
    runs.push({ id: lost, createdAt: ago(55 * 60_000), updatedAt: ago(60_000), conclusion: "failure" as never });
    gh.addRuns(repo, runs);
    gh.failListing(repo, 2, 502, 1);
    const reconciler = setup([repo]);
    const failed = await reconciler.sweep();
    assert.equal(failed?.errors, 1);
    assert.match(failed?.problems.join("\n") ?? "", /page 2: GitHub answered 502/);
    assert.equal(gh.performed(lost), 0);
    const next = await reconciler.sweep();
    assert.equal(next?.errors, 0, next?.problems.join("\n"));
    assert.equal(next?.requests, 3, "page 1 and page 2 again (no 304: the cursor kept no ETag), and the default branch read for the failed run");
    assert.equal(gh.performed(lost), 1);
  });

  it("a repository that does not exist is reported and skipped; the others are swept", async () => {
    const repo = repoName();
    const run = nextRun++;
    gh.addRuns(repo, [{ id: run, createdAt: ago(60_000), updatedAt: ago(30_000) }]);
    const summary = await setup(["sweep-org/no-such-repo", repo]).sweep();
    assert.equal(summary?.errors, 1);
    assert.match(summary?.problems[0] ?? "", /no-such-repo: skipped: 404/);
    assert.equal(gh.performed(run), 1);
  });

  it("malformed runs are skipped with a reason; the rest of the page is swept", async () => {
    const repo = repoName();
    const [bad, good] = [nextRun++, nextRun++];
    gh.addRuns(repo, [
      { id: bad, createdAt: ago(60_000), updatedAt: ago(30_000), raw: { updated_at: "not a time" } },
      { id: good, createdAt: ago(50_000), updatedAt: ago(30_000) },
    ]);
    const summary = await setup([repo]).sweep();
    assert.equal(summary?.skippedRuns, 1);
    assert.match(summary?.problems.join("\n") ?? "", new RegExp(`run ${bad}: updated_at is not a time`));
    assert.equal(gh.performed(good), 1);
    assert.equal(gh.rerunCalls(bad), 0);
  });

  it("a 200 listing without workflow_runs (a maintenance message, an HTML page) is an error: the cursor stays, and the next sweep re-runs the run once", async () => {
    const [a, b] = [repoName(), repoName()];
    const [runA, runB] = [nextRun++, nextRun++];
    gh.addRuns(a, [{ id: runA, createdAt: ago(10 * 60_000), updatedAt: ago(60_000), conclusion: "failure" }]);
    gh.addRuns(b, [{ id: runB, createdAt: ago(10 * 60_000), updatedAt: ago(60_000), conclusion: "failure" }]);
    gh.answerListing(a, 1, { body: JSON.stringify({ message: "maintenance" }) });
    const unicorn = `<!DOCTYPE html><html><body><p>Unicorn! This page is taking too long to load.</p>${"<p>filler</p>".repeat(10_000)}</body></html>`;
    gh.answerListing(b, 1, { body: unicorn, contentType: "text/html; charset=utf-8" });
    const reconciler = setup([a, b]);
    const failed = await reconciler.sweep();
    assert.ok(failed);
    const said = failed.problems.join("\n");
    assert.equal(failed.errors, 2, said);
    assert.equal(failed.rerunsMade, 0);
    assert.equal(failed.runsExamined, 0);
    assert.match(said, new RegExp(`${a}: page 1: .*workflow_runs.*maintenance.*the cursor stays`));
    assert.match(said, new RegExp(`${b}: page 1: .*workflow_runs.*Unicorn!.*the cursor stays`));
    assert.ok(said.length < 2_000, `the HTML page is not echoed whole (${said.length} characters)`);
    assert.equal(gh.rerunCalls(runA) + gh.rerunCalls(runB), 0);
    const next = await reconciler.sweep();
    assert.equal(next?.errors, 0, next?.problems.join("\n"));
    assert.equal(next?.rerunsMade, 2);
    assert.equal(gh.performed(runA), 1);
    assert.equal(gh.performed(runB), 1);
    await reconciler.sweep();
    assert.equal(gh.rerunCalls(runA) + gh.rerunCalls(runB), 2, "re-run exactly once each");
  });

  it("runs with deeply nested or huge values (id of 200,000 nested arrays, 2 MB string, 31 digits) are skipped with a short reason; the rest of the page is swept", async () => {
    const repo = repoName();
    const [deepId, longId, bigId, deepTime, good] = [nextRun++, nextRun++, nextRun++, nextRun++, nextRun++];
    const nested = "[".repeat(200_000) + "]".repeat(200_000);
    gh.addRuns(repo, [
      { id: deepId, createdAt: ago(60_000), updatedAt: ago(30_000), rawJson: { id: nested } },
      { id: longId, createdAt: ago(59_000), updatedAt: ago(30_000), raw: { id: "9".repeat(2_000_000) } },
      { id: bigId, createdAt: ago(58_000), updatedAt: ago(30_000), rawJson: { id: "1" + "0".repeat(30) } },
      { id: deepTime, createdAt: ago(57_000), rawJson: { updated_at: nested, run_attempt: nested } },
      { id: good, createdAt: ago(50_000), updatedAt: ago(30_000) },
    ]);
    const summary = await setup([repo]).sweep();
    assert.ok(summary);
    const said = summary.problems.join("\n");
    assert.equal(summary.errors, 0, said.slice(0, 2_000));
    assert.equal(summary.skippedRuns, 4, said.slice(0, 2_000));
    assert.equal(gh.performed(good), 1, "the good run on the same page is swept");
    assert.equal(gh.rerunCalls(deepId) + gh.rerunCalls(longId) + gh.rerunCalls(bigId) + gh.rerunCalls(deepTime), 0);
    assert.match(said, /no valid id \(array/);
    assert.match(said, /no valid id \(string "9{20}/);
    assert.match(said, /no valid id \(\w+ 10{20}/);
    assert.match(said, new RegExp(`run ${deepTime}: updated_at is not a time \\(array`));
    for (const line of summary.problems) assert.ok(line.length < 600, `a short reason: ${line.length} characters`);
    const logged = JSON.stringify(logs).length;
    assert.ok(logged < 20_000, `nothing echoed whole in the logs (${logged} characters)`);
  });

  it("a repository whose sweep lease another instance holds is left to it; once that lease ends it is swept here", async () => {
    const repo = repoName();
    const runId = nextRun++;
    gh.addRuns(repo, [{ id: runId, createdAt: ago(60_000), updatedAt: ago(30_000) }]);
    const until = Date.now() + 60_000;
    assert.ok(await store.putDoc(`sweep-lease:${repo}`, { holder: "another-instance", until }, undefined, until));
    const reconciler = setup([repo]);
    const held = await reconciler.sweep();
    assert.equal(held?.requests, 0);
    assert.match(held?.problems.join("\n") ?? "", /another instance is sweeping it now/);
    assert.equal(gh.rerunCalls(runId), 0);
    const current = await store.getDoc(`sweep-lease:${repo}`);
    assert.ok(current && (await store.putDoc(`sweep-lease:${repo}`, { holder: "another-instance", until: 0 }, current.version, Date.now() - 1)));
    const swept = await reconciler.sweep();
    assert.equal(swept?.rerunsMade, 1, swept?.problems.join("\n"));
    assert.equal(await store.getDoc(`sweep-lease:${repo}`), undefined, "the lease is given back after the sweep");
  });

  it("honours Retry-After: stops listing, and the next sweep before that time sends nothing", async () => {
    const [a, b] = [repoName(), repoName()];
    gh.addRuns(a, []);
    gh.addRuns(b, []);
    gh.rateLimitListing(120, 1);
    const reconciler = setup([a, b]);
    const before = gh.listCalls().length;
    const limited = await reconciler.sweep();
    assert.ok(limited?.pauseUntil !== null && (limited?.pauseUntil ?? 0) > Date.now() + 100_000);
    assert.equal(gh.listCalls().length - before, 1, "the second repository is not asked");
    const next = await reconciler.sweep();
    assert.equal(next?.requests, 0);
    assert.equal(gh.listCalls().length - before, 1);
  });

  it("a run the webhooks already re-ran is not re-run by the sweep, and a late webhook after a sweep's rerun makes no call", async () => {
    const repo = repoName();
    const [byWebhook, bySweep] = [nextRun++, nextRun++];
    const reconciler = setup([repo]);
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_sweep", GITHUB_API_URL: gh.url });
    const rerunner = createRerunner({ config, store, logger: () => {} });
    const completed = (runId: number) =>
      signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure", owner: "sweep-org", repo: repo.split("/")[1]! }));
    assert.equal((await rerunner.handle(completed(byWebhook))).status, 201);
    assert.equal(gh.performed(byWebhook), 1);
    // GitHub lists it as attempt 1 failed (say the listing is a little behind).
    gh.addRuns(repo, [
      { id: byWebhook, createdAt: ago(60_000), updatedAt: ago(30_000) },
      { id: bySweep, createdAt: ago(60_000), updatedAt: ago(30_000) },
    ]);
    gh.run(byWebhook).runAttempt = 1;
    gh.run(byWebhook).status = "completed";
    const summary = await reconciler.sweep();
    assert.equal(summary?.rerunsMade, 1);
    assert.equal(gh.rerunCalls(byWebhook), 1, "the webhook's rerun is in the store: no second call");
    assert.equal(gh.performed(bySweep), 1);
    const late = await rerunner.handle(completed(bySweep));
    assert.equal(late.status, 200, late.body.reason);
    assert.match(late.body.reason, /already re-run/);
    assert.equal(gh.rerunCalls(bySweep), 1);
  });

  it("drives a pending rerun whose holder gave up after 'already running', reading the run first", async () => {
    const repo = repoName();
    const runId = nextRun++;
    const reconciler = setup([repo]);
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_sweep", GITHUB_API_URL: gh.url });
    const rerunner = createRerunner({ config, store, logger: () => {} });
    gh.rerun("already-running", "ok");
    const answer = await rerunner.handle(signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" })));
    assert.equal(answer.status, 202, answer.body.reason);
    const readsBefore = gh.calls.filter((c) => c.method === "GET" && c.path.endsWith(`/runs/${runId}`)).length;
    const driven = await reconciler.drivePending();
    assert.deepEqual({ driven: driven.driven, rerunsMade: driven.rerunsMade }, { driven: 1, rerunsMade: 1 });
    assert.equal(gh.performed(runId), 1);
    assert.equal(gh.calls.filter((c) => c.method === "GET" && c.path.endsWith(`/runs/${runId}`)).length, readsBefore + 1, "read before calling again");
    assert.equal((await reconciler.drivePending()).driven, 0, "nothing pending any more");
  });

  it("a listing refused for GitHub's secondary rate limit (a bare 403 saying so) is a rate limit, not an unreadable repository", async () => {
    const lister = createRunLister({ token: "t", baseUrl: gh.url });
    const secondary = JSON.stringify({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." });
    gh.addRuns("octo-org/secondary", []);
    gh.answerListing("octo-org/secondary", 1, { status: 403, body: secondary });
    const result = await lister.listRuns({ owner: "octo-org", repo: "secondary", created: ">=2026-01-01T00:00:00Z", page: 1, perPage: 100, etag: null }, new AbortController().signal);
    assert.equal(result.kind, "rate-limited", JSON.stringify(result));
    assert.match(result.kind === "rate-limited" ? result.message : "", /secondary rate limit/);
  });

  it("the lister's client is built from the configuration; a GitHub that cannot be reached is reported as such", async () => {
    const lister = createRunLister({ token: "t", baseUrl: "http://127.0.0.1:9" });
    const result = await lister.listRuns({ owner: "o", repo: "r", created: ">=2026-01-01T00:00:00Z", page: 1, perPage: 100, etag: null }, new AbortController().signal);
    assert.equal(result.kind, "unavailable");
    assert.equal(result.kind === "unavailable" && result.answered, false);
  });
});
