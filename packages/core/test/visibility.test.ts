// The read-only visibility parts of the core: the flaky-job table (pure), the final attempt's
// watch (pure), NOTIFY_* parsing, web links, and the engine feeding history, observations and an
// inline notification (no background: awaited within the deadline, as on Cloud Functions).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, flakyJobs, logObserver, MemoryStore, notifierFromEnv, webUrl, type HistoryEntry, type LogEntry, type Notifier, type Observation } from "@job-rerunner/core";
import { sampleHistoryEntry, signedDelivery, startFakeGitHub, startFakeNotifyEndpoint, workflowJobPayload, workflowRunPayload } from "@job-rerunner/testing";
import { foldFinalAttempt } from "../src/domain/final-attempt.js";

const DAY = 86_400_000;
const SECRET = "visibility-secret";

function entry(runId: number, attempt: number, verdict: HistoryEntry["verdict"], jobs: HistoryEntry["jobs"], at: number, workflow = "CI"): HistoryEntry {
  return sampleHistoryEntry({ runId, attempt, verdict, jobs, at, workflow });
}

describe("flakyJobs", () => {
  const now = 100 * DAY;
  it("counts failures, reruns and reruns that passed per workflow and job, with the most common evidence", () => {
    const entries = [
      entry(1, 1, "rerun", [{ name: "e2e", conclusion: "failure", evidence: "ECONNRESET" }, { name: "build", conclusion: "success" }], now - DAY),
      entry(1, 2, "passed", [{ name: "e2e", conclusion: "success" }], now - DAY + 1),
      entry(2, 1, "rerun", [{ name: "e2e", conclusion: "failure", evidence: "ECONNRESET" }], now - 2 * DAY),
      entry(2, 2, "gave-up", [{ name: "e2e", conclusion: "failure", evidence: "timeout" }], now - 2 * DAY + 1),
      // The same attempt recorded twice (a later entry knows more): counted once.
      entry(3, 1, "pending", [{ name: "lint", conclusion: "failure" }], now - 3 * DAY),
      entry(3, 1, "refused", [{ name: "lint", conclusion: "failure" }], now - 3 * DAY + 1),
      // Older than 7 days: only in the 30-day table.
      entry(4, 1, "rerun", [{ name: "e2e", conclusion: "failure" }], now - 20 * DAY),
      entry(4, 2, "passed", [{ name: "e2e", conclusion: "success" }], now - 20 * DAY + 1),
    ];
    const week = flakyJobs(entries, now - 7 * DAY);
    assert.deepEqual(week, [
      { repo: "Codertocat/Hello-World", workflow: "CI", job: "e2e", failures: 3, reruns: 2, rerunsPassed: 1, evidence: "ECONNRESET", evidenceCount: 2 },
      { repo: "Codertocat/Hello-World", workflow: "CI", job: "lint", failures: 1, reruns: 0, rerunsPassed: 0, evidence: null, evidenceCount: 0 },
    ]);
    const month = flakyJobs(entries, now - 30 * DAY);
    assert.equal(month[0]?.failures, 4);
    assert.equal(month[0]?.rerunsPassed, 2);
  });
});

describe("final attempt watch", () => {
  const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", RUN_ATTEMPTS: "2" });
  const base = { deliveryId: "d", receivedAt: 1, handlerId: "h", repo: { id: 1, owner: "o", name: "r" }, runId: 7, attempt: 2, headBranch: "master", defaultBranch: "master", workflowName: "CI", sender: null };
  const jobEvent = (id: number, status: "queued" | "completed", conclusion: string | null = null) =>
    ({ ...base, kind: "workflow_job", job: { id, name: `j${id}`, status, conclusion } }) as const;

  it("decides once: failed when a job failed and none is left open, never again after", () => {
    let state = foldFinalAttempt(undefined, jobEvent(1, "queued"), config);
    assert.equal(state.decided, false);
    state = foldFinalAttempt(state.next, jobEvent(2, "queued"), config);
    state = foldFinalAttempt(state.next, jobEvent(1, "completed", "failure"), config);
    assert.equal(state.decided, false, "job 2 is still open");
    state = foldFinalAttempt(state.next, jobEvent(2, "completed", "success"), config);
    assert.deepEqual([state.decided, state.next.verdict], [true, "failed"]);
    const again = foldFinalAttempt(state.next, { ...base, kind: "workflow_run", status: "completed", conclusion: "failure" }, config);
    assert.equal(again.decided, false);
  });

  it("a first completed job alone does not decide (other jobs may not be known yet); workflow_run completed does", () => {
    const first = foldFinalAttempt(undefined, jobEvent(1, "completed", "failure"), config);
    assert.equal(first.decided, false);
    const run = foldFinalAttempt(first.next, { ...base, kind: "workflow_run", status: "completed", conclusion: "success" }, config);
    assert.deepEqual([run.decided, run.next.verdict], [true, "passed"], "the run's conclusion is authoritative");
  });
});

describe("NOTIFY_URL / NOTIFY_ON and links", () => {
  it("parses kinds, defaults to give-up, and names the variable on a bad value", () => {
    assert.equal(notifierFromEnv({}), undefined);
    assert.deepEqual([...(notifierFromEnv({ NOTIFY_URL: "https://hooks.slack.com/services/T/B/X" })?.on ?? [])], ["give-up"]);
    assert.deepEqual([...(notifierFromEnv({ NOTIFY_URL: "https://hooks.slack.com/services/T/B/X", NOTIFY_ON: " rerun , give-up" })?.on ?? [])], ["rerun", "give-up"]);
    assert.equal(notifierFromEnv({ NOTIFY_URL: "https://hooks.slack.com/services/T/B/X" })?.host, "hooks.slack.com");
    assert.throws(() => notifierFromEnv({ NOTIFY_URL: "https://x.example", NOTIFY_ON: "always" }), /NOTIFY_ON/);
    assert.throws(() => notifierFromEnv({ NOTIFY_URL: "not a url" }), /NOTIFY_URL/);
    assert.throws(() => notifierFromEnv({ NOTIFY_ON: "rerun" }), /NOTIFY_URL/);
  });

  it("links to github.com, or to the GHES host", () => {
    assert.equal(webUrl("https://api.github.com"), "https://github.com");
    assert.equal(webUrl("https://ghe.example.com/api/v3"), "https://ghe.example.com");
    assert.equal(webUrl("http://127.0.0.1:4567"), "https://github.com");
  });
});

describe("engine with visibility", () => {
  it("records history, reports observations and sends a give-up inline, once, within the deadline", async () => {
    const endpoint = await startFakeNotifyEndpoint("ok");
    try {
      const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", RUN_ATTEMPTS: "2" });
      const store = new MemoryStore();
      const observed: Observation[] = [];
      const notifier = notifierFromEnv({ NOTIFY_URL: endpoint.url, NOTIFY_ON: "give-up,rerun" });
      assert.ok(notifier);
      const engine = createRerunner({ config, store, logger: () => {}, observer: (o) => observed.push(o), notifier });
      const run = { runId: 77, branch: "master" };
      const send = (d: ReturnType<typeof signedDelivery>) => engine.handle({ headers: d.headers, rawBody: d.rawBody });
      await send(signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, jobName: "e2e", action: "queued" })));
      const failed = signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, jobName: "e2e", action: "completed", conclusion: "failure" }));
      assert.equal((await send(failed)).status, 201);
      await send(failed);
      // Attempt 2 is the last: it fails, and is given up on.
      const final = signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...run, attempt: 2, action: "completed", conclusion: "failure" }));
      assert.equal((await send(final)).status, 204);
      assert.equal((await send(final)).status, 204);
      // No background: both messages were sent before their deliveries were answered.
      assert.equal(endpoint.received.length, 2, endpoint.texts().join("\n"));
      assert.match(endpoint.texts()[0]!, /would re-run the failed jobs .* attempt 1 \(DRY_RUN: GitHub not called\)/);
      assert.match(endpoint.texts()[1]!, /gave up: .* attempt 2 failed/);
      const history = await store.listHistory(0, 10);
      assert.deepEqual(history.map((h) => [h.attempt, h.verdict]), [[2, "gave-up"], [1, "dry-run"]]);
      assert.deepEqual(history[1]?.jobs, [{ name: "e2e", conclusion: "failure" }]);
      assert.ok(observed.some((o) => o.type === "rerun" && o.outcome === "dry_run"));
      assert.ok(!observed.some((o) => o.type === "rerun" && o.outcome === "requested"), "a dry run is not counted as a requested rerun");
      assert.equal(observed.filter((o) => o.type === "delivery").length, 5);
      assert.equal(observed.filter((o) => o.type === "notification" && o.outcome === "sent").length, 2);
    } finally {
      await endpoint.close();
    }
  });

  it("a rerun GitHub refuses for good is one give-up, however many of the run's events follow", async () => {
    const endpoint = await startFakeNotifyEndpoint("ok");
    const gh = await startFakeGitHub();
    try {
      gh.rerun("forbidden");
      const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_refused", GITHUB_API_URL: gh.url });
      const observed: Observation[] = [];
      const notifier = notifierFromEnv({ NOTIFY_URL: endpoint.url });
      assert.ok(notifier);
      const engine = createRerunner({ config, store: new MemoryStore(), logger: () => {}, observer: (o) => observed.push(o), notifier });
      const run = { runId: 78, branch: "master" };
      const send = (d: ReturnType<typeof signedDelivery>) => engine.handle({ headers: d.headers, rawBody: d.rawBody });
      const failed = signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, jobName: "e2e", action: "completed", conclusion: "failure" }));
      await send(signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, jobName: "e2e", action: "queued" })));
      assert.equal((await send(failed)).status, 502);
      const completed = signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...run, action: "completed", conclusion: "failure" }));
      assert.equal((await send(completed)).status, 200);
      assert.equal((await send(completed)).status, 200);
      await send(failed);
      assert.equal(gh.rerunCalls(78), 1, "never POSTed again");
      assert.equal(endpoint.received.length, 1, endpoint.texts().join("\n"));
      assert.match(endpoint.texts()[0]!, /gave up/);
      assert.equal(observed.filter((o) => o.type === "rerun" && o.outcome === "refused").length, 1, "counted once");
    } finally {
      await endpoint.close();
      await gh.close();
    }
  });

  for (const behaviour of ["error", "hang"] as const) {
    it(`inline (no background, as on Cloud Functions): an endpoint that ${behaviour === "error" ? "answers 500" : "never answers"} neither delays the answer past DEADLINE_MS nor changes it`, async () => {
      const DEADLINE_MS = 1500;
      /** Not a speed figure: room for a loaded machine around the deadline. */
      const MARGIN_MS = 1000; // timer lateness on a loaded 2-core machine; a notification without a bound takes 5 s or more
      // A rerun (NOTIFY_ON=rerun) and then a give-up on the last attempt (RUN_ATTEMPTS=2), each notified inline.
      const env = { GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", RUN_ATTEMPTS: "2", DEADLINE_MS: String(DEADLINE_MS) };
      const run = { runId: behaviour === "error" ? 81 : 82, branch: "master" };
      const deliveries = [
        signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, jobName: "e2e", action: "queued" })),
        signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, jobName: "e2e", action: "completed", conclusion: "failure" })),
        signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, attempt: 2, jobId: 2, jobName: "e2e", action: "queued" })),
        signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...run, attempt: 2, action: "completed", conclusion: "failure" })),
      ];
      type Answer = { status: number; action: string; reason: string; elapsed: number };
      async function replay(notifier: Notifier | undefined): Promise<Answer[]> {
        const config = configFromEnv(env);
        const engine = createRerunner({ config, store: new MemoryStore(), logger: () => {}, ...(notifier === undefined ? {} : { notifier }) });
        const answers: Answer[] = [];
        for (const d of deliveries) {
          const started = performance.now();
          const answer = await engine.handle({ headers: d.headers, rawBody: d.rawBody });
          answers.push({ status: answer.status, action: answer.body.action, reason: answer.body.reason, elapsed: performance.now() - started });
        }
        return answers;
      }
      const endpoint = await startFakeNotifyEndpoint(behaviour);
      try {
        const without = await replay(undefined);
        const notifier = notifierFromEnv({ NOTIFY_URL: endpoint.url, NOTIFY_ON: "give-up,rerun" });
        assert.ok(notifier);
        const withNotify = await replay(notifier);
        const decisions = (answers: Answer[]) => answers.map(({ status, action, reason }) => ({ status, action, reason }));
        assert.deepEqual(decisions(without).map((a) => a.status), [202, 201, 204, 204], "the scenario makes a rerun, then a give-up on the last attempt (watched apart: 204)");
        assert.deepEqual(decisions(withNotify), decisions(without), "the same answers as without notifications");
        for (const [i, a] of withNotify.entries()) {
          assert.ok(a.elapsed <= DEADLINE_MS + MARGIN_MS, `delivery ${i} answered after ${Math.round(a.elapsed)} ms; DEADLINE_MS=${DEADLINE_MS}`);
        }
        // Both notifications were attempted inline, before their deliveries were answered.
        const texts = endpoint.texts();
        assert.ok(texts.some((t) => /would re-run the failed jobs .* attempt 1/.test(t)), texts.join("\n"));
        assert.ok(texts.some((t) => /gave up: .* attempt 2 failed/.test(t)), texts.join("\n"));
      } finally {
        await endpoint.close();
      }
    });
  }

  it("the policy judging a failure genuine (RERUN_WHEN=transient) is one give-up naming the job and the reason, and no rerun", async () => {
    const endpoint = await startFakeNotifyEndpoint("ok");
    const gh = await startFakeGitHub();
    try {
      const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_genuine", GITHUB_API_URL: gh.url, RERUN_WHEN: "transient" });
      const store = new MemoryStore();
      const notifier = notifierFromEnv({ NOTIFY_URL: endpoint.url });
      assert.ok(notifier);
      const engine = createRerunner({ config, store, logger: () => {}, notifier });
      const run = { runId: 79, branch: "master" };
      const jobId = 7_900_001;
      const send = (d: ReturnType<typeof signedDelivery>) => engine.handle({ headers: d.headers, rawBody: d.rawBody });
      gh.log(
        jobId,
        ["##[group]Run npm test", "npm test", "##[endgroup]", "FAIL src/app.test.ts", "AssertionError: expected 200, got 500", "##[error]Process completed with exit code 1."]
          .map((l) => `2024-05-01T12:00:00.1234567Z ${l}`)
          .join("\n") + "\n",
      );
      const steps = [
        { name: "Set up job", conclusion: "success" },
        { name: "Run tests", conclusion: "failure" },
      ];
      assert.equal((await send(signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId, jobName: "build (ubuntu)", action: "queued" })))).status, 202);
      const failed = signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId, jobName: "build (ubuntu)", action: "completed", conclusion: "failure", steps }));
      const answer = await send(failed);
      assert.equal(answer.status, 200, answer.body.reason);
      assert.match(answer.body.reason, /job "build \(ubuntu\)" failed a test \("AssertionError: expected 200, got 500"\): not transient \(RERUN_WHEN=transient\): not re-run$/);
      // A redelivery and the run's completion say so again: still one give-up.
      assert.equal((await send(failed)).status, 200);
      assert.equal((await send(signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...run, action: "completed", conclusion: "failure" })))).status, 200);
      assert.equal(gh.rerunCalls(79), 0, "no rerun call");
      const texts = endpoint.texts();
      assert.equal(texts.length, 1, texts.join("\n---\n"));
      const text = texts[0]!;
      assert.match(text, /^job-rerunner gave up: octo-org\/octo-repo · CI on master, run 79 attempt 1 failed and will not be re-run$/m);
      assert.match(text, /^Failed jobs: build \(ubuntu\)$/m);
      assert.ok(text.includes(`\nReason: ${answer.body.reason}`), text);
      const history = await store.listHistory(0, 10);
      assert.deepEqual(history.map((h) => [h.runId, h.attempt, h.verdict, h.reason]), [[79, 1, "gave-up", answer.body.reason]]);
    } finally {
      await endpoint.close();
      await gh.close();
    }
  });

  it("logObserver turns observations into metric log lines (Cloud Logging log-based metrics)", () => {
    const lines: LogEntry[] = [];
    const observe = logObserver((e) => lines.push(e));
    observe({ type: "rerun", outcome: "requested" });
    observe({ type: "delivery", event: "workflow_job", status: 202, durationMs: 3 });
    observe({ type: "github-call", endpoint: "GET /x", status: 200, rateLimitRemaining: 4999 });
    assert.deepEqual(lines, [
      { level: "info", msg: "metric", metric: "rerun", outcome: "requested" },
      { level: "info", msg: "metric", metric: "github-call", endpoint: "GET /x", status: 200, rateLimitRemaining: 4999 },
    ]);
  });
});
