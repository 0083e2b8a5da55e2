import { DELIVERY_LOG_DAYS, readMark, readRedeliveryMemo, type RedeliveryMemo } from "../../domain/delivery-log.js";
import { isJsonObject } from "../../domain/json.js";
import type { JsonValue } from "../../domain/types.js";
import type { Store } from "../../ports/store.js";

/**
 * What the delivery-log pass keeps in the store, shared by every instance: the mark (the highest
 * attempt id judged for good), each lost GUID's redelivery memo, a pause GitHub asked for (the
 * App's rate limit is one budget for all instances), and the pass lease's key.
 */

export const DELIVERY_LOG_LEASE_KEY = "delivery-log-lease";
const MARK_KEY = "delivery-log-mark";
const PAUSE_KEY = "delivery-log-pause";
const memoKey = (guid: string): string => `redelivery:${guid}`;

/** Memos and the mark outlive the log's own entries, so a GUID is never redelivered past its cap. */
const TTL_MS = (DELIVERY_LOG_DAYS + 1) * 86_400_000;

const memoValue = (memo: RedeliveryMemo): JsonValue => ({ count: memo.count, attemptId: memo.attemptId, at: memo.at });

export async function loadMark(store: Store): Promise<{ readonly mark: number | null; readonly version: string | undefined }> {
  const doc = await store.getDoc(MARK_KEY);
  return { mark: doc === undefined ? null : readMark(doc.value), version: doc?.version };
}

/** False when another instance moved the mark meanwhile (theirs is kept). */
export async function saveMark(store: Store, mark: number, version: string | undefined, now: number): Promise<boolean> {
  return store.putDoc(MARK_KEY, { id: mark, at: now }, version, now + TTL_MS);
}

export async function loadMemo(store: Store, guid: string): Promise<{ readonly memo: RedeliveryMemo | undefined; readonly version: string | undefined }> {
  const doc = await store.getDoc(memoKey(guid));
  return { memo: doc === undefined ? undefined : readRedeliveryMemo(doc.value), version: doc?.version };
}

/** Claims the GUID's next redelivery; false when another instance wrote its memo first. */
export async function claimRedelivery(store: Store, guid: string, next: RedeliveryMemo, version: string | undefined, now: number): Promise<boolean> {
  return store.putDoc(memoKey(guid), memoValue(next), version, now + TTL_MS);
}

/**
 * Takes a claim back when the redelivery was never sent (a rate limit, a refused JWT, shutting
 * down). Best effort: a claim left behind only waits out REDELIVERY_SHOWS_WITHIN_MS.
 */
export async function undoClaim(store: Store, guid: string, previous: RedeliveryMemo | undefined, now: number): Promise<void> {
  const doc = await store.getDoc(memoKey(guid)).catch(() => undefined);
  if (doc === undefined) return;
  const value = previous ?? { count: 0, attemptId: 0, at: 0 };
  await store.putDoc(memoKey(guid), memoValue(value), doc.version, now + TTL_MS).catch(() => false);
}

/** Until when GitHub asked every instance to leave the App's endpoints alone (epoch ms; 0 for none). */
export async function loadPause(store: Store): Promise<number> {
  const doc = await store.getDoc(PAUSE_KEY);
  const value = doc?.value;
  return isJsonObject(value) && typeof value.until === "number" ? value.until : 0;
}

export async function savePause(store: Store, until: number): Promise<void> {
  const doc = await store.getDoc(PAUSE_KEY);
  await store.putDoc(PAUSE_KEY, { until }, doc?.version, until);
}
