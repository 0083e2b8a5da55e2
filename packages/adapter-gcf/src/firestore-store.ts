import { Firestore, Timestamp, type DocumentReference, type DocumentSnapshot, type Settings } from "@google-cloud/firestore";
import { pendingUntil, type HistoryEntry, type JsonValue, type RunRecord, type Store, type Versioned, type VersionedDoc } from "@job-rerunner/core";
import { FirestoreHistory } from "./firestore-history.js";

/** Collection used when none is configured (FIRESTORE_COLLECTION). */
export const DEFAULT_COLLECTION = "job-rerunner-runs";

/** gRPC status codes the Firestore client reports on a lost compare-and-set. */
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const FAILED_PRECONDITION = 9;

export interface FirestoreStoreOptions {
  /** A configured client; by default one is made from `settings` (FIRESTORE_EMULATOR_HOST is honoured by the client). */
  readonly firestore?: Firestore;
  readonly settings?: Settings;
  /** Collection holding one document per run (default `job-rerunner-runs`). */
  readonly collection?: string;
  /** Epoch milliseconds; injectable for tests. */
  readonly now?: () => number;
}

/**
 * The stored document. The record itself is kept as one JSON string: it round-trips exactly
 * (Firestore would turn `{}` maps, key order and integer/double distinctions into its own
 * forms) and costs one index entry instead of several per job of a 256-job matrix.
 * `expiresAt` is also a real Timestamp so a Firestore TTL policy on that field deletes old runs;
 * the other top-level fields are only there to make the console readable.
 */
interface RunDocument {
  readonly record: string;
  readonly expiresAt: Timestamp;
  readonly updatedAt: Timestamp;
  readonly repo: string;
  readonly runId: number;
  readonly attempt: number;
  /** Lease end of a pending rerun (null when none): `listPending` queries on it. */
  readonly pendingUntil: number | null;
}

/** A small document (sweep cursor, lease): the value as JSON text, with its expiry. */
interface SmallDocument {
  readonly value: string;
  readonly expiresAt: Timestamp;
}

/** Firestore document ids may not contain "/", be "." or "..", or look like `__x__`; keep them short too. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The document id for a store key. Keys from `recordKey` (`r<repo>-<run>`) are used as they are;
 * anything else is escaped as "~" + base64url, which cannot collide with an unescaped id
 * (those never contain "~").
 */
export function documentId(key: string): string {
  if (SAFE_ID.test(key) && !/^__.*__$/.test(key)) return key;
  return `~${Buffer.from(key, "utf8").toString("base64url")}`;
}

/** The store key a document id stands for: `documentId` reversed. */
export function keyOf(id: string): string {
  return id.startsWith("~") ? Buffer.from(id.slice(1), "base64url").toString("utf8") : id;
}

/**
 * The version token: the document's update time, exact to the nanosecond, and the expiry of the
 * record written at that time. The expiry rides along so `put` can tell, without reading the
 * document again, that a version belongs to a record that has expired since it was read.
 */
function versionOf(time: Timestamp, expiresAt: number): string {
  return `${time.seconds}.${String(time.nanoseconds).padStart(9, "0")}@${expiresAt}`;
}

/** Timestamp's own range (years 1-9999); outside it the constructor throws. */
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;

/** The update time and expiry inside a token from `versionOf`; undefined for anything else. */
function parseVersion(version: string): { updateTime: Timestamp; expiresAt: number } | undefined {
  // Firestore keeps update times to the microsecond and refuses a precondition finer than that.
  const match = /^(-?\d{1,12})\.(\d{6}000)@(-?\d+(?:\.\d+)?)$/.exec(version);
  if (match === null) return undefined;
  const seconds = Number(match[1]);
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return undefined;
  return { updateTime: new Timestamp(seconds, Number(match[2])), expiresAt: Number(match[3]) };
}

function toDocument(record: RunRecord): RunDocument {
  return {
    record: JSON.stringify(record),
    expiresAt: Timestamp.fromMillis(record.expiresAt),
    updatedAt: Timestamp.fromMillis(record.updatedAt),
    repo: `${record.repo.owner}/${record.repo.name}`,
    runId: record.runId,
    attempt: record.attempt,
    pendingUntil: pendingUntil(record),
  };
}

function grpcCode(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "number") return error.code;
  return undefined;
}

function lostRace(error: unknown): boolean {
  const code = grpcCode(error);
  return code === ALREADY_EXISTS || code === FAILED_PRECONDITION || code === NOT_FOUND;
}

/**
 * Run records in Firestore, one document per run.
 *
 * Compare-and-set uses **update-time preconditions**, not transactions. Firestore checks a write's
 * precondition and applies the write atomically on the server, and every committed write to a
 * document gets a new, strictly later update time; so a write conditioned on update time V succeeds
 * only if nobody wrote since V was read. That is a true compare-and-set across any number of
 * instances, with one write RPC, no locks held and no transaction retries (the engine already
 * re-reads and decides again on a lost race, which a server-SDK transaction would otherwise
 * duplicate under lock contention).
 *
 * - "must be version V": one `update(..., { lastUpdateTime })` with the update time rebuilt from V,
 *   no read. FAILED_PRECONDITION (written since, or deleted) or NOT_FOUND means the race was lost.
 *   The token also carries the expiry of the record read at V: an expired record counts as absent,
 *   so a put against a version whose record has expired is refused without any RPC, as the
 *   contract (and MemoryStore) say; if the document changed since, the answer would be no anyway.
 * - "must not exist": `create()`, which the server refuses with ALREADY_EXISTS if the document
 *   exists. Only then is the document read: a live record means no; an expired or unreadable
 *   leftover (the TTL policy deletes within a day or so, not at once) is replaced with an
 *   update-time precondition on the leftover's version, so two creators still race safely.
 *
 * So a put costs one round trip, and two only when a leftover is in the way.
 */
export class FirestoreStore implements Store {
  readonly firestore: Firestore;
  readonly collection: string;
  readonly #now: () => number;
  readonly #ownsClient: boolean;
  readonly #history: FirestoreHistory;

  constructor(options: FirestoreStoreOptions = {}) {
    this.collection = validateCollection(options.collection ?? DEFAULT_COLLECTION);
    this.#ownsClient = options.firestore === undefined;
    this.firestore = options.firestore ?? new Firestore(options.settings ?? {});
    this.#now = options.now ?? Date.now;
    this.#history = new FirestoreHistory(this.firestore.collection(`${this.collection}-history`));
  }

  #ref(key: string): DocumentReference {
    return this.firestore.collection(this.collection).doc(documentId(key));
  }

  #live(snapshot: DocumentSnapshot): { record: RunRecord; updateTime: Timestamp } | undefined {
    if (!snapshot.exists || snapshot.updateTime === undefined) return undefined;
    const data = snapshot.data() as Partial<RunDocument> | undefined;
    if (typeof data?.record !== "string") return undefined;
    let record: RunRecord;
    try {
      record = JSON.parse(data.record) as RunRecord;
    } catch {
      // Not written by us (edited by hand?): unreadable is treated like expired, so the run can
      // start over instead of every delivery for it failing on the store.
      return undefined;
    }
    if (typeof record.expiresAt !== "number" || record.expiresAt <= this.#now()) return undefined;
    return { record, updateTime: snapshot.updateTime };
  }

  async get(key: string): Promise<Versioned | undefined> {
    const live = this.#live(await this.#ref(key).get());
    return live === undefined ? undefined : { record: live.record, version: versionOf(live.updateTime, live.record.expiresAt) };
  }

  async put(key: string, record: RunRecord, expectedVersion: string | undefined): Promise<boolean> {
    return this.#compareAndSet(this.#ref(key), toDocument(record), expectedVersion, (snapshot) => this.#live(snapshot) !== undefined);
  }

  async getDoc(key: string): Promise<VersionedDoc | undefined> {
    const live = this.#liveDoc(await this.#docRef(key).get());
    return live === undefined ? undefined : { value: live.value, version: versionOf(live.updateTime, live.expiresAt) };
  }

  async putDoc(key: string, value: JsonValue, expectedVersion: string | undefined, expiresAt: number): Promise<boolean> {
    const document: SmallDocument = { value: JSON.stringify(value), expiresAt: Timestamp.fromMillis(expiresAt) };
    return this.#compareAndSet(this.#docRef(key), document, expectedVersion, (snapshot) => this.#liveDoc(snapshot) !== undefined);
  }

  async listPending(now: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const query = this.firestore.collection(this.collection).where("pendingUntil", "<=", now).orderBy("pendingUntil").limit(Math.floor(limit));
    const snapshot = await query.get();
    const keys: string[] = [];
    for (const doc of snapshot.docs) {
      const live = this.#live(doc);
      if (live !== undefined) keys.push(keyOf(doc.id));
    }
    return keys;
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    await this.#history.append(entry);
  }

  async listHistory(since: number, limit: number): Promise<HistoryEntry[]> {
    return await this.#history.list(since, limit, this.#now());
  }

  #docRef(key: string): DocumentReference {
    return this.firestore.collection(`${this.collection}-docs`).doc(documentId(key));
  }

  #liveDoc(snapshot: DocumentSnapshot): { value: JsonValue; updateTime: Timestamp; expiresAt: number } | undefined {
    if (!snapshot.exists || snapshot.updateTime === undefined) return undefined;
    const data = snapshot.data() as Partial<SmallDocument> | undefined;
    if (typeof data?.value !== "string" || !(data.expiresAt instanceof Timestamp)) return undefined;
    const expiresAt = data.expiresAt.toMillis();
    if (expiresAt <= this.#now()) return undefined;
    try {
      return { value: JSON.parse(data.value) as JsonValue, updateTime: snapshot.updateTime, expiresAt };
    } catch {
      return undefined;
    }
  }

  async #compareAndSet(
    ref: DocumentReference,
    document: RunDocument | SmallDocument,
    expectedVersion: string | undefined,
    isLive: (snapshot: DocumentSnapshot) => boolean,
  ): Promise<boolean> {
    try {
      if (expectedVersion === undefined) return await this.#create(ref, document, isLive);
      const expected = parseVersion(expectedVersion);
      // Not a token we issued, or the record it names has expired: neither can be the live version.
      if (expected === undefined || expected.expiresAt <= this.#now()) return false;
      await ref.update({ ...document }, { lastUpdateTime: expected.updateTime });
      return true;
    } catch (error) {
      // Someone else wrote (or deleted) in between: the compare-and-set lost, which is an answer, not a failure.
      if (lostRace(error)) return false;
      throw error;
    }
  }

  async #create(ref: DocumentReference, document: RunDocument | SmallDocument, isLive: (snapshot: DocumentSnapshot) => boolean): Promise<boolean> {
    try {
      await ref.create(document);
      return true;
    } catch (error) {
      if (grpcCode(error) !== ALREADY_EXISTS) throw error;
    }
    const snapshot = await ref.get();
    if (isLive(snapshot)) return false;
    // Deleted since create() failed (the TTL policy at work): the create can simply be tried again.
    if (!snapshot.exists || snapshot.updateTime === undefined) {
      await ref.create(document);
      return true;
    }
    // Expired or unreadable leftover: replace it only if it is still the one we saw.
    await ref.update({ ...document }, { lastUpdateTime: snapshot.updateTime });
    return true;
  }

  async close(): Promise<void> {
    // A client passed in belongs to the caller, who may still use it.
    if (this.#ownsClient) await this.firestore.terminate();
  }
}

/** Collection ids follow the same rules as document ids (no "/", not "." or "..", not `__x__`). */
export function validateCollection(name: string): string {
  if (name === "" || name.includes("/") || name === "." || name === ".." || /^__.*__$/.test(name) || Buffer.byteLength(name) > 1500) {
    throw new RangeError(`"${name}" is not a valid Firestore collection id (no "/", not "." or "..", not __name__, at most 1500 bytes)`);
  }
  return name;
}
