import { isJsonObject } from "./json.js";
import { clip } from "./text.js";

/**
 * The GitHub App's delivery log (`GET /app/hook/deliveries`) and what recovering lost deliveries
 * from it decides, pure: which GUIDs were lost, which were answered, and whether one is due for a
 * redelivery given what the store remembers of earlier ones (docs/never-losing-a-rerun.md).
 */

/** One attempt to deliver one event, as the log lists it (a redelivery is a new attempt with the same GUID). */
export interface LoggedDelivery {
  /** The attempt's id: what `POST /app/hook/deliveries/{id}/attempts` redelivers. Grows with time. */
  readonly id: number;
  /** The event's GUID (`X-GitHub-Delivery`), the same for every attempt. */
  readonly guid: string;
  /** Epoch ms of `delivered_at`. */
  readonly deliveredAt: number;
  readonly redelivery: boolean;
  /** The HTTP status our endpoint answered; 0 when no answer came (refused, reset, timed out). */
  readonly statusCode: number;
  readonly event: string;
}

export interface SkippedDelivery {
  readonly kind: "skipped";
  readonly reason: string;
}

/** Events whose loss can lose a rerun: the others are never redelivered. */
export const RECOVERED_EVENTS: ReadonlySet<string> = new Set(["workflow_job", "workflow_run"]);

/** GitHub keeps an App's delivery log this long (github.com; GitHub Enterprise Server keeps 7 days). */
export const DELIVERY_LOG_DAYS = 3;

/** Redeliveries asked for one GUID at most: a delivery that fails three more times is left to the repository sweep and to people. */
export const MAX_REDELIVERIES = 3;

/** Reads one entry of the log; never throws. */
export function readLoggedDelivery(value: unknown): (LoggedDelivery & { readonly kind: "delivery" }) | SkippedDelivery {
  if (!isJsonObject(value)) return { kind: "skipped", reason: "a log entry that is not an object" };
  const { id, guid, delivered_at: deliveredAt, redelivery, status_code: statusCode, event } = value;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return { kind: "skipped", reason: "a log entry without a numeric id" };
  if (typeof guid !== "string" || guid === "" || guid.length > 100) return { kind: "skipped", reason: `log entry ${id}: no guid` };
  const at = typeof deliveredAt === "string" ? Date.parse(deliveredAt) : Number.NaN;
  if (!Number.isFinite(at)) return { kind: "skipped", reason: `log entry ${id}: delivered_at is not a time` };
  if (typeof statusCode !== "number" || !Number.isInteger(statusCode) || statusCode < 0 || statusCode > 999) {
    return { kind: "skipped", reason: `log entry ${id}: status_code is not an HTTP status` };
  }
  if (typeof event !== "string" || event === "") return { kind: "skipped", reason: `log entry ${id}: no event` };
  return { kind: "delivery", id, guid, deliveredAt: at, redelivery: redelivery === true, statusCode, event: clip(event) };
}

/** Whether an attempt was lost: no answer at all, or a 5xx (a proxy or the server could not take it). A 4xx is an answer. */
export const isLost = (statusCode: number): boolean => statusCode === 0 || statusCode >= 500;
const isAnswered = (statusCode: number): boolean => statusCode >= 200 && statusCode < 300;

/** What the log shows of one GUID's attempts (those read in this pass). */
export type GuidState =
  /** Some attempt got a 2xx: it was handled. */
  | { readonly kind: "answered" }
  /** The latest attempt got a 4xx (a wrong secret, a completed job with no record): an answer, not a loss. */
  | { readonly kind: "refused"; readonly statusCode: number }
  /** Neither workflow_job nor workflow_run. */
  | { readonly kind: "other-event"; readonly event: string }
  /** Lost, but its latest attempt is older than the window. */
  | { readonly kind: "too-old" }
  /** Lost: no 2xx, and the latest attempt got no answer or a 5xx. */
  | { readonly kind: "lost"; readonly latest: LoggedDelivery };

/** Groups attempts by GUID (a redelivery keeps its GUID) and judges each; `floor` is the oldest time still recovered. */
export function judgeDeliveries(attempts: readonly LoggedDelivery[], floor: number): Map<string, GuidState> {
  const byGuid = new Map<string, LoggedDelivery[]>();
  for (const attempt of attempts) {
    const list = byGuid.get(attempt.guid);
    if (list === undefined) byGuid.set(attempt.guid, [attempt]);
    else list.push(attempt);
  }
  const judged = new Map<string, GuidState>();
  for (const [guid, list] of byGuid) judged.set(guid, judgeGuid(list, floor));
  return judged;
}

function judgeGuid(attempts: readonly LoggedDelivery[], floor: number): GuidState {
  let latest = attempts[0]!;
  for (const attempt of attempts) {
    if (isAnswered(attempt.statusCode)) return { kind: "answered" };
    if (attempt.id > latest.id) latest = attempt;
  }
  if (!RECOVERED_EVENTS.has(latest.event)) return { kind: "other-event", event: latest.event };
  if (!isLost(latest.statusCode)) return { kind: "refused", statusCode: latest.statusCode };
  if (latest.deliveredAt < floor) return { kind: "too-old" };
  return { kind: "lost", latest };
}

/** What the store remembers of a GUID's redeliveries (a small document per GUID). */
export interface RedeliveryMemo {
  /** Redeliveries asked for so far. */
  readonly count: number;
  /** The attempt id the last one redelivered. */
  readonly attemptId: number;
  /** Epoch ms it was asked. */
  readonly at: number;
}

/** Reads a stored memo; undefined when there is none or it is not one. */
export function readRedeliveryMemo(value: unknown): RedeliveryMemo | undefined {
  if (!isJsonObject(value)) return undefined;
  const { count, attemptId, at } = value;
  if (typeof count !== "number" || typeof attemptId !== "number" || typeof at !== "number") return undefined;
  return { count, attemptId, at };
}

/**
 * GitHub logs a redelivery within seconds of accepting it (202). Until its attempt shows, the
 * GUID's latest attempt is still the one redelivered: it waits this long before it counts as
 * never sent (a process that died between its claim and the request) and is asked again.
 */
export const REDELIVERY_SHOWS_WITHIN_MS = 10 * 60_000;

export type RedeliveryDue =
  | { readonly kind: "due"; readonly next: RedeliveryMemo }
  /** Already redelivered as many times as allowed. */
  | { readonly kind: "cap-reached" }
  /** Its latest attempt was redelivered already and the new attempt is not in the log yet. */
  | { readonly kind: "in-flight" };

/** Whether a lost GUID is redelivered now, and the memo that claims it. */
export function redeliveryDue(latest: LoggedDelivery, memo: RedeliveryMemo | undefined, now: number, max = MAX_REDELIVERIES): RedeliveryDue {
  const count = memo?.count ?? 0;
  if (memo !== undefined && memo.attemptId >= latest.id && now - memo.at < REDELIVERY_SHOWS_WITHIN_MS) return { kind: "in-flight" };
  if (count >= max) return { kind: "cap-reached" };
  return { kind: "due", next: { count: count + 1, attemptId: latest.id, at: now } };
}

/**
 * An attempt may be listed a little after later ones (GitHub: deliveries "can take a few minutes
 * to appear"): the mark stays below every attempt younger than this, which the next pass reads
 * again (the memo keeps a redelivered GUID from being redelivered twice).
 */
export const MARK_SETTLE_MS = 5 * 60_000;

/** Reads the stored mark (the highest attempt id judged for good); null when there is none or it is not one. */
export function readMark(value: unknown): number | null {
  if (!isJsonObject(value)) return null;
  return typeof value.id === "number" && Number.isSafeInteger(value.id) && value.id > 0 ? value.id : null;
}

/**
 * Where the mark moves after a pass that read every attempt above `previous`: to the highest id
 * below both the first attempt younger than MARK_SETTLE_MS and `firstOpen` (the latest attempt of
 * the oldest lost GUID whose fate is still open: redelivered, awaited, or to be asked again).
 * Null when it does not move.
 */
export function nextMark(read: readonly LoggedDelivery[], previous: number | null, firstOpen: number, now: number): number | null {
  let limit = firstOpen;
  for (const attempt of read) if (attempt.deliveredAt > now - MARK_SETTLE_MS) limit = Math.min(limit, attempt.id);
  let mark = previous ?? 0;
  for (const attempt of read) if (attempt.id < limit) mark = Math.max(mark, attempt.id);
  return mark > (previous ?? 0) ? mark : null;
}
