import type { Fetched, StepFact } from "../domain/policy/facts.js";
import type { JobStatus, RunEvent } from "../domain/types.js";

/**
 * What the engine asks of GitHub, as interfaces: the rerun calls, the rerun policy's look-ups,
 * repository files, run listings, and the per-event choice of clients (a token, or an App
 * installation's). Implementations never throw: every failure is a result the engine reads.
 */

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
  /**
   * 403 for a missing permission (`missingPermission`: the token lacks actions: write), or a run
   * GitHub will not re-run (422); 401 for a bad token.
   */
  | { readonly kind: "forbidden"; readonly message: string; readonly status?: number; readonly missingPermission?: boolean }
  | { readonly kind: "not-found"; readonly message: string }
  /** Network error, timeout, 5xx, rate limit: the call may or may not have reached GitHub. */
  | { readonly kind: "transient"; readonly message: string };

export type RunReadResult =
  | {
      readonly kind: "run";
      readonly runAttempt: number;
      readonly status: string;
      readonly conclusion: string | null;
      /** What a run read also tells when the client reads it (Octokit does; a client standing in may not). */
      readonly headBranch?: string | null;
      readonly workflowName?: string | null;
      /** `triggering_actor.login`, else `actor.login`: who NO_RETRY_LIST is checked against. */
      readonly actor?: string | null;
    }
  | { readonly kind: "not-found"; readonly message: string }
  | { readonly kind: "unavailable"; readonly message: string };

/** The two GitHub calls the engine makes. Implementations never throw. */
export interface GitHubClient {
  rerunFailedJobs(run: RunRef, signal: AbortSignal): Promise<RerunCallResult>;
  getRun(run: RunRef, signal: AbortSignal): Promise<RunReadResult>;
}

export interface JobRef {
  readonly owner: string;
  readonly repo: string;
  readonly jobId: number;
}

export interface AttemptRef {
  readonly owner: string;
  readonly repo: string;
  readonly runId: number;
  readonly attempt: number;
}

/** A job of an attempt as `GET .../runs/{id}/attempts/{n}/jobs` lists it. */
export interface ListedJob {
  readonly id: number;
  readonly name: string;
  readonly status: JobStatus;
  readonly conclusion: string | null;
  readonly steps: readonly StepFact[];
}

export type Listing = { readonly state: "read"; readonly jobs: readonly ListedJob[] } | { readonly state: "unknown"; readonly why: string };

/** The look-ups the rerun policy needs. Implementations never throw: a failure is `unknown`. */
export interface FactsClient {
  annotations(job: JobRef, signal: AbortSignal): Promise<Fetched<readonly string[]>>;
  logTail(job: JobRef, maxBytes: number, signal: AbortSignal): Promise<Fetched<string>>;
  attemptJobs(attempt: AttemptRef, signal: AbortSignal): Promise<Listing>;
}

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

/** A page of the App's delivery log (`GET /app/hook/deliveries`, newest first). */
export type DeliveryPageResult =
  | {
      readonly kind: "page";
      /** The entries as GitHub sent them (domain/delivery-log.ts reads each). */
      readonly entries: readonly unknown[];
      /** The `cursor` of the next (older) page from the Link header; null on the last page (a next link without a cursor is `unavailable`). */
      readonly nextCursor: string | null;
      /** The rate limit is nearly used up (or GitHub said Retry-After): no request before this (epoch ms). */
      readonly slowDownUntil: number | null;
    }
  /** 401 or 403: the App's JWT was refused (a wrong GITHUB_APP_ID or key). */
  | { readonly kind: "unauthorized"; readonly message: string }
  | { readonly kind: "rate-limited"; readonly message: string; readonly until: number }
  /** No answer: `answered` false. A 5xx or an answer that is no log: `answered` true. */
  | { readonly kind: "unavailable"; readonly message: string; readonly answered: boolean };

/** What `POST /app/hook/deliveries/{id}/attempts` came to. */
export type RedeliverResult =
  /** 202: GitHub will send the delivery again. */
  | { readonly kind: "accepted"; readonly slowDownUntil: number | null }
  | { readonly kind: "rate-limited"; readonly message: string; readonly until: number }
  /** 404 or 422 (the attempt is gone from the log, or cannot be redelivered): asking again would not help. */
  | { readonly kind: "refused"; readonly message: string }
  /** 401 or 403: GitHub refused the App's JWT; nothing was redelivered. */
  | { readonly kind: "unauthorized"; readonly message: string }
  /** No answer or a 5xx: GitHub may or may not have queued it. */
  | { readonly kind: "unavailable"; readonly message: string };

/** The GitHub App's delivery log, read and redelivered as the App (its JWT). Implementations never throw. */
export interface DeliveryLog {
  /** One page of at most `perPage` entries, from the newest (`cursor` null) or from a page's `nextCursor`. */
  listPage(cursor: string | null, perPage: number, signal: AbortSignal): Promise<DeliveryPageResult>;
  redeliver(attemptId: number, signal: AbortSignal): Promise<RedeliverResult>;
}

export interface FileRef {
  readonly owner: string;
  readonly repo: string;
  readonly path: string;
}

/** A file read from a repository's default branch through the contents API. */
export type FileReadResult =
  | { readonly kind: "file"; readonly text: string; readonly etag: string | null }
  /** 304: unchanged since the ETag given. */
  | { readonly kind: "not-modified" }
  /** 404: no such file (or repository). */
  | { readonly kind: "missing"; readonly etag: string | null }
  | { readonly kind: "too-large"; readonly size: number }
  | { readonly kind: "unavailable"; readonly message: string };

/** Reads small files of a repository. Implementations never throw. */
export interface ContentsClient {
  readFile(file: FileRef, options: { readonly etag: string | null; readonly maxBytes: number; readonly signal: AbortSignal }): Promise<FileReadResult>;
}

/** The clients that act for one event: reruns, and reading the repository's configuration file. */
export interface EventClients {
  readonly github: GitHubClient;
  /** Null when repository files are not read (REPO_CONFIG off, or no credentials in a dry run). */
  readonly contents: ContentsClient | null;
  /** The rerun policy's look-ups (annotations, log tails, an attempt's jobs). */
  readonly facts: FactsClient;
}

export type Access = ({ readonly kind: "clients" } & EventClients) | { readonly kind: "refused"; readonly reason: string };

/** Credentials as a provider: which clients, with whose token, serve an event. */
export interface GitHubAccess {
  forEvent(event: RunEvent): Access;
}
