import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { observeOctokit } from "./observed.js";
import type { Observer } from "../ports/observer.js";

/** Where the project lives: named in the user agent so GitHub can tell whose calls these are. */
export const PROJECT_URL = "https://github.com/job-rerunner/job-rerunner";
export const USER_AGENT = `job-rerunner/0.1.0 (+${PROJECT_URL})`;
/**
 * The dated REST API version every call asks for: the one Octokit's own types and docs are
 * written against, supported by GitHub until at least 2028-03 and known to every supported
 * Enterprise Server (which answers 400 to a version it does not know). The newer 2026-03-10 has
 * breaking changes; moving to it is a reviewed change of its own (docs/github-app.md: How it talks to GitHub).
 */
export const GITHUB_API_VERSION = "2022-11-28";
export const GITHUB_MEDIA_TYPE = "application/vnd.github+json";
// Octokit's built-in default, replaced by GitHub's current recommendation.
const LEGACY_MEDIA_TYPE = "application/vnd.github.v3+json";

export interface OctokitOptions {
  /** A fixed token, a source asked before each request (App installation tokens), or null for none. */
  readonly token: string | TokenSource | null;
  readonly baseUrl: string;
  readonly userAgent?: string;
  /**
   * Sees every request of the client (route template, status, rate-limit remaining: the metrics),
   * applied here so every GitHub call module is measured alike; one that throws costs no request.
   */
  readonly observer?: Observer | undefined;
}

/** How long a read may wait for GitHub to allow it again before it gives up (seconds). */
const MAX_READ_WAIT_S = 2;
const READ_METHODS = new Set(["GET", "HEAD"]);

const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A function giving the token for the next request (an installation token, renewed as it expires). */
export type TokenSource = () => Promise<string>;

/**
 * GitHub's current REST conventions on every request of `octokit`: media type, API version, and
 * `Authorization: Bearer` with the token (a fixed one, or asked of its source before each request).
 */
function applyConventions(octokit: Octokit, token: string | TokenSource | null): void {
  octokit.hook.before("request", async (options) => {
    const headers = options.headers;
    if (headers.accept === undefined || headers.accept === LEGACY_MEDIA_TYPE) headers.accept = GITHUB_MEDIA_TYPE;
    headers["x-github-api-version"] = GITHUB_API_VERSION;
    const value = typeof token === "function" ? await token() : token;
    if (value !== null && value !== "") headers.authorization = `Bearer ${value}`;
  });
}

/**
 * The one place an Octokit is configured (auth, base URL, user agent, headers, logging): every
 * GitHub call module builds on it, so conventions change here once. No automatic retries: this is
 * the client for writes (the rerun POST), which are never repeated blindly.
 */
export function createOctokit(options: OctokitOptions): Octokit {
  const octokit = new Octokit({ baseUrl: options.baseUrl, userAgent: options.userAgent ?? USER_AGENT, log: SILENT });
  applyConventions(octokit, options.token);
  observe(octokit, options.observer);
  return octokit;
}

function observe(octokit: Octokit, observer: Observer | undefined): void {
  if (observer !== undefined) observeOctokit(octokit, observer);
}

const ReadOctokit = Octokit.plugin(retry, throttling);

/**
 * The client for read-only calls: Octokit's retry plugin repeats a GET that failed with a 5xx or a
 * dropped connection, and its throttling plugin waits out a rate limit when GitHub says how long
 * (briefly: a delivery has a deadline). Any other method is refused here, so a write can never
 * pick up a retry by being sent through the wrong client.
 */
export function createReadOnlyOctokit(options: OctokitOptions): Octokit {
  const waitIfShort = (retryAfter: number, request: { method?: string }, _octokit: unknown, retryCount: number): boolean =>
    READ_METHODS.has((request.method ?? "GET").toUpperCase()) && retryCount < 1 && retryAfter <= MAX_READ_WAIT_S;
  const octokit = new ReadOctokit({
    baseUrl: options.baseUrl,
    userAgent: options.userAgent ?? USER_AGENT,
    log: SILENT,
    retry: { retries: 2 },
    throttle: { onRateLimit: waitIfShort, onSecondaryRateLimit: waitIfShort },
  });
  octokit.hook.before("request", (request) => {
    if (!READ_METHODS.has(request.method.toUpperCase())) {
      throw new Error(`${request.method} ${request.url}: the read-only GitHub client sends only GET and HEAD`);
    }
  });
  applyConventions(octokit, options.token);
  observe(octokit, options.observer);
  return octokit;
}
