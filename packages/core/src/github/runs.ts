import { clip, describeValue } from "../domain/text.js";
import { describe } from "./reruns.js";
import { createOctokit, type OctokitOptions } from "./octokit.js";

export interface RunsPageRequest {
  readonly owner: string;
  readonly repo: string;
  /** GitHub's `created` filter, e.g. `>=2026-11-25T03:00:00Z`. */
  readonly created: string;
  readonly page: number;
  readonly perPage: number;
  /** The ETag of an earlier answer to this same request: a 304 then costs no rate limit. */
  readonly etag: string | null;
}

/** What a list call came to. `requests` is always 1: each result is one HTTP request. */
export type RunsPageResult =
  | { readonly kind: "page"; readonly runs: readonly unknown[]; readonly totalCount: number; readonly etag: string | null; readonly hasNext: boolean; readonly slowDownUntil: number | null }
  | { readonly kind: "not-modified"; readonly slowDownUntil: number | null }
  /** 404, 403 without a rate limit: the repository does not exist or the token cannot read it. */
  | { readonly kind: "unreadable"; readonly message: string }
  /** 401: the token itself is wrong. */
  | { readonly kind: "unauthorized"; readonly message: string }
  /** 429, or 403 with the rate limit used up: nothing more until `until` (epoch ms). */
  | { readonly kind: "rate-limited"; readonly message: string; readonly until: number }
  /** No answer (refused, reset, timeout): `answered` false. A 5xx: `answered` true. */
  | { readonly kind: "unavailable"; readonly message: string; readonly answered: boolean };

/** Lists workflow runs. Implementations never throw. */
export interface RunLister {
  listRuns(request: RunsPageRequest, signal: AbortSignal): Promise<RunsPageResult>;
  /**
   * The repository's default branch (`GET /repos/{owner}/{repo}`), which a run listing does not
   * carry and REPO_BRANCHES' default needs; null when it cannot be read. Optional for listers
   * that never need it.
   */
  defaultBranch?(owner: string, repo: string, signal: AbortSignal): Promise<string | null>;
  /** GitHub App mode: the installation serving the repository, which the swept runs' events act with. */
  installationOf?(owner: string, repo: string): Promise<number | null>;
}

/** Below this many requests left in the hour, sweeps pause until the reset: reruns need the rest. */
export const RATE_LIMIT_RESERVE = 100;
/** A 429 or used-up limit with no Retry-After or reset header: wait this long. */
const DEFAULT_RETRY_MS = 60_000;
/**
 * One list or repository read gets this long: a GitHub that never answers must not hold the
 * one-at-a-time sweep past its lease (nor a cron run or Cloud Scheduler's deadline).
 */
export const LIST_REQUEST_TIMEOUT_MS = 10_000;

type Headers = Record<string, string | number | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : String(value);
}

/**
 * When to stop calling, from GitHub's headers: Retry-After (seconds) first, then a used-up or
 * nearly used-up primary limit (x-ratelimit-remaining / x-ratelimit-reset, epoch seconds).
 */
export function slowDownUntil(headers: Headers, now: number, reserve = RATE_LIMIT_RESERVE): number | null {
  const retryAfter = header(headers, "retry-after");
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter.trim())) return now + Number(retryAfter) * 1000;
  const remaining = header(headers, "x-ratelimit-remaining");
  if (remaining !== undefined && /^\d+$/.test(remaining) && Number(remaining) < reserve) {
    const reset = Number(header(headers, "x-ratelimit-reset"));
    return Number.isFinite(reset) && reset * 1000 > now ? reset * 1000 : now + DEFAULT_RETRY_MS;
  }
  return null;
}

/** Whether a Link header has a rel="next" (RFC 8288), as GitHub paginates. */
export function hasNextLink(link: string | undefined): boolean {
  return link !== undefined && /<[^>]*>\s*;\s*rel="?([^"]*\s)?next(\s[^"]*)?"?/.test(link);
}

/** What an answer that is not a listing carried, short: its `message`, or its type and a clipped preview. */
function bodyPreview(data: unknown): string {
  if (data instanceof ArrayBuffer) return `${data.byteLength} bytes`;
  if (typeof data === "object" && data !== null && !Array.isArray(data) && "message" in data && typeof data.message === "string") {
    return `message ${JSON.stringify(clip(data.message))}`;
  }
  return describeValue(data);
}

/** `GET /repos/{owner}/{repo}/actions/runs?status=completed&created=...` on Octokit, conditional on the last ETag. */
export function createRunLister(options: OctokitOptions & { readonly clock?: () => number; readonly requestTimeoutMs?: number }): RunLister {
  const octokit = createOctokit(options);
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.requestTimeoutMs ?? LIST_REQUEST_TIMEOUT_MS;
  /** The shutdown signal or the timeout, whichever comes first; `done` removes both (no listener stays on the long-lived signal). */
  const bounded = (stop: AbortSignal): { readonly signal: AbortSignal; done(): void } => {
    const controller = new AbortController();
    const abort = (): void => controller.abort(stop.aborted ? stop.reason : new DOMException("no answer in time", "TimeoutError"));
    const timer = setTimeout(abort, timeoutMs);
    if (stop.aborted) abort();
    else stop.addEventListener("abort", abort, { once: true });
    return { signal: controller.signal, done: () => (clearTimeout(timer), stop.removeEventListener("abort", abort)) };
  };
  return {
    async listRuns(request, stop) {
      const { signal, done } = bounded(stop);
      try {
        const response = await octokit.request("GET /repos/{owner}/{repo}/actions/runs", {
          owner: request.owner,
          repo: request.repo,
          status: "completed",
          created: request.created,
          per_page: request.perPage,
          page: request.page,
          headers: request.etag === null ? {} : { "if-none-match": request.etag },
          request: { signal },
        });
        const headers = response.headers as Headers;
        const data: unknown = response.data;
        const listing = typeof data === "object" && data !== null && !Array.isArray(data) ? (data as { total_count?: unknown; workflow_runs?: unknown }) : null;
        if (listing === null || !Array.isArray(listing.workflow_runs)) {
          // A maintenance message or an HTML page is no listing: read as an empty page, the cursor would move past runs never seen.
          return { kind: "unavailable", message: `GitHub answered ${response.status} without a workflow_runs list (${bodyPreview(data)})`, answered: true };
        }
        return {
          kind: "page",
          runs: listing.workflow_runs,
          totalCount: typeof listing.total_count === "number" ? listing.total_count : 0,
          etag: header(headers, "etag") ?? null,
          hasNext: hasNextLink(header(headers, "link")),
          slowDownUntil: slowDownUntil(headers, clock()),
        };
      } catch (error) {
        const { status, message, headers } = describe(error);
        const now = clock();
        if (status === 304) return { kind: "not-modified", slowDownUntil: slowDownUntil(headers, now) };
        if (status === null) return { kind: "unavailable", message: `no answer from GitHub: ${message}`, answered: false };
        const limited = status === 429 || (status === 403 && (header(headers, "x-ratelimit-remaining") === "0" || header(headers, "retry-after") !== undefined));
        if (limited) {
          const until = slowDownUntil(headers, now, 1) ?? now + DEFAULT_RETRY_MS;
          return { kind: "rate-limited", message: `rate limited (${status}): ${message}`, until };
        }
        if (status === 401) return { kind: "unauthorized", message: `401: ${message} — check GITHUB_TOKEN` };
        if (status === 404 || status === 403) {
          return { kind: "unreadable", message: `${status}: ${message} — the repository does not exist or the token cannot read its Actions` };
        }
        return { kind: "unavailable", message: `GitHub answered ${status}: ${message}`, answered: true };
      } finally {
        done();
      }
    },
    async defaultBranch(owner, repo, stop) {
      const { signal, done } = bounded(stop);
      try {
        const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner, repo, request: { signal } });
        // Cut like the listed runs' head_branch (sweep-event.ts), so the two still compare equal.
        return typeof data.default_branch === "string" && data.default_branch !== "" ? clip(data.default_branch) : null;
      } catch {
        // Unreadable now: the run is judged without it (not re-run under the default-branch rule) and the memo keeps no verdict a later sweep could not revise.
        return null;
      } finally {
        done();
      }
    },
  };
}
