import { LRUCache } from "lru-cache";

/** An installation token and when GitHub says it stops working. */
export interface IssuedToken {
  readonly token: string;
  /** Epoch milliseconds (`expires_at` of the access-token answer). */
  readonly expiresAt: number;
}

export interface InstallationTokens {
  /** A token for the installation: the cached one while it is fresh, else one new request shared by all callers. */
  get(installationId: number): Promise<string>;
  /** Token requests sent so far (for logs and tests). */
  readonly requests: number;
}

export interface InstallationTokensOptions {
  /** Asks GitHub for a new token (POST /app/installations/{id}/access_tokens). */
  readonly issue: (installationId: number) => Promise<IssuedToken>;
  readonly clock?: () => number;
  /**
   * A token this close to its expiry is replaced before use: a call made with it may still be
   * in flight (or waiting on a rate limit) when it expires. Default 5 minutes of GitHub's 60.
   */
  readonly refreshBeforeMs?: number;
  /** Installations remembered at most (least recently used dropped first). */
  readonly maxInstallations?: number;
}

/**
 * Installation tokens cached (lru-cache) until shortly before their own `expires_at`, with one
 * request in flight per installation. @octokit/auth-app has a cache too, but it keeps a token
 * 59 minutes whatever `expires_at` says (GitHub Enterprise Server and our stand-in may issue
 * shorter ones), and its join is process-wide; this one keys by what expires and is owned by one
 * App. A failure is not cached: the next delivery asks again.
 */
export function createInstallationTokens(options: InstallationTokensOptions): InstallationTokens {
  const clock = options.clock ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  let requests = 0;
  // lru-cache bounds the installations kept and joins concurrent requests for one; freshness is
  // ours to judge, from each token's own expires_at on our clock.
  const cache = new LRUCache<number, IssuedToken>({
    max: options.maxInstallations ?? 10_000,
    // An installation dropped from the cache while its token is being issued still gets it: the
    // callers waiting on that request must not fail because others came in between.
    ignoreFetchAbort: true,
    fetchMethod: async (installationId) => {
      requests += 1;
      return options.issue(installationId);
    },
  });
  const fresh = (issued: IssuedToken | undefined): boolean => issued !== undefined && issued.expiresAt - refreshBeforeMs > clock();
  return {
    async get(installationId) {
      const issued = await cache.fetch(installationId, { forceRefresh: !fresh(cache.peek(installationId)) });
      if (issued === undefined) throw new Error(`no token was issued for installation ${installationId}`);
      return issued.token;
    },
    get requests() {
      return requests;
    },
  };
}
