import { Octokit } from "@octokit/rest";

export const USER_AGENT = "job-rerunner/0.1.0 (+https://www.npmjs.com/package/@job-rerunner/core)";

export interface OctokitOptions {
  readonly token: string;
  readonly baseUrl: string;
  readonly userAgent?: string;
}

/**
 * The one place an Octokit is configured (auth, base URL, user agent, logging): every GitHub
 * call module builds on it, so conventions change here once.
 */
export function createOctokit(options: OctokitOptions): Octokit {
  return new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl,
    userAgent: options.userAgent ?? USER_AGENT,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
}
