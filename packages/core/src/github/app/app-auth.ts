import { createAppAuth } from "@octokit/auth-app";
import type { AppCredentials } from "../../domain/config.js";
import { describe, InstallationTokenError } from "../errors.js";
import type { Observer } from "../../ports/observer.js";
import { createOctokit } from "../octokit.js";
import type { IssuedToken } from "./installation-tokens.js";

/** A token request that has not answered in this long is abandoned (deliveries are waiting on it). */
const TOKEN_REQUEST_TIMEOUT_MS = 10_000;

/** auth-app keeps its own 59-minute cache; ours (installation-tokens.ts) honours `expires_at`, so this one stays empty. */
const NO_CACHE = { get: (): string => "", set: (): void => {} };

/**
 * Issues installation tokens for a GitHub App through @octokit/auth-app (it signs the JWT), on
 * the same base URL and Octokit conventions as every other call (GitHub Enterprise Server too).
 * A failure never quotes the key: the message says which installation and what GitHub answered.
 */
function appAuth(app: AppCredentials, baseUrl: string, observer?: Observer) {
  // Unauthenticated: auth-app puts the App's JWT on the token request itself. The Octokit's
  // hooks (conventions, the observer) stay on the request its defaults make.
  const request = createOctokit({ token: null, baseUrl, observer }).request.defaults({
    request: { fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS) }) },
  });
  const auth = createAppAuth({
    appId: app.appId,
    privateKey: app.privateKey,
    request,
    cache: NO_CACHE,
    log: { warn: () => {} },
  });
  return { auth, request };
}

/**
 * Which installation of the App serves a repository (`GET /repos/{owner}/{repo}/installation`,
 * as the App): what a sweep needs, having no delivery to name it. Null when the App is not
 * installed there; throws InstallationTokenError (never quoting the key) when GitHub fails.
 */
export function createInstallationFinder(
  app: AppCredentials,
  baseUrl: string,
  observer?: Observer,
): (owner: string, repo: string) => Promise<number | null> {
  const { auth, request } = appAuth(app, baseUrl, observer);
  return async (owner, repo) => {
    try {
      const { token } = await auth({ type: "app" });
      const { data } = await request("GET /repos/{owner}/{repo}/installation", { owner, repo, headers: { authorization: `bearer ${token}` } });
      return typeof data.id === "number" ? data.id : null;
    } catch (error) {
      const { status, message } = describe(error);
      if (status === 404) return null;
      throw new InstallationTokenError(`could not find the App's installation for ${owner}/${repo} (${status === null ? message : `${status}: ${message}`})`);
    }
  };
}

/** The App's own JWT (signed by auth-app, renewed by it), for calls made as the App itself. */
export function createAppJwtSource(app: AppCredentials, baseUrl: string): () => Promise<string> {
  const { auth } = appAuth(app, baseUrl);
  return async () => (await auth({ type: "app" })).token;
}

export function createAppTokenIssuer(app: AppCredentials, baseUrl: string, observer?: Observer): (installationId: number) => Promise<IssuedToken> {
  const { auth } = appAuth(app, baseUrl, observer);
  return async (installationId) => {
    try {
      const issued = await auth({ type: "installation", installationId, refresh: true });
      const expiresAt = Date.parse(issued.expiresAt);
      if (!Number.isFinite(expiresAt)) throw new Error(`expires_at "${String(issued.expiresAt).slice(0, 40)}" is not a time`);
      return { token: issued.token, expiresAt };
    } catch (error) {
      const { status, message } = describe(error);
      const what = status === null ? message : `${status}: ${message}`;
      throw new InstallationTokenError(`could not get a token for installation ${installationId} of App ${app.appId} (${what})`);
    }
  };
}
