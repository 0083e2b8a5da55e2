import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, createRerunner, MemoryStore, type Rerunner } from "@job-rerunner/core";
import { startFakeGitHub, signedDelivery, workflowRunPayload, type FakeGitHub, type RunShape } from "@job-rerunner/testing";

const SECRET = "repo-config-secret";
const FILE = ".github/job-rerunner.yml";
let nextRun = 70_000;
let nextRepo = 1;

function failedRun(shape: Omit<RunShape, "runId">) {
  const runId = nextRun++;
  return { runId, delivery: signedDelivery(SECRET, "workflow_run", workflowRunPayload({ ...shape, runId, action: "completed", conclusion: "failure" })) };
}

describe("per-repository configuration (.github/job-rerunner.yml)", () => {
  let gh: FakeGitHub;
  let offset = 0;
  const clock = (): number => Date.now() + offset;
  let engine: Rerunner;
  let owner: string;
  let repo: string;
  let repoId: number;

  function rerunner(extra: Record<string, string> = {}): Rerunner {
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_cfg", GITHUB_API_URL: gh.url, REPO_CONFIG: "true", ...extra });
    return createRerunner({ config, store: new MemoryStore(), clock, logger: () => {} });
  }
  const run = (shape: Partial<RunShape> = {}) => failedRun({ owner, repo, repoId, ...shape });

  before(async () => {
    gh = await startFakeGitHub();
  });
  after(async () => {
    await gh.close();
  });
  beforeEach(() => {
    offset = 0;
    // A fresh owner per test: nothing cached or served from another test.
    owner = `org-${nextRepo}`;
    repo = `repo-${nextRepo}`;
    repoId = 500 + nextRepo++;
    engine = rerunner();
  });

  it("without a file the server's defaults decide (branch master, 4 attempts), and the 404s are cached", async () => {
    const first = await engine.handle(run().delivery);
    assert.equal(first.status, 201, first.body.reason);
    assert.doesNotMatch(first.body.reason, /job-rerunner\.yml/);
    const second = await engine.handle(run({ branch: "feature" }).delivery);
    assert.equal(second.status, 200);
    assert.match(second.body.reason, /not the repository.s default branch "master"/);
    assert.deepEqual(gh.files.requests(owner, repo, FILE), { total: 1, notModified: 0 });
    assert.deepEqual(gh.files.requests(owner, ".github", FILE), { total: 1, notModified: 0 });
  });

  it("a file that disables the repository: 204 and no rerun", async () => {
    gh.files.set(owner, repo, FILE, "enabled: false\n");
    const { runId, delivery } = run();
    const response = await engine.handle(delivery);
    assert.equal(response.status, 204);
    assert.match(response.body.reason, /disabled for .*enabled: false/);
    assert.equal(gh.rerunCalls(runId), 0);
  });

  it("a file that narrows the branches: a branch the server takes is no longer re-run", async () => {
    engine = rerunner({ REPO_BRANCHES: "*" });
    const wide = await engine.handle(run({ branch: "feature/x" }).delivery);
    assert.equal(wide.status, 201, "without the file every branch is re-run");
    gh.files.set(owner, `${repo}-narrow`, FILE, "branches: [main, 'release/*']\n");
    const narrowed = run({ repo: `${repo}-narrow`, repoId: repoId + 10_000, branch: "feature/x" });
    const response = await engine.handle(narrowed.delivery);
    assert.equal(response.status, 200, response.body.reason);
    assert.match(response.body.reason, /not in REPO_BRANCHES \(main,release\/\*\)/);
    assert.equal(gh.rerunCalls(narrowed.runId), 0);
    const release = await engine.handle(run({ repo: `${repo}-narrow`, repoId: repoId + 10_000, branch: "release/2" }).delivery);
    assert.equal(release.status, 201, release.body.reason);
  });

  it("a file that raises the attempts: attempt 2 of RUN_ATTEMPTS=2 is re-run", async () => {
    engine = rerunner({ RUN_ATTEMPTS: "2" });
    const capped = await engine.handle(run({ attempt: 2 }).delivery);
    assert.equal(capped.status, 204);
    assert.match(capped.body.reason, /RUN_ATTEMPTS=2/);
    gh.files.set(owner, `${repo}-more`, FILE, "run_attempts: 5\n");
    const raised = await engine.handle(run({ repo: `${repo}-more`, repoId: repoId + 20_000, attempt: 2 }).delivery);
    assert.equal(raised.status, 201, raised.body.reason);
  });

  it("a file that sets the rerun policy: a genuine failure is no longer re-run there; an unsafe pattern makes the file invalid", async () => {
    const steps = [
      { name: "Set up job", conclusion: "success" },
      { name: "Run tests", conclusion: "failure" },
    ];
    const listed = (runId: number, jobId: number) => {
      gh.attemptJobs(runId, 1, [{ id: jobId, name: "test", status: "completed", conclusion: "failure", steps }]);
      gh.log(jobId, "2026-11-25T00:00:00.0000000Z AssertionError: expected 1 to equal 2\n");
    };
    const plain = run();
    listed(plain.runId, 9_100_000 + plain.runId);
    assert.equal((await engine.handle(plain.delivery)).status, 201, "the server's policy (failure) re-runs it");

    gh.files.set(owner, `${repo}-strict`, FILE, "rerun_when: transient\nno_rerun_steps: [Run tests]\n");
    const strict = run({ repo: `${repo}-strict`, repoId: repoId + 30_000 });
    listed(strict.runId, 9_100_000 + strict.runId);
    const judged = await engine.handle(strict.delivery);
    assert.equal(judged.status, 200, judged.body.reason);
    assert.match(judged.body.reason, /not transient/);
    assert.equal(gh.rerunCalls(strict.runId), 0);

    gh.files.set(owner, `${repo}-unsafe`, FILE, "rerun_when: transient\nno_rerun_patterns: ['(a+)+$']\n");
    const unsafe = run({ repo: `${repo}-unsafe`, repoId: repoId + 40_000 });
    listed(unsafe.runId, 9_100_000 + unsafe.runId);
    const fallback = await engine.handle(unsafe.delivery);
    assert.equal(fallback.status, 201, "the invalid file is ignored: the server's policy re-runs it");
    assert.match(fallback.body.reason, /job-rerunner\.yml is invalid \(no_rerun_patterns: must be a list of safe regular expressions/);
  });

  it("an invalid file: the defaults decide, and the reason names the file, the field and what is wrong", async () => {
    gh.files.set(owner, repo, FILE, "enabled: false\nrun_attempts: lots\n");
    const { runId, delivery } = run();
    const response = await engine.handle(delivery);
    assert.equal(response.status, 201, "the whole invalid file is ignored, enabled: false too");
    assert.equal(gh.performed(runId), 1);
    assert.match(response.body.reason, new RegExp(`${owner}/${repo}:\\.github/job-rerunner\\.yml is invalid \\(run_attempts: must be a whole number from 1 to 51, got "lots"\\)`));
  });

  it("a file that is not YAML, or an alias bomb, is invalid the same way (no crash)", async () => {
    gh.files.set(owner, repo, FILE, "branches: [main\n");
    const broken = await engine.handle(run().delivery);
    assert.equal(broken.status, 201);
    assert.match(broken.body.reason, /is invalid \(not valid YAML at line \d+/);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]", "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]"];
    gh.files.set(owner, `${repo}-bomb`, FILE, bomb.join("\n"));
    const exploded = await engine.handle(run({ repo: `${repo}-bomb`, repoId: repoId + 30_000 }).delivery);
    assert.equal(exploded.status, 201);
    assert.match(exploded.body.reason, /is invalid \(not usable YAML: .*alias/i);
  });

  it("an organization default applies where the repository has no file; the repository's file wins", async () => {
    gh.files.set(owner, ".github", FILE, "enabled: false\nrun_attempts: 2\n");
    const plain = await engine.handle(run().delivery);
    assert.equal(plain.status, 204);
    assert.match(plain.body.reason, /disabled/);
    gh.files.set(owner, `${repo}-own`, FILE, "enabled: true\n");
    const own = (shape: Partial<RunShape>) => run({ repo: `${repo}-own`, repoId: repoId + 40_000, ...shape });
    const served = await engine.handle(own({}).delivery);
    assert.equal(served.status, 201, served.body.reason);
    // run_attempts still comes from the organization's file.
    const second = await engine.handle(own({ attempt: 2 }).delivery);
    assert.equal(second.status, 204);
    assert.match(second.body.reason, /RUN_ATTEMPTS=2/);
  });

  it("cached per repository, revalidated with If-None-Match after REPO_CONFIG_TTL_S: 304 keeps it, a change applies", async () => {
    engine = rerunner({ REPO_CONFIG_TTL_S: "300" });
    gh.files.set(owner, repo, FILE, "run_attempts: 2\n");
    assert.equal((await engine.handle(run({ attempt: 2 }).delivery)).status, 204);
    assert.equal((await engine.handle(run({ attempt: 2 }).delivery)).status, 204);
    assert.deepEqual(gh.files.requests(owner, repo, FILE), { total: 1, notModified: 0 }, "fresh: no request");
    offset += 301_000;
    assert.equal((await engine.handle(run({ attempt: 2 }).delivery)).status, 204);
    assert.deepEqual(gh.files.requests(owner, repo, FILE), { total: 2, notModified: 1 }, "stale: revalidated, 304");
    const conditional = gh.calls.filter((c) => c.path.startsWith(`/repos/${owner}/${repo}/contents/`)).at(-1)!;
    assert.match(String(conditional.headers["if-none-match"]), /^"[0-9a-f]{40}"$/);
    gh.files.set(owner, repo, FILE, "run_attempts: 3\n");
    assert.equal((await engine.handle(run({ attempt: 2 }).delivery)).status, 204, "the change is not seen before the TTL");
    offset += 301_000;
    const changed = await engine.handle(run({ attempt: 2 }).delivery);
    assert.equal(changed.status, 201, changed.body.reason);
    assert.deepEqual(gh.files.requests(owner, repo, FILE), { total: 3, notModified: 1 });
  });

  it("GitHub failing to serve the file: what was read before stays in use", async () => {
    gh.files.set(owner, repo, FILE, "enabled: false\n");
    assert.equal((await engine.handle(run().delivery)).status, 204);
    gh.files.failWith(502);
    try {
      offset += 301_000;
      const during = await engine.handle(run().delivery);
      assert.equal(during.status, 204, during.body.reason);
      assert.match(during.body.reason, /disabled/);
      assert.equal(gh.files.requests(owner, repo, FILE).total, 2, "it did ask");
    } finally {
      gh.files.failWith(null);
    }
  });

  it("a file never read because GitHub cannot be reached: the defaults apply, with a note", async () => {
    const failing = await startFakeGitHub();
    await failing.close(); // nothing listens there any more
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_cfg", GITHUB_API_URL: failing.url, REPO_CONFIG: "true", DRY_RUN: "true" });
    const offline = createRerunner({ config, store: new MemoryStore(), logger: () => {} });
    const response = await offline.handle(run().delivery);
    assert.equal(response.status, 201, response.body.reason);
    assert.match(response.body.reason, /could not be read .*the defaults apply/);
  });
});
