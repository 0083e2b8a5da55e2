import { createAppJwtSource, type AppCredentials } from "./auth/app-tokens.js";
import type { Logger } from "./log.js";
import { createOctokit, type OctokitOptions } from "./octokit.js";
import { describe } from "./github.js";

/** What one look at the token (GET /rate_limit) showed. */
export type CredentialCheck =
  | { readonly kind: "ok" }
  /** GitHub answered, and the token cannot do the job: the message names the problem. */
  | { readonly kind: "problem"; readonly message: string }
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
    const scopes = String(scopesHeader).split(",").map((s) => s.trim()).filter((s) => s !== "");
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
    return problem === null ? { kind: "ok" } : { kind: "problem", message: problem };
  } catch (error) {
    const { status, message, headers } = describe(error);
    if (status === null || status >= 500) return { kind: "unreachable", message: status === null ? message : `${status}: ${message}` };
    return { kind: "problem", message: credentialProblem(status, headers) ?? `GitHub answered ${status} to GET /rate_limit: ${message}` };
  }
}

/** What to check: a token (GET /rate_limit), or a GitHub App (GET /app with its JWT). */
export type Credentials = OctokitOptions | { readonly app: AppCredentials; readonly baseUrl: string };

/** Asks GitHub once whether the App's JWT is accepted (GET /app): a wrong id or key shows here. Never throws. */
export async function checkAppCredentials(app: AppCredentials, baseUrl: string, signal: AbortSignal): Promise<CredentialCheck> {
  const octokit = createOctokit({ token: createAppJwtSource(app, baseUrl), baseUrl });
  try {
    await octokit.request("GET /app", { request: { signal } });
    return { kind: "ok" };
  } catch (error) {
    const { status, message } = describe(error);
    if (status === null || status >= 500) return { kind: "unreachable", message: status === null ? message : `${status}: ${message}` };
    return { kind: "problem", message: `the GitHub App ${app.appId} was refused by GitHub (${status}: ${message}): check GITHUB_APP_ID and the private key` };
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
  const result = "app" in options ? await checkAppCredentials(options.app, options.baseUrl, signal) : await checkCredentials(options, signal);
  // Stopped before GitHub answered: nothing worth saying.
  if (control.signal?.aborted === true) return result;
  const entry =
    result.kind === "ok"
      ? { level: "debug" as const, msg: "app" in options ? "GitHub App accepted by GitHub" : "GITHUB_TOKEN accepted by GitHub" }
      : result.kind === "problem"
        ? { level: "warn" as const, msg: `credential check: ${result.message}` }
        : { level: "warn" as const, msg: `credential check: could not reach GitHub at ${options.baseUrl} (${result.message}); starting anyway` };
  try {
    logger(entry);
  } catch {
    // A failing log sink must not stop the server from starting.
  }
  return result;
}
