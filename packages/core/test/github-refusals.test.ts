// How a refused rerun call is classified, over real HTTP against the stand-in GitHub: a rate
// limit (primary or secondary) is transient, and only a real permission refusal is reported
// as one (naming the scopes the token needs).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, MemoryStore, recordKey, silentLogger } from "@job-rerunner/core";
import { classifyRerunError } from "../src/github/errors.js";
import { createOctokitClient } from "../src/github/reruns.js";
import { signedDelivery, startFakeGitHub, workflowRunPayload, type FakeGitHub, type RerunBehaviour } from "@job-rerunner/testing";

const SCOPES = /the token needs repo and workflow scopes/;
const SECRET = "refusal-secret";

describe("GitHub refusals of a rerun call", () => {
  let gh: FakeGitHub;
  let nextRun = 7700;
  before(async () => {
    gh = await startFakeGitHub();
  });
  after(async () => {
    await gh.close();
  });

  async function callWith(behaviour: RerunBehaviour) {
    gh.rerun(behaviour);
    const client = createOctokitClient({ token: "ghp_refusal_test", baseUrl: gh.url });
    return await client.rerunFailedJobs({ owner: "octo-org", repo: "octo-repo", runId: ++nextRun }, AbortSignal.timeout(30_000));
  }

  it("a secondary rate limit (403, GitHub's message, no Retry-After, quota left) is a transient rate limit, not a permission problem", async () => {
    const result = await callWith("secondary-rate-limit");
    assert.equal(result.kind, "transient");
    if (result.kind !== "transient") return;
    assert.match(result.message, /^rate limited \(403\): You have exceeded a secondary rate limit/);
    assert.doesNotMatch(result.message, SCOPES);
  });

  it("the primary rate limit is transient too", async () => {
    const result = await callWith("rate-limited");
    assert.equal(result.kind, "transient");
  });

  it("a real permission refusal (403 Resource not accessible) names the scopes the token needs", async () => {
    const result = await callWith("forbidden");
    assert.equal(result.kind, "forbidden");
    if (result.kind !== "forbidden") return;
    assert.match(result.message, /^403: Resource not accessible by integration/);
    assert.match(result.message, SCOPES);
  });

  it("a token GitHub does not accept (401 Bad credentials) is called that, not a missing scope", async () => {
    const result = await callWith("bad-credentials");
    assert.equal(result.kind, "forbidden");
    if (result.kind !== "forbidden") return;
    assert.match(result.message, /^401: Bad credentials — GitHub does not accept the token \(invalid, expired or revoked\)$/);
    assert.doesNotMatch(result.message, SCOPES);
  });

  it("a 403 that is neither a rate limit nor about permissions says GitHub's words only", () => {
    const refusal = { status: 403, message: "x", response: { data: { message: "Unable to retry this workflow run because it was created over a month ago" }, headers: {} } };
    const result = classifyRerunError(refusal);
    assert.equal(result.kind, "forbidden");
    if (result.kind !== "forbidden") return;
    assert.equal(result.message, "403: Unable to retry this workflow run because it was created over a month ago");
  });

  it("through the engine: a secondary rate limit answers 502 as a failed call, keeps the rerun pending, and the next delivery re-runs it", async () => {
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_refusal_test", GITHUB_API_URL: gh.url, REPO_BRANCHES: "*" });
    const store = new MemoryStore();
    const rerunner = createRerunner({ config, store, logger: silentLogger });
    const runId = ++nextRun;
    gh.rerun("secondary-rate-limit", "ok");
    const completed = signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" }));
    const first = await rerunner.handle(completed);
    assert.equal(first.status, 502, first.body.reason);
    assert.match(first.body.reason, /the rerun call failed \(rate limited \(403\): You have exceeded a secondary rate limit/);
    assert.doesNotMatch(first.body.reason, SCOPES);
    assert.equal((await store.get(recordKey(186853002, runId)))?.record.rerun.state, "pending");
    const again = await rerunner.handle(signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" })));
    assert.equal(again.status, 201, again.body.reason);
    assert.equal(gh.performed(runId), 1);
  });
});
