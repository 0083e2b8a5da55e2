import type { AppCredentials } from "../../domain/config.js";
import type { Observer } from "../../ports/observer.js";
import { createAppJwtSource, createAppTokenIssuer, createInstallationFinder } from "./app-auth.js";
import { createInstallationTokens, type InstallationTokens } from "./installation-tokens.js";

/**
 * One GitHub App as every client of the process uses it: one installation-token cache (the
 * deliveries' clients and the sweep's listings share it), which installation serves a
 * repository (asked once, as the App), and the App's own JWT.
 */
export interface GitHubApp {
  readonly appId: string;
  readonly tokens: InstallationTokens;
  /** The installation serving owner/repo; null when the App is not installed there. Throws when GitHub fails. */
  installationOf(owner: string, repo: string): Promise<number | null>;
  jwt(): Promise<string>;
}

export interface GitHubAppOptions {
  readonly app: AppCredentials;
  readonly baseUrl: string;
  /** Sees every GitHub request: installation look-ups, tokens (metrics). */
  readonly observer?: Observer;
  readonly clock?: () => number;
}

export function createGitHubApp(options: GitHubAppOptions): GitHubApp {
  const { app, baseUrl, observer } = options;
  const find = createInstallationFinder(app, baseUrl, observer);
  const tokens = createInstallationTokens({ issue: createAppTokenIssuer(app, baseUrl, observer), clock: options.clock ?? Date.now });
  const installations = new Map<string, Promise<number | null>>();
  return {
    appId: app.appId,
    tokens,
    jwt: createAppJwtSource(app, baseUrl),
    installationOf(owner, repo) {
      const key = `${owner}/${repo}`.toLowerCase();
      let found = installations.get(key);
      if (found === undefined) {
        found = find(owner, repo);
        installations.set(key, found);
        // Only an installation is remembered: "not installed" and a failed look-up are asked again
        // next time, so a repository that installs the App later is served without a restart.
        found.then(
          (id) => void (id === null && installations.delete(key)),
          () => void installations.delete(key),
        );
      }
      return found;
    },
  };
}
