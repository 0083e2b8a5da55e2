import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createOctokitClient } from "../src/github/reruns.js";
import { createReadOnlyOctokit, GITHUB_API_VERSION, PROJECT_URL } from "../src/github/octokit.js";
import { startFakeGitHub, type FakeGitHub } from "@job-rerunner/testing";

const TOKEN = "ghp_conventions_test_token";
const signal = () => AbortSignal.timeout(30_000);

describe("GitHub REST conventions over real HTTP", () => {
  let gh: FakeGitHub;
  let runId = 9100;
  before(async () => {
    gh = await startFakeGitHub();
  });
  after(async () => {
    await gh.close();
  });

  it("every call sends the current media type, API version, a Bearer token and a user agent naming the project", async () => {
    const client = createOctokitClient({ token: TOKEN, baseUrl: gh.url });
    const run = { owner: "octo-org", repo: "octo-repo", runId: ++runId };
    gh.calls.length = 0;
    assert.equal((await client.getRun(run, signal())).kind, "run");
    assert.equal((await client.rerunFailedJobs(run, signal())).kind, "accepted");
    assert.deepEqual(gh.calls.map((c) => c.method), ["GET", "POST"]);
    for (const call of gh.calls) {
      assert.equal(call.headers.accept, "application/vnd.github+json", call.method);
      assert.equal(call.headers["x-github-api-version"], GITHUB_API_VERSION);
      assert.equal(GITHUB_API_VERSION, "2022-11-28");
      assert.equal(call.headers.authorization, `Bearer ${TOKEN}`);
      assert.ok(String(call.headers["user-agent"]).includes(PROJECT_URL), String(call.headers["user-agent"]));
    }
  });

  it("a run read that got a 5xx with Retry-After is retried and succeeds", async () => {
    const client = createOctokitClient({ token: TOKEN, baseUrl: gh.url });
    const id = ++runId;
    gh.runReads("server-error", "ok");
    const read = await client.getRun({ owner: "o", repo: "r", runId: id }, signal());
    assert.equal(read.kind, "run");
    assert.equal(gh.readCalls(id), 2);
    gh.runReads("ok");
  });

  it("a run read held back by a secondary rate limit waits as told, then succeeds", async () => {
    const client = createOctokitClient({ token: TOKEN, baseUrl: gh.url });
    const id = ++runId;
    gh.runReads("secondary-rate-limit", "ok");
    const read = await client.getRun({ owner: "o", repo: "r", runId: id }, signal());
    assert.equal(read.kind, "run");
    assert.equal(gh.readCalls(id), 2);
    gh.runReads("ok");
  });

  it("the rerun POST is never retried: not after a 5xx, a rate limit or a dropped connection", async () => {
    const client = createOctokitClient({ token: TOKEN, baseUrl: gh.url });
    for (const behaviour of ["server-error", "rate-limited", "drop-after-perform"] as const) {
      const id = ++runId;
      gh.rerun(behaviour, "ok");
      const result = await client.rerunFailedJobs({ owner: "o", repo: "r", runId: id }, signal());
      assert.equal(result.kind, "transient", behaviour);
      assert.equal(gh.rerunCalls(id), 1, `${behaviour}: one POST`);
    }
    gh.rerun("ok");
  });

  it("the read-only client refuses to send a write", async () => {
    const reader = createReadOnlyOctokit({ token: TOKEN, baseUrl: gh.url });
    const id = ++runId;
    await assert.rejects(
      reader.rest.actions.reRunWorkflowFailedJobs({ owner: "o", repo: "r", run_id: id }),
      /read-only GitHub client sends only GET/,
    );
    assert.equal(gh.rerunCalls(id), 0);
  });
});
