import type { Logger } from "../ports/logger.js";
import { createOctokit, createReadOnlyOctokit, type OctokitOptions } from "./octokit.js";

export interface RunRef {
  readonly owner: string;
  readonly repo: string;
  readonly runId: number;
}

/** What a rerun-failed-jobs call came to, in the terms the engine needs. */
export type RerunCallResult =
  | { readonly kind: "accepted" }
  /** 403 "already running": the run has not completed yet; try again later. */
  | { readonly kind: "in-progress"; readonly message: string }
  /** 403 for a missing permission, or a run GitHub will not re-run (422); 401 for a bad token. */
  | { readonly kind: "forbidden"; readonly message: string; readonly status?: number }
  | { readonly kind: "not-found"; readonly message: string }
  /** Network error, timeout, 5xx, rate limit: the call may or may not have reached GitHub. */
  | { readonly kind: "transient"; readonly message: string };

export type RunReadResult =
  | { readonly kind: "run"; readonly runAttempt: number; readonly status: string; readonly conclusion: string | null }
  | { readonly kind: "not-found"; readonly message: string }
  | { readonly kind: "unavailable"; readonly message: string };

/** The two GitHub calls the engine makes. Implementations never throw. */
export interface GitHubClient {
  rerunFailedJobs(run: RunRef, signal: AbortSignal): Promise<RerunCallResult>;
  getRun(run: RunRef, signal: AbortSignal): Promise<RunReadResult>;
}

export interface HttpErrorShape {
  status?: unknown;
  message?: unknown;
  response?: { data?: unknown; headers?: Record<string, string | number | undefined> };
}

export function describe(error: unknown): { status: number | null; message: string; headers: Record<string, string | number | undefined> } {
  const e = (typeof error === "object" && error !== null ? error : {}) as HttpErrorShape;
  const data = e.response?.data;
  const apiMessage =
    typeof data === "object" && data !== null && typeof (data as { message?: unknown }).message === "string"
      ? (data as { message: string }).message
      : undefined;
  const message = apiMessage ?? (typeof e.message === "string" ? e.message : String(error));
  // Octokit reports a failed fetch (refused, reset, aborted) as status 500 with no response.
  const status = typeof e.status === "number" && e.response !== undefined ? e.status : null;
  return { status, message, headers: e.response?.headers ?? {} };
}

/**
 * GitHub's rate limits: the primary one (x-ratelimit-remaining: 0), a Retry-After, or a
 * secondary limit, which GitHub may answer as a bare 403 or 429 whose message says "You have
 * exceeded a secondary rate limit" ("Rate limits for the REST API", docs.github.com).
 */
function isRateLimited(status: number, message: string, headers: Record<string, string | number | undefined>): boolean {
  return (
    status === 429 ||
    (status === 403 && (String(headers["x-ratelimit-remaining"]) === "0" || /rate limit/i.test(message))) ||
    headers["retry-after"] !== undefined
  );
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
    return { kind: "forbidden", status, message: `403: ${message} — the token needs repo and workflow scopes (actions: write)` };
  }
  if (status === 404) return { kind: "not-found", message: `404: ${message} — the run does not exist or the token cannot see it` };
  if (status >= 500 || status === 408) return { kind: "transient", message: `GitHub answered ${status}: ${message}` };
  // Any other refusal (a 403 for a run GitHub will not re-run, a 422): GitHub's own words say why.
  return { kind: "forbidden", status, message: `${status}: ${message}` };
}

/**
 * The GitHub client on @octokit/rest. The rerun POST has no automatic retries (it is never
 * repeated blindly); the run read goes through the read-only client, which retries. The
 * options' observer (metrics) sees both.
 */
export function createOctokitClient(options: OctokitOptions): GitHubClient {
  const octokit = createOctokit(options);
  const reader = createReadOnlyOctokit(options);
  return {
    async rerunFailedJobs(run, signal) {
      try {
        await octokit.rest.actions.reRunWorkflowFailedJobs({
          owner: run.owner,
          repo: run.repo,
          run_id: run.runId,
          request: { signal },
        });
        return { kind: "accepted" };
      } catch (error) {
        return classifyRerunError(error);
      }
    },
    async getRun(run, signal) {
      try {
        const { data } = await reader.rest.actions.getWorkflowRun({
          owner: run.owner,
          repo: run.repo,
          run_id: run.runId,
          request: { signal },
        });
        return { kind: "run", runAttempt: data.run_attempt ?? 1, status: data.status ?? "unknown", conclusion: data.conclusion ?? null };
      } catch (error) {
        const { status, message } = describe(error);
        if (status === 404) return { kind: "not-found", message: `404: ${message}` };
        return { kind: "unavailable", message: status === null ? `no answer from GitHub: ${message}` : `${status}: ${message}` };
      }
    },
  };
}

/** DRY_RUN: decides and records as usual, logs the rerun it would make, calls nothing. */
export function createDryRunClient(logger: Logger): GitHubClient {
  return {
    async rerunFailedJobs(run) {
      logger({ level: "info", msg: "dry run: would re-run failed jobs", owner: run.owner, repo: run.repo, run: run.runId });
      return { kind: "accepted" };
    },
    async getRun() {
      // Nothing was ever called, so no earlier call can have re-run the run: report it completed
      // and not moved past any attempt (0), so a pending rerun is "re-run" (logged) once more
      // instead of staying pending for ever after a lost outcome write.
      return { kind: "run", runAttempt: 0, status: "completed", conclusion: null };
    },
  };
}
