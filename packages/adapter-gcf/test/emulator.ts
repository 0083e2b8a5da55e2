// Starts @firestore-emulator/server (a Node implementation of the Firestore gRPC API) on a free
// port of 127.0.0.1 for the tests, and gives clients and stores connected to it.
import { Firestore } from "@google-cloud/firestore";
import { FirestoreServer, type FirestoreState } from "@firestore-emulator/server";
import { Write } from "@firestore-emulator/proto/dist/google/firestore/v1/write.js";
export { freePort } from "@job-rerunner/testing";
import { freePort } from "@job-rerunner/testing";

/** gRPC FAILED_PRECONDITION, what real Firestore answers to a stale `update_time` precondition. */
const FAILED_PRECONDITION = 9;

export interface Emulator {
  /** host:port, as FIRESTORE_EMULATOR_HOST takes it. */
  readonly host: string;
  readonly projectId: string;
  /** A client on the emulator (ssl off, as the client does for FIRESTORE_EMULATOR_HOST). */
  client(): Firestore;
  stop(): Promise<void>;
}

/** What the client gets for FIRESTORE_EMULATOR_HOST (src/store-from-spec.ts does the same). */
export function emulatorSettings(projectId: string, host: string) {
  return { projectId, host, ssl: false, universeDomain: "googleapis.com" };
}

export async function startEmulator(projectId = "job-rerunner-test"): Promise<Emulator> {
  const server = new FirestoreServer();
  enforceUpdateTimePreconditions(server.state);
  const port = await freePort();
  await server.start(port);
  const host = `127.0.0.1:${port}`;
  const clients: Firestore[] = [];
  return {
    host,
    projectId,
    client() {
      const firestore = new Firestore(emulatorSettings(projectId, host));
      clients.push(firestore);
      return firestore;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.terminate()));
      server.stop();
    },
  };
}

/** Microseconds since the epoch: the unit of Firestore's update times and of its precondition errors. */
function micros(seconds: number, nanos: number): number {
  return seconds * 1_000_000 + Math.floor(nanos / 1000);
}

/**
 * Makes the emulator keep the two promises of real Firestore that FirestoreStore's compare-and-set
 * rests on, which @firestore-emulator/server (0.3.x) does not:
 *
 * 1. A write whose `current_document.update_time` precondition differs from the document's update
 *    time (or whose document is missing) fails with FAILED_PRECONDITION, "the stored version (x)
 *    does not match the required base version (y)". The emulator checks only `exists`
 *    preconditions in `writeV1Document`; with `update_time` it falls through to an unconditional
 *    set, so every stale write would win and a missing document would even be created.
 * 2. Every committed write gets a strictly later update time. The emulator stamps a commit with
 *    `new Date()`, so two commits in the same millisecond would share an update time (one version
 *    for two contents). Here each commit gets max(now, previous + 1 ms): distinct and increasing
 *    at millisecond resolution, which `versionOf`'s nanosecond string represents exactly.
 *
 * Wrapping the state's `writeV1Document` (what the service's Commit calls once per write, with one
 * Date per commit) is enough: the gRPC server runs each Commit synchronously on one thread, so the
 * check and the write cannot interleave with another commit. Only single-write commits are atomic
 * here (the emulator applies a batch write by write), which is all FirestoreStore sends.
 */
export function enforceUpdateTimePreconditions(state: FirestoreState): void {
  const EmulatorError = emulatorErrorClass(state);
  const write = state.writeV1Document.bind(state);
  const commitTimes = new WeakMap<Date, Date>();
  let lastCommit = 0;
  state.writeV1Document = (date, change) => {
    let at = commitTimes.get(date);
    if (at === undefined) {
      at = new Date(Math.max(date.getTime(), lastCommit + 1));
      lastCommit = at.getTime();
      commitTimes.set(date, at);
    }
    if (change.has_current_document && change.current_document.has_update_time) {
      const required = change.current_document.update_time;
      const document = state.getDocument(change.has_delete ? change.delete : change.update.name);
      const stored = document.metadata.hasExist ? document.metadata.updatedAt.getTime() * 1000 : 0;
      const base = micros(Number(required.seconds), required.nanos);
      if (stored !== base) {
        throw new EmulatorError(
          FAILED_PRECONDITION,
          `the stored version (${stored}) does not match the required base version (${base})`,
        );
      }
    }
    return write(at, change);
  };
}

type EmulatorErrorClass = new (code: number, message: string) => Error;

/**
 * The emulator's Commit answers with a gRPC status only for errors of its own class (anything
 * else becomes UNKNOWN, "Something went wrong"), and that class is bundled into its dist without
 * an export. So it is taken from the error the emulator throws for a failed `exists` precondition
 * on a document in a project no client uses.
 */
function emulatorErrorClass(state: FirestoreState): EmulatorErrorClass {
  const probe = Write.fromObject({
    delete: "projects/harness-probe/databases/(default)/documents/probe/missing",
    current_document: { exists: true },
  });
  try {
    state.writeV1Document(new Date(), probe);
  } catch (error) {
    if (error instanceof Error && "code" in error) return error.constructor as EmulatorErrorClass;
  }
  throw new Error("@firestore-emulator/server no longer rejects a failed `exists` precondition with its own error; test/emulator.ts needs updating");
}
