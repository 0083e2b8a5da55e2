import type { AppCredentials } from "../domain/config.js";
import { splitList } from "../domain/text.js";
import { createAppJwtSource } from "./app/app-auth.js";
import type { Logger } from "../ports/logger.js";
import type { Observer } from "../ports/observer.js";
import { createOctokit, type OctokitOptions } from "./octokit.js";
import { describe } from "./errors.js";

/** What one look at the token (GET /rate_limit) showed. */
export type CredentialCheck =
  | { readonly kind: "ok" }
  /**
   * GitHub answered, and the credentials cannot do (all of) the job: `message` names the gravest
   * problem, `problems` lists every one (gravest first, `problems[0] === message`), one warning line each.
   */
  | { readonly kind: "problem"; readonly message: string; readonly problems: readonly string[] }
  /** GitHub could not be asked (network, 5xx): nothing is known, the server starts all the same. */
  | { readonly kind: "unreachable"; readonly message: string };

/** Classic-token scopes that allow POST .../rerun-failed-jobs (public_repo: public repositories only). */
const RERUN_SCOPES = ["repo", "public_repo"];

/**
 * Which problem GitHub's answer to GET /rate_limit shows, from its status and headers (pure).
 * Only classic tokens list their scopes (`X-OAuth-Scopes`); a fine-grained token's `actions: write`
 * cannot be seen from here and is reported by the first rerun instead.
 */
export function credentialProblem(status: number, headers: Record<string, string | number | undefined>): string | null {
  if (status === 401) return "GITHUB_TOKEN was refused by GitHub (401 Bad credentials): it is wrong, expired or revoked";
  if (status === 403) return "GITHUB_TOKEN was refused by GitHub (403): it may be blocked or lack access";
  const scopesHeader = headers["x-oauth-scopes"];
  if (scopesHeader !== undefined) {
    const scopes = splitList(String(scopesHeader));
    if (!scopes.some((s) => RERUN_SCOPES.includes(s))) {
      return `GITHUB_TOKEN has the scopes [${scopes.join(", ")}] but re-running jobs needs "repo" (or actions: write on a fine-grained token)`;
    }
  }
  return null;
}

/** Asks GitHub once about the token (GET /rate_limit costs no rate limit). Never throws. */
export async function checkCredentials(options: OctokitOptions, signal: AbortSignal): Promise<CredentialCheck> {
  const octokit = createOctokit(options);
  try {
    const response = await octokit.request("GET /rate_limit", { request: { signal } });
    const problem = credentialProblem(response.status, response.headers);
    return problem === null ? { kind: "ok" } : problemCheck([problem]);
  } catch (error) {
    const { status, message, headers } = describe(error);
    if (status === null || status >= 500) return { kind: "unreachable", message: status === null ? message : `${status}: ${message}` };
    return problemCheck([credentialProblem(status, headers) ?? `GitHub answered ${status} to GET /rate_limit: ${message}`]);
  }
}

/**
 * What to check: a token (GET /rate_limit), or a GitHub App (GET /app with its JWT); either with
 * an observer that sees the request (metrics: the start-up check sets the rate-limit gauge).
 */
export type Credentials = OctokitOptions | { readonly app: AppCredentials; readonly baseUrl: string; readonly observer?: Observer };

function problemCheck(problems: readonly [string, ...string[]]): CredentialCheck {
  return { kind: "problem", message: problems[0], problems };
}

/** Permission levels GitHub gives an App, weakest first ("admin" only exists for some permissions). */
const LEVELS = ["read", "write", "admin"];

/** What the App needs (app.yml), gravest first, with what is lost without it. */
const APP_PERMISSIONS: readonly { readonly name: string; readonly level: "read" | "write"; readonly needed: string }[] = [
  { name: "actions", level: "write", needed: "it cannot re-run failed jobs" },
  { name: "checks", level: "read", needed: "the rerun policy (RERUN_WHEN=transient, NO_RERUN_PATTERNS) cannot read a failed job's check-run annotations" },
  { name: "contents", level: "read", needed: "a repository's .github/job-rerunner.yml cannot be read" },
];

/**
 * Which of the permissions the App needs its `GET /app` answer lacks (pure), one message each,
 * gravest first. An answer without a `permissions` object (an older GitHub Enterprise) shows nothing.
 */
export function appPermissionProblems(appName: string, permissions: unknown): string[] {
  if (typeof permissions !== "object" || permissions === null) return [];
  const granted = permissions as Record<string, unknown>;
  const problems: string[] = [];
  for (const wanted of APP_PERMISSIONS) {
    const has = Object.hasOwn(granted, wanted.name) ? granted[wanted.name] : undefined;
    const level = typeof has === "string" ? LEVELS.indexOf(has) : -1;
    if (level >= LEVELS.indexOf(wanted.level)) continue;
    const now = typeof has === "string" ? `${wanted.name}: ${has.slice(0, 20)}` : `no ${wanted.name} permission`;
    problems.push(
      wanted.name === "actions"
        ? `${appName} has ${now}, not actions: write: ${wanted.needed} (grant Actions "Read and write" in the App's settings and accept it on each installation)`
        : `${appName} has ${now}, not ${wanted.name}: ${wanted.level}: re-runs work, but ${wanted.needed}`,
    );
  }
  return problems;
}

/** The App as a log line names it: its slug from GitHub's answer when it has one, and its id (never the key). */
function appName(appId: string, data: unknown): string {
  const slug = typeof data === "object" && data !== null ? (data as { slug?: unknown }).slug : undefined;
  return typeof slug === "string" && /^[\w.-]{1,100}$/.test(slug) ? `the GitHub App ${slug} (id ${appId})` : `the GitHub App ${appId}`;
}

/**
 * Asks GitHub once whether the App's JWT is accepted (GET /app): a wrong id or key shows here, and
 * so does an App without the permissions of app.yml (`actions: write`, then `checks: read`,
 * `contents: read`). Never throws.
 */
export async function checkAppCredentials(app: AppCredentials, baseUrl: string, signal: AbortSignal, observer?: Observer): Promise<CredentialCheck> {
  const octokit = createOctokit({ token: createAppJwtSource(app, baseUrl), baseUrl, observer });
  try {
    const response = await octokit.request("GET /app", { request: { signal } });
    const data: unknown = response.data;
    const permissions = typeof data === "object" && data !== null ? (data as { permissions?: unknown }).permissions : undefined;
    const [first, ...rest] = appPermissionProblems(appName(app.appId, data), permissions);
    return first === undefined ? { kind: "ok" } : problemCheck([first, ...rest]);
  } catch (error) {
    const { status, message } = describe(error);
    if (status === null || status >= 500) return { kind: "unreachable", message: status === null ? message : `${status}: ${message}` };
    return problemCheck([`the GitHub App ${app.appId} was refused by GitHub (${status}: ${message}): check GITHUB_APP_ID and the private key`]);
  }
}

/**
 * The check at start: logs a warning naming the problem, or that GitHub could not be asked.
 * Never refuses to start (GitHub may be down for a minute; deliveries will say what went wrong).
 */
export async function warnAboutCredentials(
  options: Credentials,
  logger: Logger,
  control: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
): Promise<CredentialCheck> {
  const timeout = AbortSignal.timeout(control.timeoutMs ?? 10_000);
  const signal = control.signal === undefined ? timeout : AbortSignal.any([timeout, control.signal]);
  const result = "app" in options ? await checkAppCredentials(options.app, options.baseUrl, signal, options.observer) : await checkCredentials(options, signal);
  // Stopped before GitHub answered: nothing worth saying.
  if (control.signal?.aborted === true) return result;
  // One line per problem, so each says one thing.
  const entries =
    result.kind === "ok"
      ? [{ level: "debug" as const, msg: "app" in options ? "GitHub App accepted by GitHub" : "GITHUB_TOKEN accepted by GitHub" }]
      : result.kind === "problem"
        ? result.problems.map((problem) => ({ level: "warn" as const, msg: `credential check: ${problem}` }))
        : [{ level: "warn" as const, msg: `credential check: could not reach GitHub at ${options.baseUrl} (${result.message}); starting anyway` }];
  for (const entry of entries) {
    try {
      logger(entry);
    } catch {
      // A failing log sink must not stop the server from starting.
    }
  }
  return result;
}
