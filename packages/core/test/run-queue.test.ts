// The per-run queue in front of the compare-and-set (engine/run-queue.ts), through the engine: a
// matrix's deliveries handed in all at once, to one rerunner or to two sharing one store (two
// instances), against the stand-in GitHub. What must hold: no delivery lost or answered 5xx,
// every job's effect in the record, exactly one rerun. (Over HTTP with SQLite and PostgreSQL:
// packages/adapter-express/test/burst.test.ts.)
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, MemoryStore, recordKey, type Observation, type Rerunner } from "@job-rerunner/core";
import { startFakeGitHub, signedDelivery, workflowJobPayload, type FakeGitHub } from "@job-rerunner/testing";

const SECRET = "run-queue-test-secret";
const JOBS = 64;

function job(runId: number, jobId: number, action: "queued" | "in_progress" | "completed") {
  const conclusion = action === "completed" ? (jobId === 1 ? "failure" : "success") : null;
  return signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion }));
}

describe("deliveries of one run handed in together", () => {
  let gh: FakeGitHub;
  before(async () => {
    gh = await startFakeGitHub();
    gh.rerun("ok");
  });
  after(async () => {
    await gh.close();
  });

  async function matrix(rerunners: readonly Rerunner[], store: MemoryStore, runId: number): Promise<void> {
    const all = (action: "queued" | "in_progress" | "completed") =>
      Promise.all(Array.from({ length: JOBS }, (_, i) => rerunners[i % rerunners.length]!.handle(job(runId, i + 1, action))));
    for (const step of ["queued", "in_progress"] as const) {
      for (const answer of await all(step)) assert.equal(answer.status, 202, answer.body.reason);
    }
    const answers = await all("completed");
    assert.deepEqual(
      answers.map((a) => a.status).sort(),
      [...Array.from({ length: JOBS - 1 }, () => 202), 201].sort(),
      answers.map((a) => `${a.status} ${a.body.reason}`).join("\n"),
    );
    assert.equal(gh.rerunCalls(runId), 1);
    const record = (await store.get(recordKey(186853002, runId)))?.record;
    assert.ok(record);
    assert.equal(record.rerun.state, "requested");
    assert.equal(Object.values(record.jobs).filter((j) => j.status === "completed").length, JOBS, "no delivery's effect lost");
  }

  it("one rerunner: decided together, one rerun, not one lost write", async () => {
    const store = new MemoryStore();
    const conflicts: Observation[] = [];
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_queue", GITHUB_API_URL: gh.url });
    const rerunner = createRerunner({ config, store, logger: () => {}, reconciledElsewhere: true, observer: (o) => void (o.type === "store-conflict" && conflicts.push(o)) });
    await matrix([rerunner], store, 61_001);
    assert.deepEqual(conflicts, [], "a run's deliveries in one process never race each other");
  });

  it("two rerunners on one store (two instances): lost writes are decided again, one rerun", async () => {
    const store = new MemoryStore();
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_queue", GITHUB_API_URL: gh.url });
    const two = [0, 1].map(() => createRerunner({ config, store, logger: () => {}, reconciledElsewhere: true }));
    await matrix(two, store, 61_002);
  });
});
