import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore, recordKey } from "@job-rerunner/core";
import { storeContract, sampleRecord } from "@job-rerunner/testing";

storeContract("MemoryStore", async () => ({ store: new MemoryStore() }));

describe("MemoryStore", () => {
  it("drops expired records on sweep so memory stays bounded", async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    for (let i = 0; i < 10; i++) await store.put(`k${i}`, sampleRecord({ expiresAt: now + 1000 * (i + 1) }), undefined);
    assert.equal(store.size, 10);
    now += 5_500;
    assert.equal(store.sweep(), 5);
    assert.equal(store.size, 5);
  });

  it("hands out copies: mutating what get returned does not change the store", async () => {
    const store = new MemoryStore();
    await store.put("k", sampleRecord(), undefined);
    const got = await store.get("k");
    assert.ok(got);
    (got.record.jobs as Record<string, unknown>)["1"] = { name: "x" };
    assert.equal(Object.keys((await store.get("k"))!.record.jobs).length, 1);
  });

  it("recordKey is a safe document id", () => {
    assert.match(recordKey(186853002, 2202229078), /^[A-Za-z0-9-]+$/);
    assert.notEqual(recordKey(1, 23), recordKey(12, 3));
  });
});
