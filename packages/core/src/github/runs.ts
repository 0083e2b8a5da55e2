import { clip, describeValue } from "../domain/text.js";
import type { RunLister } from "../ports/github.js";
import { DEFAULT_RETRY_MS, describe, isRateLimited, responseHeader, slowDownUntil, type ResponseHeaders } from "./errors.js";
import { createOctokit, type OctokitOptions } from "./octokit.js";
import { boundSignal, type BoundedSignal } from "./bounded-signal.js";
import { hasNextLink } from "./links.js";

/**
 * One list or repository read gets this long: a GitHub that never answers must not hold the
 * one-at-a-time sweep past its lease (nor a cron run or Cloud Scheduler's deadline).
 */
export const LIST_REQUEST_TIMEOUT_MS = 10_000;


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
  const bounded = (stop: AbortSignal): BoundedSignal => boundSignal(stop, timeoutMs);
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
        const headers: ResponseHeaders = response.headers;
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
          etag: responseHeader(headers, "etag") ?? null,
          hasNext: hasNextLink(responseHeader(headers, "link")),
          slowDownUntil: slowDownUntil(headers, clock()),
        };
      } catch (error) {
        const { status, message, headers } = describe(error);
        const now = clock();
        if (status === 304) return { kind: "not-modified", slowDownUntil: slowDownUntil(headers, now) };
        if (status === null) return { kind: "unavailable", message: `no answer from GitHub: ${message}`, answered: false };
        if (isRateLimited(status, message, headers)) {
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
        // Cut like the listed runs' head_branch (domain/listed-run.ts), so the two still compare equal.
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
