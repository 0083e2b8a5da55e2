import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { sampleRecord, storeContract } from "@job-rerunner/core/testing";
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
}), {
  skipConcurrentWriters:
    "@firestore-emulator/server ignores update-time preconditions (it only checks `exists`) and does not isolate transactions, so concurrent writers cannot be serialized there; real Firestore enforces the precondition",
});

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
