import type { JsonValue } from "../../domain/types.js";
import type { Store } from "../../ports/store.js";
import type { SweepRepo } from "../../domain/config.js";

/**
 * Where a repository's sweep stands. Runs that finished before `since` were examined already;
 * the list query is `created>=createdFrom`, kept fixed between sweeps so its ETag stays valid
 * and an idle sweep is one 304.
 */
export interface SweepCursor {
  readonly since: number;
  readonly createdFrom: number;
  /** ETag of page 1 of the query, or null. */
  readonly etag: string | null;
}

export interface Held {
  readonly key: string;
  readonly holder: string;
  readonly version: string;
}

/** Cursors outlive any run GitHub would still re-run, so a paused sweep resumes where it was. */
const CURSOR_TTL_MS = 40 * 86_400_000;

const slug = (repo: SweepRepo): string => `${repo.owner}/${repo.name}`.toLowerCase();
const cursorKey = (repo: SweepRepo): string => `sweep-cursor:${slug(repo)}`;
const leaseKey = (repo: SweepRepo): string => `sweep-lease:${slug(repo)}`;

function readCursor(value: JsonValue): SweepCursor | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const doc = value as { readonly [key: string]: JsonValue };
  const { since, createdFrom, etag } = doc;
  if (typeof since !== "number" || typeof createdFrom !== "number") return undefined;
  return { since, createdFrom, etag: typeof etag === "string" ? etag : null };
}

/** The repository's cursor and its version (a missing or unreadable one: none, the first sweep again). */
export async function loadCursor(store: Store, repo: SweepRepo): Promise<{ cursor: SweepCursor | undefined; version: string | undefined }> {
  const doc = await store.getDoc(cursorKey(repo));
  return { cursor: doc === undefined ? undefined : readCursor(doc.value), version: doc?.version };
}

export async function saveCursor(store: Store, repo: SweepRepo, cursor: SweepCursor, version: string | undefined, now: number): Promise<boolean> {
  const value = { since: cursor.since, createdFrom: cursor.createdFrom, etag: cursor.etag };
  if (await store.putDoc(cursorKey(repo), value, version, now + CURSOR_TTL_MS)) return true;
  // An unreadable document has a version too; an expired one has none: one more try each way.
  const again = await store.getDoc(cursorKey(repo));
  return again === undefined ? store.putDoc(cursorKey(repo), value, undefined, now + CURSOR_TTL_MS) : false;
}

/**
 * Takes the repository's sweep lease (one sweeper per repository across instances) until
 * `now + ms`, or returns null when another holder has it. Expiry frees a dead holder's lease.
 */
export async function takeLease(store: Store, repo: SweepRepo, holder: string, now: number, ms: number): Promise<Held | null> {
  const key = leaseKey(repo);
  const doc = await store.getDoc(key);
  if (doc !== undefined) {
    const value = doc.value;
    const other = typeof value === "object" && value !== null && !("holder" in value && value.holder === holder);
    if (other) return null;
  }
  if (!(await store.putDoc(key, { holder, until: now + ms }, doc?.version, now + ms))) return null;
  const written = await store.getDoc(key);
  return written === undefined ? null : { key, holder, version: written.version };
}

/** Extends a held lease; null when it was lost (expired and taken by another sweeper). */
export async function renewLease(store: Store, held: Held, now: number, ms: number): Promise<Held | null> {
  if (!(await store.putDoc(held.key, { holder: held.holder, until: now + ms }, held.version, now + ms))) return null;
  const written = await store.getDoc(held.key);
  return written === undefined ? null : { ...held, version: written.version };
}

/** Gives the lease back (written already expired, so it counts as absent). */
export async function releaseLease(store: Store, held: Held, now: number): Promise<void> {
  await store.putDoc(held.key, { holder: held.holder, until: now }, held.version, now);
}
