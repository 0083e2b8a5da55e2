import { Octokit } from "@octokit/rest";
import { octokitAuth, type TokenSource } from "./auth/octokit-auth.js";

export const USER_AGENT = "job-rerunner/0.1.0 (+https://www.npmjs.com/package/@job-rerunner/core)";

export interface OctokitOptions {
  /** A fixed token, a source asked before each request (App installation tokens), or null for none. */
  readonly token: string | TokenSource | null;
  readonly baseUrl: string;
  readonly userAgent?: string;
}

/**
 * The one place an Octokit is configured (auth, base URL, user agent, logging): every GitHub
 * call module builds on it, so conventions change here once.
 */
export function createOctokit(options: OctokitOptions): Octokit {
  return new Octokit({
    ...octokitAuth(options.token),
    baseUrl: options.baseUrl,
    userAgent: options.userAgent ?? USER_AGENT,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
}
