import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeContract, sampleRecord } from "@job-rerunner/testing";
import { SqliteStore } from "@job-rerunner/adapter-express";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "job-rerunner-sqlite-"));
}

storeContract("SqliteStore (file)", async () => {
  const dir = tempDir();
  return { store: new SqliteStore(join(dir, "nested", "state.sqlite")), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe("SqliteStore specifics", () => {
  it("creates the file's directory and keeps records across a reopen", async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "a", "b", "state.sqlite");
      const first = new SqliteStore(path);
      assert.ok(existsSync(path));
      const record = sampleRecord();
      assert.equal(await first.put("k", record, undefined), true);
      const version = (await first.get("k"))?.version;
      await first.close();
      const second = new SqliteStore(path);
      const got = await second.get("k");
      assert.deepEqual(got?.record, record);
      assert.equal(got?.version, version);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a directory it cannot create (under /proc, under a file) fails at once with the path, instead of hanging", { timeout: 10_000 }, () => {
    if (existsSync("/proc/self")) assert.throws(() => new SqliteStore("/proc/nope/deeper/x.sqlite"), /ENOENT.*mkdir '\/proc\/nope'/);
    const dir = mkdtempSync(join(tmpdir(), "job-rerunner-sqlite-file-"));
    try {
      const file = join(dir, "a-file");
      new SqliteStore(join(dir, "made", "x.sqlite")).close();
      writeFileSync(file, "");
      assert.throws(() => new SqliteStore(join(file, "sub", "x.sqlite")), /is not a directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two connections on one file see each other's writes and refuse stale versions", async () => {
    const dir = tempDir();
    const path = join(dir, "shared.sqlite");
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    try {
      await a.put("k", sampleRecord(), undefined);
      const seenByB = await b.get("k");
      assert.ok(seenByB);
      assert.equal(await a.put("k", sampleRecord({ attempt: 2 }), seenByB.version), true);
      assert.equal(await b.put("k", sampleRecord({ attempt: 3 }), seenByB.version), false);
      assert.equal((await b.get("k"))?.record.attempt, 2);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("expires by TTL: an expired row reads as absent, a stale version cannot revive it, sweep deletes it", async () => {
    let now = 1_000_000;
    const store = new SqliteStore(":memory:", { now: () => now, sweepIntervalMs: 0 });
    try {
      await store.put("k", sampleRecord({ expiresAt: now + 100 }), undefined);
      const before = await store.get("k");
      assert.ok(before);
      now += 100;
      assert.equal(await store.get("k"), undefined);
      assert.equal(await store.put("k", sampleRecord({ expiresAt: now + 100 }), before.version), false);
      assert.equal(store.sweep(), 1);
      assert.equal(store.sweep(), 0);
      assert.equal(await store.put("k", sampleRecord({ expiresAt: now + 100, attempt: 7 }), undefined), true);
      assert.equal((await store.get("k"))?.record.attempt, 7);
    } finally {
      await store.close();
    }
  });

  it("refuses version tokens it never handed out", async () => {
    const store = new SqliteStore(":memory:", { sweepIntervalMs: 0 });
    try {
      await store.put("k", sampleRecord(), undefined);
      for (const bad of ["", "abc", "1.0", "-1", "99999999999999999999"]) {
        assert.equal(await store.put("k", sampleRecord({ attempt: 9 }), bad), false, bad);
      }
      assert.equal((await store.get("k"))?.record.attempt, 1);
    } finally {
      await store.close();
    }
  });
});
