// RERUN_FLAKY_AFTER over real HTTP: the server as `npm start` runs it (src/bin.ts in its own
// process, a SQLite file), GitHub = the stand-in serving the jobs' logs. A job that failed with
// a genuine-looking assertion and passed when a person re-ran it, three times, is re-run on its
// next failure as transient:flaky-history, with that evidence in the answer and on the status page.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeGitHub, type FakeGitHub } from "@job-rerunner/testing";
import { replayAttempt } from "./status-replay.js";
import { spawnBin, startBin, type RunningBin } from "./support.js";

const SECRET = "flaky-history-secret";
const STATUS_TOKEN = "flaky-history-status-token-0123456789";
const ASSERTION = "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal: 1 !== 2";

describe("RERUN_FLAKY_AFTER over HTTP", () => {
  let gh: FakeGitHub;
  let dir: string;
  let nextRun = 95_000;
  let nextJob = 9_500_000;

  before(async () => {
    gh = await startFakeGitHub();
    gh.rerun("ok");
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-flaky-"));
  });
  after(async () => {
    await gh?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function server(name: string, env: Record<string, string> = {}): Promise<RunningBin> {
    return startBin(
      { GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_flaky", GITHUB_API_URL: gh.url, RERUN_WHEN: "transient", STORE: `sqlite:${join(dir, `${name}.db`)}`, STATUS_TOKEN, LOG_LEVEL: "warn", ...env },
      dir,
    );
  }

  /** The job "e2e" fails with an assertion in attempt 1 of a run, and (when `passes`) passes in attempt 2, re-run by a person. */
  async function flakyRun(url: string, passes: boolean): Promise<{ runId: number; answer: { status: number; reason: string } }> {
    const runId = nextRun++;
    const failing = nextJob++;
    gh.run(runId).status = "completed";
    gh.log(failing, `2024-05-01T12:00:00.0000000Z ##[group]Run npm test\n2024-05-01T12:00:01.0000000Z ${ASSERTION}\n2024-05-01T12:00:02.0000000Z ##[error]Process completed with exit code 1.\n`);
    const answers = await replayAttempt(url, SECRET, runId, 1, [{ id: failing, name: "e2e", conclusion: "failure" }]);
    // The answer of the job's completion decides the attempt (its only job).
    const decided = answers[1]!;
    if (passes) await replayAttempt(url, SECRET, runId, 2, [{ id: nextJob++, name: "e2e", conclusion: "success" }]);
    return { runId, answer: { status: decided.status, reason: decided.body.reason } };
  }

  it("after three failures that passed on rerun, the next one is re-run as transient:flaky-history, said in the answer and on the status page", async () => {
    const s = await server("flaky");
    try {
      for (let i = 0; i < 3; i++) {
        const { runId, answer } = await flakyRun(s.url, true);
        assert.equal(answer.status, 200, answer.reason);
        assert.match(answer.reason, /failed a test .*not transient/);
        assert.equal(gh.rerunCalls(runId), 0, "an assertion alone is not re-run");
      }
      const { runId, answer } = await flakyRun(s.url, false);
      assert.equal(answer.status, 201, answer.reason);
      assert.match(answer.reason, /job "e2e" is flaky \("passed on rerun 3 of 3 times in 30 days"\): transient/);
      assert.equal(gh.rerunCalls(runId), 1);
      const page = await fetch(`${s.url}/status`, { headers: { authorization: `Bearer ${STATUS_TOKEN}` } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /passed on rerun 3 of 3 times in 30 days/);
    } finally {
      await s.stop();
    }
  });

  it("RERUN_FLAKY_AFTER=0 turns it off; a NO_RERUN_PATTERNS match still vetoes", async () => {
    const cases: Record<string, string>[] = [{ RERUN_FLAKY_AFTER: "0" }, { NO_RERUN_PATTERNS: "AssertionError" }];
    for (const env of cases) {
      const s = await server(Object.keys(env)[0]!, env);
      try {
        for (let i = 0; i < 3; i++) await flakyRun(s.url, true);
        const { runId, answer } = await flakyRun(s.url, false);
        assert.equal(answer.status, 200, `${JSON.stringify(env)}: ${answer.reason}`);
        assert.doesNotMatch(answer.reason, /flaky/);
        assert.equal(gh.rerunCalls(runId), 0);
      } finally {
        await s.stop();
      }
    }
  });

  it("RERUN_FLAKY_AFTER=lots stops startup naming the variable", async () => {
    const child = spawnBin({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", RERUN_WHEN: "transient", RERUN_FLAKY_AFTER: "lots", PORT: "0" }, dir);
    const exit = await child.exited;
    assert.notEqual(exit.code, 0);
    assert.match(child.stderr.join(""), /^job-rerunner: RERUN_FLAKY_AFTER must be a whole number, got "lots"/m);
  });
});
