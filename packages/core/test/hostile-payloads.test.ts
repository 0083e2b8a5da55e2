// Signed payloads with hostile values: numbers out of range, and names megabytes long. Each gets
// a clear, small answer and a small log line.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, jsonLogger, MemoryStore, type GitHubClient, type Rerunner } from "@job-rerunner/core";
import { clip } from "../src/domain/text.js";
import { ECHO_LIMIT } from "../src/domain/text.js";
import { signedDelivery, workflowJobPayload, workflowRunPayload } from "@job-rerunner/testing";

const SECRET = "hostile-secret";
let nextRun = 9100;
type Json = Record<string, unknown>;

function acceptingGitHub(): GitHubClient {
  return {
    async rerunFailedJobs() {
      return { kind: "accepted" };
    },
    async getRun() {
      return { kind: "unavailable", message: "not needed" };
    },
  };
}

function rerunnerWith(env: Record<string, string> = {}): { rerunner: Rerunner; lines: string[] } {
  const lines: string[] = [];
  const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "test-token", ...env });
  const rerunner = createRerunner({ config, store: new MemoryStore(), github: acceptingGitHub(), logger: jsonLogger({ write: (l) => lines.push(l) }) });
  return { rerunner, lines };
}

function set(payload: Json, path: string, value: unknown): Json {
  const keys = path.split(".");
  let at = payload;
  for (const key of keys.slice(0, -1)) at = at[key] as Json;
  if (value === undefined) delete at[keys.at(-1)!];
  else at[keys.at(-1)!] = value;
  return payload;
}

const jobPayload = (runId: number): Json => workflowJobPayload({ runId, jobId: runId * 10, action: "queued" });
const runPayload = (runId: number): Json => workflowRunPayload({ runId, action: "requested" });

describe("numbers out of range are malformed, not read as something else", () => {
  const BAD: readonly [string, unknown][] = [
    ["1e20", 1e20],
    ["2^53", 2 ** 53],
    ["2^53 + 2", 2 ** 53 + 2],
    ["a fraction", 1.5],
    ["a negative", -1],
    ["zero", 0],
    ["a string", "2"],
    ["a boolean", true],
    ["an object", {}],
  ];
  const FIELDS: readonly [string, "workflow_job" | "workflow_run", (runId: number) => Json][] = [
    ["workflow_job.run_attempt", "workflow_job", jobPayload],
    ["workflow_job.run_id", "workflow_job", jobPayload],
    ["workflow_job.id", "workflow_job", jobPayload],
    ["repository.id", "workflow_job", jobPayload],
    ["workflow_run.run_attempt", "workflow_run", runPayload],
    ["workflow_run.id", "workflow_run", runPayload],
    ["repository.id", "workflow_run", runPayload],
  ];
  for (const [field, event, payloadOf] of FIELDS) {
    it(`${event} with ${field} present but invalid: 204 naming the field`, async () => {
      const { rerunner } = rerunnerWith();
      for (const [what, value] of BAD) {
        const response = await rerunner.handle(signedDelivery(SECRET, event, set(payloadOf(++nextRun), field, value)));
        assert.equal(response.status, 204, `${field} = ${what}: ${response.body.reason}`);
        assert.ok(response.body.reason.startsWith(`${field} is `), `${field} = ${what}: ${response.body.reason}`);
        assert.match(response.body.reason, /not a whole number from 1 to 2\^53-1/);
      }
    });
  }

  it("run_attempt 1e20 is named with its value", async () => {
    const { rerunner } = rerunnerWith();
    const response = await rerunner.handle(signedDelivery(SECRET, "workflow_job", set(jobPayload(9001), "workflow_job.run_attempt", 1e20)));
    assert.equal(response.body.reason, "workflow_job.run_attempt is 100000000000000000000: not a whole number from 1 to 2^53-1");
  });

  it("a missing (or null) run_attempt still means attempt 1, as in payloads from before run attempts", async () => {
    const { rerunner } = rerunnerWith();
    for (const value of [undefined, null]) {
      const runId = ++nextRun;
      const response = await rerunner.handle(signedDelivery(SECRET, "workflow_run", set(runPayload(runId), "workflow_run.run_attempt", value)));
      assert.equal(response.status, 202, response.body.reason);
      assert.match(response.body.reason, new RegExp(`run ${runId} attempt 1 is requested`));
    }
  });

  it("the largest safe whole number is a valid id", async () => {
    const { rerunner } = rerunnerWith();
    const response = await rerunner.handle(signedDelivery(SECRET, "workflow_run", set(runPayload(1), "workflow_run.id", 2 ** 53 - 1)));
    assert.equal(response.status, 202, response.body.reason);
    assert.equal(response.body.run, `octo-org/octo-repo#${2 ** 53 - 1}`);
  });
});

describe("payload text is echoed at most ECHO_LIMIT characters long", () => {
  const HUGE = "x".repeat(2 * 1024 * 1024);
  const SMALL = 4096;

  it("clip keeps short text, cuts long text with an ellipsis, never splits a surrogate pair", () => {
    assert.equal(ECHO_LIMIT, 200);
    assert.equal(clip("short"), "short");
    assert.equal(clip("y".repeat(200)), "y".repeat(200));
    assert.equal(clip("y".repeat(201)), `${"y".repeat(199)}…`);
    assert.equal(clip(HUGE).length, 200);
    const emoji = `${"a".repeat(198)}😀tail`;
    const cut = clip(emoji);
    assert.equal(cut, `${"a".repeat(198)}…`);
    assert.doesNotThrow(() => encodeURIComponent(cut));
  });

  const CASES: readonly [string, "workflow_job" | "workflow_run", () => Json, Record<string, string>, RegExp][] = [
    ["job name", "workflow_job", () => set(jobPayload(++nextRun), "workflow_job.name", HUGE), {}, /job "x{199}…" is queued/],
    ["action", "workflow_job", () => set(jobPayload(++nextRun), "action", HUGE), {}, /action "x{199}…" is not tracked/],
    ["workflow name", "workflow_job", () => set(jobPayload(++nextRun), "workflow_job.workflow_name", HUGE), { RERUN_WORKFLOWS: "CI" }, /workflow "x{199}…" is not in RERUN_WORKFLOWS/],
    [
      "branch name",
      "workflow_run",
      () => set(workflowRunPayload({ runId: ++nextRun, action: "completed", conclusion: "failure" }), "workflow_run.head_branch", HUGE),
      { REPO_BRANCHES: "main" },
      /failed on branch "x{199}…", not in REPO_BRANCHES/,
    ],
    ["owner and repository name", "workflow_job", () => set(set(jobPayload(++nextRun), "repository.name", HUGE), "repository.owner.login", HUGE), {}, /^job "job-\d+" is queued/],
    ["sender", "workflow_job", () => set(jobPayload(++nextRun), "sender.login", HUGE), { NO_RETRY_LIST: "octocat" }, /is queued/],
  ];
  for (const [what, event, payload, env, reason] of CASES) {
    it(`a 2 MB ${what}: the answer and the log line stay small`, async () => {
      const { rerunner, lines } = rerunnerWith(env);
      const response = await rerunner.handle(signedDelivery(SECRET, event, payload()));
      assert.match(response.body.reason, reason);
      assert.ok(JSON.stringify(response.body).length < SMALL, `body ${JSON.stringify(response.body).length} characters`);
      assert.equal(lines.length, 1);
      assert.ok(lines[0]!.length < SMALL, `log line ${lines[0]!.length} characters`);
    });
  }

  it("a huge X-GitHub-Event or X-GitHub-Delivery header is echoed cut too", async () => {
    const { rerunner, lines } = rerunnerWith();
    const delivery = signedDelivery(SECRET, "workflow_job", jobPayload(++nextRun));
    const big = "e".repeat(100_000);
    const response = await rerunner.handle({ ...delivery, headers: { ...delivery.headers, "x-github-event": big, "x-github-delivery": big } });
    assert.equal(response.status, 204);
    assert.equal(response.body.reason, `event "${"e".repeat(199)}…" is not tracked`);
    assert.equal(response.body.delivery, `${"e".repeat(199)}…`);
    assert.ok(lines[0]!.length < SMALL, `log line ${lines[0]!.length} characters`);
  });
});
