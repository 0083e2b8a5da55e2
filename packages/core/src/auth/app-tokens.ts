import { createAppAuth } from "@octokit/auth-app";
import { describe } from "../github.js";
import { createOctokit } from "../octokit.js";
import type { IssuedToken } from "./installation-tokens.js";

export interface AppCredentials {
  readonly appId: string;
  /** PEM (PKCS#1 as GitHub hands it out, or PKCS#8). */
  readonly privateKey: string;
}

/** No installation token could be had: says which installation and what GitHub answered, never the key. */
export class InstallationTokenError extends Error {
  override readonly name = "InstallationTokenError";
}

/** A token request that has not answered in this long is abandoned (deliveries are waiting on it). */
const TOKEN_REQUEST_TIMEOUT_MS = 10_000;

/** auth-app keeps its own 59-minute cache; ours (installation-tokens.ts) honours `expires_at`, so this one stays empty. */
const NO_CACHE = { get: (): string => "", set: (): void => {} };

/**
 * Issues installation tokens for a GitHub App through @octokit/auth-app (it signs the JWT), on
 * the same base URL and Octokit conventions as every other call (GitHub Enterprise Server too).
 * A failure never quotes the key: the message says which installation and what GitHub answered.
 */
export function createAppTokenIssuer(app: AppCredentials, baseUrl: string): (installationId: number) => Promise<IssuedToken> {
  // Unauthenticated: auth-app puts the App's JWT on the token request itself.
  const request = createOctokit({ token: null, baseUrl }).request.defaults({
    request: { fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS) }) },
  });
  const auth = createAppAuth({
    appId: app.appId,
    privateKey: app.privateKey,
    request,
    cache: NO_CACHE,
    log: { warn: () => {} },
  });
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
