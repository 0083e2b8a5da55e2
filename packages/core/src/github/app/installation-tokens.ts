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
  /** Installations remembered at most (least recently issued dropped first). */
  readonly maxInstallations?: number;
}

/**
 * Installation tokens cached until shortly before their own `expires_at`, with one request in
 * flight per installation. @octokit/auth-app has a cache and joins concurrent requests too, but
 * its cache keeps a token 59 minutes whatever `expires_at` says (GitHub Enterprise Server and
 * our stand-in may issue shorter ones), and its join is process-wide, keyed by installation id
 * only; this layer keys by what expires and is owned by one provider.
 */
export function createInstallationTokens(options: InstallationTokensOptions): InstallationTokens {
  const clock = options.clock ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const maxInstallations = options.maxInstallations ?? 10_000;
  const cached = new Map<number, IssuedToken>();
  const inFlight = new Map<number, Promise<IssuedToken>>();
  let requests = 0;

  function remember(installationId: number, issued: IssuedToken): void {
    cached.delete(installationId);
    cached.set(installationId, issued);
    if (cached.size > maxInstallations) {
      const oldest = cached.keys().next().value;
      if (oldest !== undefined) cached.delete(oldest);
    }
  }

  return {
    async get(installationId) {
      const known = cached.get(installationId);
      if (known !== undefined && known.expiresAt - refreshBeforeMs > clock()) return known.token;
      let pending = inFlight.get(installationId);
      if (pending === undefined) {
        requests += 1;
        pending = options.issue(installationId).then(
          (issued) => {
            inFlight.delete(installationId);
            remember(installationId, issued);
            return issued;
          },
          (error: unknown) => {
            // A failure is not cached: the next delivery asks again.
            inFlight.delete(installationId);
            throw error;
          },
        );
        inFlight.set(installationId, pending);
      }
      return (await pending).token;
    },
    get requests() {
      return requests;
    },
  };
}
