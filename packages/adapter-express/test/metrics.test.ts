// GET /metrics: prom-client's own exposition, read back with a Prometheus text parser, and the
// counters moving as real deliveries over HTTP are handled (GitHub = the local stand-in).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { generateAppKeys, signedDelivery, startFakeGitHub, workflowJobPayload, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";
import { startServer, type RunningServer } from "../src/server.js";
import { deliver } from "./support.js";

const SECRET = "metrics-webhook-secret";

async function scrape(url: string): Promise<ReturnType<typeof parsePrometheusTextFormat>> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await response.text());
}

function value(families: ReturnType<typeof parsePrometheusTextFormat>, name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `${name} is exposed`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample === undefined ? 0 : Number(sample.value ?? sample.count);
}

describe("GET /metrics", () => {
  let gh: FakeGitHub;
  let server: RunningServer;
  before(async () => {
    gh = await startFakeGitHub();
    server = await startServer(
      { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_metrics", GITHUB_API_URL: gh.url, STORE: "memory", LOG_LEVEL: "error" },
      { port: 0, host: "127.0.0.1" },
    );
  });
  after(async () => {
    await server?.close();
    await gh?.close();
  });

  it("parses as Prometheus text and the counters move with deliveries, reruns and GitHub calls", async () => {
    const before = await scrape(server.url);
    for (const name of [
      "job_rerunner_deliveries_total",
      "job_rerunner_reruns_total",
      "job_rerunner_decision_duration_seconds",
      "job_rerunner_github_requests_total",
      "job_rerunner_store_conflicts_total",
      "job_rerunner_sweep_runs_total",
      "job_rerunner_sweep_errors_total",
      "job_rerunner_notifications_total",
    ]) {
      assert.ok(before.some((f) => f.name === name), `${name} is exposed before any delivery`);
    }
    assert.equal(value(before, "job_rerunner_reruns_total", { outcome: "requested" }), 0);
    assert.equal(before.find((f) => f.name === "job_rerunner_decision_duration_seconds")?.type, "HISTOGRAM");

    const run = { runId: 9101, branch: "master" };
    const steps = [
      signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, action: "queued" })),
      signedDelivery(SECRET, "workflow_job", workflowJobPayload({ ...run, jobId: 1, action: "completed", conclusion: "failure" })),
      signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...run, action: "completed", conclusion: "failure" })),
      signedDelivery("wrong-secret", "workflow_job", workflowJobPayload({ ...run, jobId: 1, action: "queued" })),
    ];
    const statuses = [];
    for (const d of steps) statuses.push((await deliver(server.url, d)).status);
    assert.deepEqual(statuses, [202, 201, 200, 403]);

    const after = await scrape(server.url);
    assert.equal(value(after, "job_rerunner_deliveries_total", { event: "workflow_job", status: "202" }), 1);
    assert.equal(value(after, "job_rerunner_deliveries_total", { event: "workflow_job", status: "201" }), 1);
    assert.equal(value(after, "job_rerunner_deliveries_total", { event: "workflow_run", status: "200" }), 1);
    assert.equal(value(after, "job_rerunner_deliveries_total", { event: "workflow_job", status: "403" }), 1);
    assert.equal(value(after, "job_rerunner_reruns_total", { outcome: "requested" }), 1);
    const endpoint = "POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs";
    assert.equal(value(after, "job_rerunner_github_requests_total", { endpoint, status: "201" }), 1);
    const remaining = value(after, "job_rerunner_github_rate_limit_remaining");
    assert.ok(remaining > 0 && remaining < 5000, `rate-limit remaining from the stand-in's header, got ${remaining}`);
    // The parser keeps only bucket maps for labelled histograms: read the _count lines as text.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^job_rerunner_decision_duration_seconds_count\{event="workflow_job"\} 3$/m, "every answered delivery is timed");
    assert.match(text, /^job_rerunner_decision_duration_seconds_count\{event="workflow_run"\} 1$/m);
  });
});

describe("METRICS=false", () => {
  it("turns the endpoint off (the JSON 404 of any unknown path)", async () => {
    const server = await startServer(
      { GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", METRICS: "false", LOG_LEVEL: "error" },
      { port: 0, host: "127.0.0.1" },
    );
    try {
      const response = await fetch(`${server.url}/metrics`);
      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { status: number }).status, 404);
    } finally {
      await server.close();
    }
  });

  it("a bad METRICS value is a configuration error naming the variable", async () => {
    await assert.rejects(startServer({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", METRICS: "maybe" }, { port: 0 }), /METRICS/);
  });
});

/** The samples of `name` whose labels include `labels`, summed (0 when none). */
function total(families: ReturnType<typeof parsePrometheusTextFormat>, name: string, labels: Record<string, string>): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `${name} is exposed`);
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? m.count), 0);
}

/** Scrapes until `ready` holds (the start-up check and the first sweep run beside the server). */
async function scrapeUntil(url: string, ready: (families: ReturnType<typeof parsePrometheusTextFormat>) => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const families = await scrape(url);
    if (ready(families)) return families;
    assert.ok(Date.now() < deadline, `in time: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("GitHub requests of every client are counted", () => {
  const REQUESTS = "job_rerunner_github_requests_total";
  const GAUGE = "job_rerunner_github_rate_limit_remaining";
  const LIST = "GET /repos/{owner}/{repo}/actions/runs";

  it("the start-up check, the sweep's listing and the policy's look-ups, by route template; the gauge has a number", async () => {
    const gh = await startFakeGitHub();
    gh.addRuns("metrics-org/swept", []);
    const server = await startServer(
      {
        GITHUB_SIGN_KEY: SECRET,
        GITHUB_TOKEN: "ghp_metrics_all",
        GITHUB_API_URL: gh.url,
        STORE: "memory",
        LOG_LEVEL: "error",
        RERUN_WHEN: "transient",
        SWEEP_REPOS: "metrics-org/swept",
      },
      { port: 0, host: "127.0.0.1" },
    );
    try {
      const started = await scrapeUntil(
        server.url,
        (f) => total(f, REQUESTS, { endpoint: "GET /rate_limit" }) > 0 && total(f, REQUESTS, { endpoint: LIST }) > 0,
        "GET /rate_limit and the sweep's listing counted",
      );
      assert.equal(total(started, REQUESTS, { endpoint: "GET /rate_limit", status: "200" }), 1);
      assert.ok(total(started, REQUESTS, { endpoint: LIST, status: "200" }) >= 1);
      const remaining = value(started, GAUGE);
      assert.ok(Number.isFinite(remaining) && remaining > 0 && remaining < 5000, `rate-limit remaining after start-up, got ${remaining}`);

      const runId = 9201;
      const jobId = 7_900_001;
      gh.log(jobId, "2024-05-01T12:00:00.1234567Z ##[error]The runner has received a shutdown signal.\n");
      const queued = await deliver(server.url, signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action: "queued" })));
      assert.equal(queued.status, 202);
      const completed = await deliver(
        server.url,
        signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action: "completed", conclusion: "failure" })),
      );
      assert.equal(completed.status, 201, completed.body.reason);
      const after = await scrape(server.url);
      assert.equal(total(after, REQUESTS, { endpoint: "GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations", status: "200" }), 1);
      assert.equal(total(after, REQUESTS, { endpoint: "GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs" }), 1);
      assert.equal(total(after, REQUESTS, { endpoint: "POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs", status: "201" }), 1);
    } finally {
      await server.close();
      await gh.close();
    }
  });

  it("the App's start-up check (GET /app) is counted", async () => {
    const keys = generateAppKeys();
    const gh = await startFakeGitHub({ app: { id: 919, publicKey: keys.publicKey, installations: { 41: "octo-org" } } });
    const server = await startServer(
      { GITHUB_SIGN_KEY: SECRET, GITHUB_APP_ID: "919", GITHUB_APP_PRIVATE_KEY: keys.privateKey, GITHUB_API_URL: gh.url, STORE: "memory", LOG_LEVEL: "error" },
      { port: 0, host: "127.0.0.1" },
    );
    try {
      const started = await scrapeUntil(server.url, (f) => total(f, REQUESTS, { endpoint: "GET /app" }) > 0, "GET /app counted");
      assert.equal(total(started, REQUESTS, { endpoint: "GET /app", status: "200" }), 1);
    } finally {
      await server.close();
      await gh.close();
    }
  });

  it("before any answer (DRY_RUN) the rate-limit gauge is absent: neither 0 nor NaN", async () => {
    const server = await startServer({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", LOG_LEVEL: "error" }, { port: 0, host: "127.0.0.1" });
    try {
      assert.equal((await scrape(server.url)).find((f) => f.name === GAUGE), undefined);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.doesNotMatch(text, /rate_limit_remaining/);
      assert.doesNotMatch(text, /\bNa[Nn]\b/);
    } finally {
      await server.close();
    }
  });
});
