// A 256-job matrix whose jobs all finish at the same moment: 256+ deliveries for ONE run record,
// sent at once over real HTTP to one or three server processes (src/bin.ts, as `npm start` runs
// it) on one SQLite file or one PostgreSQL database, against the stand-in for GitHub. Every
// delivery is a compare-and-set on the same row; the per-run queue (engine/run-queue.ts) decides
// those arriving together in one write. What must hold whatever the timing: no 5xx (none of them
// is lost to contention), exactly one rerun requested, and every job's effect in the record.
// No timing is asserted (speed is `npm run bench`'s).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { recordKey, type RunRecord } from "@job-rerunner/core";
import { signedDelivery, startFakeGitHub, workflowJobPayload, type FakeGitHub, type SignedDelivery } from "@job-rerunner/testing";
import { testSchema, type TestSchema } from "./pg-support.js";
import { deliver, startBin, type Answer, type RunningBin } from "./support.js";

const SECRET = "burst-webhook-secret";
const REPO_ID = 186853002;
const JOBS = 256;

function job(runId: number, jobId: number, action: "queued" | "in_progress" | "completed"): SignedDelivery {
  // Job 1 fails: the run is re-run once its last job completes, whichever delivery that is.
  const conclusion = action === "completed" ? (jobId === 1 ? "failure" : "success") : null;
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion, jobName: `job ${jobId}` }));
}

/** Every job's delivery for one step, all sent at once, spread over the instances in turn. */
async function burst(urls: readonly string[], runId: number, step: "queued" | "in_progress" | "completed"): Promise<Answer[]> {
  return Promise.all(Array.from({ length: JOBS }, (_, i) => deliver(urls[i % urls.length]!, job(runId, i + 1, step))));
}

async function matrix(gh: FakeGitHub, urls: readonly string[], runId: number, recordOf: () => Promise<RunRecord | undefined>): Promise<void> {
  gh.rerun("ok");
  for (const step of ["queued", "in_progress"] as const) {
    for (const answer of await burst(urls, runId, step)) assert.equal(answer.status, 202, `${step}: ${answer.status} ${answer.body.reason}`);
  }
  const answers = await burst(urls, runId, "completed");
  for (const answer of answers) assert.ok(answer.status < 500, `no 5xx: ${answer.status} ${answer.body.reason}`);
  const reruns = answers.filter((a) => a.status === 201);
  assert.equal(reruns.length, 1, `one delivery decides the rerun: ${answers.map((a) => a.status).join(" ")}`);
  assert.match(reruns[0]!.body.reason, /GitHub accepted the rerun/);
  assert.equal(answers.filter((a) => a.status === 202).length, JOBS - 1, "the others wait for the last job");
  assert.equal(gh.rerunCalls(runId), 1, "one call to GitHub");
  assert.equal(gh.performed(runId), 1, "one rerun");
  const record = await recordOf();
  assert.ok(record);
  assert.equal(record.rerun.state, "requested");
  assert.equal(Object.keys(record.jobs).length, JOBS);
  assert.ok(
    Object.entries(record.jobs).every(([id, j]) => j.status === "completed" && j.conclusion === (id === "1" ? "failure" : "success")),
    "every delivery's effect is in the record",
  );
}

describe("a 256-job matrix finishing at once", () => {
  let gh: FakeGitHub;
  let cwd: string;
  const env = (store: string): Record<string, string> => ({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_burst_token", GITHUB_API_URL: gh.url, STORE: store });

  before(async () => {
    gh = await startFakeGitHub();
    cwd = mkdtempSync(join(tmpdir(), "job-rerunner-burst-"));
  });
  after(async () => {
    await gh?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("one server on SQLite: no 5xx, one rerun", { timeout: 120_000 }, async () => {
    const file = join(cwd, "burst.db");
    const server = await startBin(env(`sqlite:${file}`), cwd);
    try {
      await matrix(gh, [server.url], 91_001, async () => {
        const db = new Database(file, { readonly: true });
        try {
          const row = db.prepare<[string], { record: string }>("SELECT record FROM run_records WHERE key = ?").get(recordKey(REPO_ID, 91_001));
          return row === undefined ? undefined : (JSON.parse(row.record) as RunRecord);
        } finally {
          db.close();
        }
      });
    } finally {
      await server.stop();
    }
  });

  for (const instances of [1, 3]) {
    it(`${instances} server${instances === 1 ? "" : "s"} on one PostgreSQL database: no 5xx, one rerun`, { timeout: 180_000 }, async () => {
      const schema: TestSchema = testSchema(`burst${instances}`);
      const runId = 92_000 + instances;
      const servers: RunningBin[] = [];
      try {
        // One after the other: the first creates the tables.
        for (let i = 0; i < instances; i++) servers.push(await startBin(env(schema.url()), cwd));
        await matrix(
          gh,
          servers.map((s) => s.url),
          runId,
          async () => {
            const rows = await schema.query<{ record: string }>(`SELECT record FROM "${schema.name}".job_rerunner_runs WHERE key = $1`, [recordKey(REPO_ID, runId)]);
            return rows[0] === undefined ? undefined : (JSON.parse(rows[0].record) as RunRecord);
          },
        );
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
        await schema.drop();
      }
    });
  }
});
