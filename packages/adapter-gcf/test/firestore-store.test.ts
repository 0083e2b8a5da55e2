import { after, before, describe, it } from "node:test";
import type { Firestore } from "@google-cloud/firestore";
import assert from "node:assert/strict";
import { sampleRecord, storeContract } from "@job-rerunner/testing";
import { FirestoreStore, documentId, validateCollection } from "../src/firestore-store.js";
import { startEmulator, type Emulator } from "./emulator.js";

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator.stop();
});

storeContract("FirestoreStore on @firestore-emulator/server", async () => ({
  store: new FirestoreStore({ firestore: emulator.client(), collection: `contract-${process.pid}` }),
}));

describe("FirestoreStore details", () => {
  it("uses recordKey ids as they are and escapes anything else into a safe, distinct id", () => {
    assert.equal(documentId("r186853002-2202229078"), "r186853002-2202229078");
    for (const key of ["a/b", ".", "..", "__name__", "ü", "x".repeat(300), ""]) {
      const id = documentId(key);
      assert.match(id, /^~[A-Za-z0-9_-]*$/);
      assert.notEqual(documentId(key + "!"), id);
    }
  });

  it("refuses collection ids Firestore would reject", () => {
    for (const bad of ["", "a/b", ".", "..", "__x__"]) assert.throws(() => validateCollection(bad), RangeError);
    assert.equal(validateCollection("job-rerunner-runs"), "job-rerunner-runs");
  });

  it("stores expiresAt as a Timestamp for the TTL policy, and works with keys that need escaping", async () => {
    const firestore = emulator.client();
    const store = new FirestoreStore({ firestore, collection: "ttl-check" });
    const record = sampleRecord();
    assert.equal(await store.put("owner/repo#1", record, undefined), true);
    assert.deepEqual((await store.get("owner/repo#1"))?.record, record);
    const snapshot = await firestore.collection("ttl-check").doc(documentId("owner/repo#1")).get();
    const expiresAt: unknown = snapshot.get("expiresAt");
    assert.ok(expiresAt !== null && typeof expiresAt === "object" && "toMillis" in expiresAt && typeof expiresAt.toMillis === "function");
    assert.equal(expiresAt.toMillis(), record.expiresAt);
  });
});

describe("FirestoreStore with documents it did not write", () => {
  it("treats an unreadable document as absent and can replace it", async () => {
    const firestore = emulator.client();
    const store = new FirestoreStore({ firestore, collection: "foreign" });
    await firestore.collection("foreign").doc("r1-1").set({ record: "{ not json", note: "edited by hand" });
    assert.equal(await store.get("r1-1"), undefined);
    assert.equal(await store.put("r1-1", sampleRecord(), undefined), true);
    assert.equal((await store.get("r1-1"))?.record.attempt, 1);
  });
});

/** The gRPC code of a rejected promise (undefined when it resolved or carried none). */
async function codeOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return typeof error === "object" && error !== null && "code" in error && typeof error.code === "number" ? error.code : undefined;
  }
}

describe("the emulator harness enforces what real Firestore does", () => {
  let firestore: Firestore;
  before(() => {
    firestore = emulator.client();
  });

  it("refuses a stale update-time precondition with FAILED_PRECONDITION, and one on a missing document", async () => {
    const ref = firestore.collection("preconditions").doc("stale");
    const first = await ref.set({ n: 1 });
    await ref.update({ n: 2 }, { lastUpdateTime: first.writeTime });
    assert.equal(await codeOf(ref.update({ n: 3 }, { lastUpdateTime: first.writeTime })), 9);
    assert.equal((await ref.get()).get("n"), 2);
    const missing = firestore.collection("preconditions").doc("missing");
    assert.equal(await codeOf(missing.update({ n: 1 }, { lastUpdateTime: first.writeTime })), 9);
    assert.equal((await missing.get()).exists, false);
  });

  it("gives every write to a document a distinct, later update time, even for writes landing in the same millisecond", async () => {
    const ref = firestore.collection("preconditions").doc("burst");
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => ref.set({ i })));
    const times = results.map((r) => r.writeTime.valueOf());
    assert.equal(new Set(times).size, times.length);
    const last = results.reduce((a, b) => (b.writeTime.valueOf() > a.writeTime.valueOf() ? b : a));
    const snapshot = await ref.get();
    assert.ok(snapshot.updateTime?.isEqual(last.writeTime));
    assert.equal(snapshot.get("i"), results.indexOf(last));
  });
});

describe("FirestoreStore compare-and-set decided by the server", () => {
  it("of two stores on separate clients writing from the same version, exactly one wins", async () => {
    const a = new FirestoreStore({ firestore: emulator.client(), collection: "race" });
    const b = new FirestoreStore({ firestore: emulator.client(), collection: "race" });
    assert.equal(await a.put("r1-1", sampleRecord({ attempt: 1 }), undefined), true);
    const seen = await a.get("r1-1");
    assert.ok(seen);
    assert.deepEqual(await b.get("r1-1"), seen);
    // put reads nothing before writing, so a refusal here can only be the server's precondition.
    const results = await Promise.all([a.put("r1-1", sampleRecord({ attempt: 2 }), seen.version), b.put("r1-1", sampleRecord({ attempt: 3 }), seen.version)]);
    assert.deepEqual([...results].sort(), [false, true]);
    assert.equal((await b.get("r1-1"))?.record.attempt, results[0] ? 2 : 3);
    assert.equal(await b.put("r1-1", sampleRecord({ attempt: 4 }), seen.version), false);
  });

  it("of two creators over an expired leftover, exactly one replaces it", async () => {
    const firestore = emulator.client();
    const store = new FirestoreStore({ firestore, collection: "race" });
    assert.equal(await store.put("r1-2", sampleRecord({ expiresAt: Date.now() - 1000 }), undefined), true);
    const other = new FirestoreStore({ firestore: emulator.client(), collection: "race" });
    const results = await Promise.all([store.put("r1-2", sampleRecord({ attempt: 2 }), undefined), other.put("r1-2", sampleRecord({ attempt: 3 }), undefined)]);
    assert.deepEqual([...results].sort(), [false, true]);
    assert.equal((await store.get("r1-2"))?.record.attempt, results[0] ? 2 : 3);
  });

  it("refuses a version whose record has expired since it was read, as MemoryStore does", async () => {
    let now = Date.now();
    const store = new FirestoreStore({ firestore: emulator.client(), collection: "race", now: () => now });
    assert.equal(await store.put("r1-3", sampleRecord({ expiresAt: now + 1000 }), undefined), true);
    const seen = await store.get("r1-3");
    assert.ok(seen);
    now += 1000;
    assert.equal(await store.put("r1-3", sampleRecord({ attempt: 2 }), seen.version), false);
    assert.equal(await store.get("r1-3"), undefined);
    assert.equal(await store.put("r1-3", sampleRecord({ attempt: 3, expiresAt: now + 60_000 }), undefined), true);
    assert.equal((await store.get("r1-3"))?.record.attempt, 3);
  });

  it("refuses version tokens it never issued and leaves the record alone", async () => {
    const store = new FirestoreStore({ firestore: emulator.client(), collection: "race" });
    await store.put("r1-4", sampleRecord(), undefined);
    const seen = await store.get("r1-4");
    assert.ok(seen);
    for (const bogus of ["", "1", "x.000000000@1", "99999999999999.000000000@1", seen.version.replace(/@.*/, ""), seen.version.replace(/^(\d+)/, (seconds) => String(Number(seconds) - 1))]) {
      assert.equal(await store.put("r1-4", sampleRecord({ attempt: 9 }), bogus), false, bogus);
    }
    assert.deepEqual(await store.get("r1-4"), seen);
  });
});
