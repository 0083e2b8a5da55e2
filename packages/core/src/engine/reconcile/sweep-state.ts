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

/** Cursors outlive any run GitHub would still re-run, so a paused sweep resumes where it was. */
const CURSOR_TTL_MS = 40 * 86_400_000;

const slug = (repo: SweepRepo): string => `${repo.owner}/${repo.name}`.toLowerCase();
const cursorKey = (repo: SweepRepo): string => `sweep-cursor:${slug(repo)}`;
/** The key of a repository's sweep lease (lease.ts). */
export const repoLeaseKey = (repo: SweepRepo): string => `sweep-lease:${slug(repo)}`;

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
