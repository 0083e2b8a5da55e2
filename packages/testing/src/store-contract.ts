import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MAX_HISTORY_PER_RUN, type HistoryEntry } from "@job-rerunner/core";
import type { Store } from "@job-rerunner/core";
import type { RunRecord } from "@job-rerunner/core";

/** A valid record for store tests; `expiresAt` defaults to an hour from now. */
export function sampleRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  const now = Date.now();
  return {
    v: 1,
    repo: { id: 186853002, owner: "Codertocat", name: "Hello-World" },
    runId: 2202229078,
    attempt: 1,
    headBranch: "main",
    defaultBranch: "main",
    workflowName: "CI",
    jobs: { "289782451": { name: "linters", status: "completed", conclusion: "failure" } },
    failureSeen: true,
    runConclusion: null,
    runCompleted: false,
    rerun: { state: "none" },
    deliveries: [{ id: "d-1", status: 202, reason: "waiting for 1 job" }],
    updatedAt: now,
    expiresAt: now + 3_600_000,
    ...overrides,
  };
}

/** A valid history entry for store tests; `expiresAt` defaults to an hour from `at`. */
export function sampleHistoryEntry(overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  const at = overrides.at ?? Date.now();
  return {
    at,
    repo: { id: 186853002, owner: "Codertocat", name: "Hello-World" },
    runId: 2202229078,
    attempt: 1,
    workflow: "CI",
    branch: "main",
    status: 201,
    reason: "Codertocat/Hello-World run 2202229078 attempt 1 finished with failed jobs: re-running failed jobs",
    verdict: "rerun",
    jobs: [{ name: "test (ubuntu, \"ü\")", conclusion: "failure", evidence: "##[error]Process completed with exit code 1." }],
    expiresAt: at + 3_600_000,
    ...overrides,
  };
}

export interface StoreContractOptions {
  /** Concurrent read-modify-write cycles on one key (default 50). */
  readonly concurrentWriters?: number;
  /** Skip the concurrent-writers case, with the reason shown in the report. */
  readonly skipConcurrentWriters?: string;
}

let keyCounter = 0;
function freshKey(): string {
  keyCounter++;
  return `r${process.pid}-${Date.now()}${keyCounter}`;
}

/**
 * Registers the Store contract as node:test cases. Every Store implementation must pass it:
 * `storeContract("SqliteStore", async () => ({ store, cleanup }))`.
 */
export function storeContract(
  name: string,
  open: () => Promise<{ store: Store; cleanup?: () => Promise<void> }>,
  options: StoreContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: (() => Promise<void>) | undefined;

    before(async () => {
      const opened = await open();
      store = opened.store;
      cleanup = opened.cleanup;
    });
    after(async () => {
      await store?.close?.();
      await cleanup?.();
    });

    it("get on a missing key is undefined", async () => {
      assert.equal(await store.get(freshKey()), undefined);
    });

    it("put with no expected version creates, and round-trips the record exactly", async () => {
      const key = freshKey();
      const record = sampleRecord();
      assert.equal(await store.put(key, record, undefined), true);
      const got = await store.get(key);
      assert.ok(got);
      assert.deepEqual(got.record, record);
      assert.equal(typeof got.version, "string");
    });

    it("put with no expected version fails when a live record exists", async () => {
      const key = freshKey();
      assert.equal(await store.put(key, sampleRecord(), undefined), true);
      assert.equal(await store.put(key, sampleRecord({ attempt: 2 }), undefined), false);
      assert.equal((await store.get(key))?.record.attempt, 1);
    });

    it("put with the current version replaces; a stale version is refused", async () => {
      const key = freshKey();
      await store.put(key, sampleRecord(), undefined);
      const first = await store.get(key);
      assert.ok(first);
      assert.equal(await store.put(key, sampleRecord({ attempt: 2 }), first.version), true);
      const second = await store.get(key);
      assert.ok(second);
      assert.notEqual(second.version, first.version);
      assert.equal(second.record.attempt, 2);
      assert.equal(await store.put(key, sampleRecord({ attempt: 3 }), first.version), false);
      assert.equal((await store.get(key))?.record.attempt, 2);
    });

    it("put with a version on a missing key is refused", async () => {
      const key = freshKey();
      assert.equal(await store.put(key, sampleRecord(), "1"), false);
      assert.equal(await store.get(key), undefined);
    });

    it("keys are independent", async () => {
      const a = freshKey();
      const b = freshKey();
      await store.put(a, sampleRecord({ runId: 1 }), undefined);
      await store.put(b, sampleRecord({ runId: 2 }), undefined);
      assert.equal((await store.get(a))?.record.runId, 1);
      assert.equal((await store.get(b))?.record.runId, 2);
    });

    it("an expired record reads as absent and can be created again", async () => {
      const key = freshKey();
      const past = Date.now() - 1000;
      assert.equal(await store.put(key, sampleRecord({ expiresAt: past }), undefined), true);
      assert.equal(await store.get(key), undefined);
      assert.equal(await store.put(key, sampleRecord({ attempt: 5 }), undefined), true);
      assert.equal((await store.get(key))?.record.attempt, 5);
    });

    it("stores nested records with many jobs and unusual names", async () => {
      const key = freshKey();
      const jobs: Record<string, { name: string; status: "completed"; conclusion: string }> = {};
      for (let i = 0; i < 256; i++) {
        jobs[String(9_000_000_000 + i)] = { name: `matrix (${i}, "ü/ñ" . $x)`, status: "completed", conclusion: "success" };
      }
      const record = sampleRecord({ jobs, repo: { id: 1, owner: "o.r-g", name: "a.b_c-d" } });
      await store.put(key, record, undefined);
      assert.deepEqual((await store.get(key))?.record, record);
    });

    it("documents: create, read, compare-and-set, separate from run records", async () => {
      const key = freshKey();
      const later = Date.now() + 3_600_000;
      assert.equal(await store.getDoc(key), undefined);
      assert.equal(await store.putDoc(key, { cursor: "2026-01-01T00:00:00Z", etag: 'W/"abc"', n: 1 }, undefined, later), true);
      assert.equal(await store.putDoc(key, { n: 2 }, undefined, later), false, "a second create is refused");
      const first = await store.getDoc(key);
      assert.ok(first);
      assert.deepEqual(first.value, { cursor: "2026-01-01T00:00:00Z", etag: 'W/"abc"', n: 1 });
      assert.equal(await store.get(key), undefined, "a document is not a run record");
      assert.equal(await store.putDoc(key, { n: 2 }, first.version, later), true);
      assert.equal(await store.putDoc(key, { n: 3 }, first.version, later), false, "a stale version is refused");
      assert.deepEqual((await store.getDoc(key))?.value, { n: 2 });
      assert.equal(await store.putDoc(freshKey(), { n: 1 }, "1", later), false, "a version on a missing document is refused");
      // A run record under the same key does not disturb the document.
      assert.equal(await store.put(key, sampleRecord(), undefined), true);
      assert.deepEqual((await store.getDoc(key))?.value, { n: 2 });
    });

    it("documents: an expired document reads as absent and can be created again", async () => {
      const key = freshKey();
      assert.equal(await store.putDoc(key, ["a"], undefined, Date.now() - 1000), true);
      assert.equal(await store.getDoc(key), undefined);
      assert.equal(await store.putDoc(key, ["b"], undefined, Date.now() + 60_000), true);
      assert.deepEqual((await store.getDoc(key))?.value, ["b"]);
    });

    it("listPending: runs whose pending lease ended, oldest first, within the limit", async () => {
      const now = Date.now();
      // Far in the past, so records other tests left pending sort after these.
      const base = 1_000_000;
      const pending = (leaseUntil: number) =>
        sampleRecord({
          rerun: { state: "pending", attempt: 1, decidedAt: base, leaseHolder: "h", leaseUntil, calls: 1, lastError: null },
        });
      const [late, early, held, none, requested, expired] = [freshKey(), freshKey(), freshKey(), freshKey(), freshKey(), freshKey()];
      await store.put(late, pending(base + 20), undefined);
      await store.put(early, pending(base + 10), undefined);
      await store.put(held, pending(now + 60_000), undefined);
      await store.put(none, sampleRecord(), undefined);
      await store.put(requested, sampleRecord({ rerun: { state: "requested", attempt: 1, at: base } }), undefined);
      await store.put(expired, { ...pending(base), expiresAt: now - 1000 }, undefined);
      const due = await store.listPending(now, 1000);
      assert.ok(due.includes(early) && due.includes(late), "expired leases are listed");
      assert.ok(due.indexOf(early) < due.indexOf(late), "oldest lease first");
      for (const key of [held, none, requested, expired]) assert.ok(!due.includes(key), `${key} is not listed`);
      assert.deepEqual(await store.listPending(base + 15, 1000).then((keys) => keys.filter((k) => k === early || k === late)), [early]);
      assert.ok((await store.listPending(now, 1)).length <= 1, "the limit holds");
      // Settling the rerun takes the run off the list.
      const current = await store.get(early);
      assert.ok(current);
      await store.put(early, { ...current.record, rerun: { state: "requested", attempt: 1, at: now } }, current.version);
      assert.ok(!(await store.listPending(now, 1000)).includes(early));
    });

    it("history: entries round-trip, newest first, since and limit hold, expired ones are absent", async () => {
      // Far in the future, so entries other tests wrote sort after these and none of them qualify.
      const base = Date.now() + 10 * 365 * 86_400_000 + Math.floor(Math.random() * 1e9);
      const runId = Math.floor(Math.random() * 1e12);
      const a = sampleHistoryEntry({ at: base + 1, runId, expiresAt: base + 3_600_000 });
      const b = sampleHistoryEntry({ at: base + 2, runId, attempt: 2, verdict: "passed", jobs: [], expiresAt: base + 3_600_000 });
      const c = sampleHistoryEntry({ at: base + 3, runId: runId + 1, verdict: "gave-up", status: 200 });
      const gone = sampleHistoryEntry({ at: base + 4, runId: runId + 2, expiresAt: Date.now() - 1000 });
      for (const e of [a, b, c, gone]) await store.appendHistory(e);
      assert.deepEqual(await store.listHistory(base, 10), [c, b, a]);
      assert.deepEqual(await store.listHistory(base + 2, 10), [c, b], "since is inclusive");
      assert.deepEqual(await store.listHistory(base, 2), [c, b], "the limit keeps the newest");
      assert.deepEqual(await store.listHistory(base + 5, 10), []);
      assert.deepEqual(await store.listHistory(base, 0), []);
    });

    it(`history: at most ${MAX_HISTORY_PER_RUN} entries per run, the oldest dropped; other runs keep theirs`, async () => {
      const base = Date.now() + 20 * 365 * 86_400_000 + Math.floor(Math.random() * 1e9);
      const runId = Math.floor(Math.random() * 1e12);
      const other = sampleHistoryEntry({ at: base, runId: runId + 1 });
      await store.appendHistory(other);
      for (let i = 1; i <= MAX_HISTORY_PER_RUN + 5; i++) {
        await store.appendHistory(sampleHistoryEntry({ at: base + i, runId, attempt: i, expiresAt: base + 3_600_000 }));
      }
      const listed = await store.listHistory(base, 1000);
      const ours = listed.filter((e) => e.runId === runId);
      assert.equal(ours.length, MAX_HISTORY_PER_RUN);
      assert.equal(ours[0]?.attempt, MAX_HISTORY_PER_RUN + 5, "the newest is kept");
      assert.equal(ours.at(-1)?.attempt, 6, "the five oldest are dropped");
      assert.deepEqual(listed.filter((e) => e.runId === runId + 1), [other]);
    });

    const writers = options.concurrentWriters ?? 50;
    it(
      `${writers} concurrent read-modify-write cycles on one key lose no update`,
      { skip: options.skipConcurrentWriters ?? false },
      async () => {
        const key = freshKey();
        await store.put(key, sampleRecord({ jobs: {} }), undefined);
        let conflicts = 0;
        const writer = async (n: number): Promise<void> => {
          for (let tries = 0; tries < 10_000; tries++) {
            const current = await store.get(key);
            assert.ok(current);
            const jobs = { ...current.record.jobs, [String(n)]: { name: `w${n}`, status: "completed" as const, conclusion: "success" } };
            if (await store.put(key, { ...current.record, jobs }, current.version)) return;
            conflicts++;
            // Let other writers move; the jitter spreads retries out.
            await new Promise((r) => setTimeout(r, Math.random() * 5));
          }
          assert.fail(`writer ${n} never got its write in`);
        };
        await Promise.all(Array.from({ length: writers }, (_, n) => writer(n)));
        const final = await store.get(key);
        assert.ok(final);
        assert.equal(Object.keys(final.record.jobs).length, writers, `lost updates (conflicts seen: ${conflicts})`);
      },
    );
  });
}
