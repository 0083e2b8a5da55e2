import type { RerunCallResult } from "../ports/github.js";

/** No installation token could be had: says which installation and what GitHub answered, never the key. */
export class InstallationTokenError extends Error {
  override readonly name = "InstallationTokenError";
}

/** Response headers as Octokit gives them. */
export type ResponseHeaders = Record<string, string | number | undefined>;

/** What a thrown Octokit error may carry. */
interface HttpErrorShape {
  status?: unknown;
  message?: unknown;
  response?: { data?: unknown; headers?: ResponseHeaders };
}

/** One response header as text; undefined when absent. */
export function responseHeader(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : String(value);
}

/** A thrown Octokit error in plain terms: the HTTP status (null when no answer came), GitHub's own message, the headers. */
export function describe(error: unknown): { status: number | null; message: string; headers: ResponseHeaders } {
  const e = (typeof error === "object" && error !== null ? error : {}) as HttpErrorShape;
  const data = e.response?.data;
  const apiMessage =
    typeof data === "object" && data !== null && "message" in data && typeof data.message === "string" ? data.message : undefined;
  const message = apiMessage ?? (typeof e.message === "string" ? e.message : String(error));
  // Octokit reports a failed fetch (refused, reset, aborted) as status 500 with no response.
  const status = typeof e.status === "number" && e.response !== undefined ? e.status : null;
  return { status, message, headers: e.response?.headers ?? {} };
}

/** Below this many requests left in the hour, sweeps pause until the reset: reruns need the rest. */
export const RATE_LIMIT_RESERVE = 100;
/** A 429 or used-up limit with no Retry-After or reset header: wait this long. */
export const DEFAULT_RETRY_MS = 60_000;

/**
 * GitHub's rate limits: a 429, a Retry-After, the primary limit used up (403 with
 * x-ratelimit-remaining: 0), or a secondary limit, which GitHub may answer as a bare 403 whose
 * message says "You have exceeded a secondary rate limit" ("Rate limits for the REST API",
 * docs.github.com).
 */
export function isRateLimited(status: number, message: string, headers: ResponseHeaders): boolean {
  return (
    status === 429 ||
    responseHeader(headers, "retry-after") !== undefined ||
    (status === 403 && (responseHeader(headers, "x-ratelimit-remaining") === "0" || /rate limit/i.test(message)))
  );
}

/**
 * When to stop calling, from GitHub's headers: Retry-After (seconds) first, then a used-up or
 * nearly used-up primary limit (x-ratelimit-remaining / x-ratelimit-reset, epoch seconds).
 */
export function slowDownUntil(headers: ResponseHeaders, now: number, reserve = RATE_LIMIT_RESERVE): number | null {
  const retryAfter = responseHeader(headers, "retry-after");
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter.trim())) return now + Number(retryAfter) * 1000;
  const remaining = responseHeader(headers, "x-ratelimit-remaining");
  if (remaining !== undefined && /^\d+$/.test(remaining) && Number(remaining) < reserve) {
    const reset = Number(responseHeader(headers, "x-ratelimit-reset"));
    return Number.isFinite(reset) && reset * 1000 > now ? reset * 1000 : now + DEFAULT_RETRY_MS;
  }
  return null;
}

/**
 * A refusal for the token's rights: a 403 saying so
 * ("Resource not accessible by integration" / "by personal access token", "Must have admin
 * rights to Repository", "Requires authentication").
 */
const PERMISSION_REFUSAL = /not accessible by|must have admin rights|requires authentication|permission/i;

/** Classifies a failed rerun call: "already running", a rate limit and a missing permission can all be 403. */
export function classifyRerunError(error: unknown): RerunCallResult {
  const { status, message, headers } = describe(error);
  if (status === null) return { kind: "transient", message: `no answer from GitHub: ${message}` };
  if (isRateLimited(status, message, headers)) return { kind: "transient", message: `rate limited (${status}): ${message}` };
  if (status === 403 && /already running|in progress|not complete/i.test(message)) {
    return { kind: "in-progress", message: `GitHub says the run is not completed yet (403: ${message})` };
  }
  // A bad token is not a missing scope: telling its owner to add scopes would send them the wrong way.
  if (status === 401) return { kind: "forbidden", status, message: `401: ${message} — GitHub does not accept the token (invalid, expired or revoked)` };
  if (status === 403 && PERMISSION_REFUSAL.test(message)) {
    return { kind: "forbidden", status, missingPermission: true, message: `403: ${message} — the token needs repo and workflow scopes (actions: write)` };
  }
  if (status === 404) return { kind: "not-found", message: `404: ${message} — the run does not exist or the token cannot see it` };
  if (status >= 500 || status === 408) return { kind: "transient", message: `GitHub answered ${status}: ${message}` };
  // Any other refusal (a 403 for a run GitHub will not re-run, a 422): GitHub's own words say why.
  return { kind: "forbidden", status, message: `${status}: ${message}` };
}
