import { createRunLister, type RunLister } from "../runs.js";
import type { Observer } from "../../ports/observer.js";
import { createAppTokenIssuer, createInstallationFinder, type AppCredentials } from "./app-auth.js";
import { createInstallationTokens } from "./installation-tokens.js";

/**
 * The sweep's lister in GitHub App mode: each repository is listed with the token of the
 * installation that serves it (found once per repository, as the App), and says which
 * installation that is, so the swept runs' events act with it as a delivery's would.
 */
export function createAppRunLister(options: {
  readonly app: AppCredentials;
  readonly baseUrl: string;
  readonly clock?: () => number;
  /** Sees every GitHub request: installation look-ups, tokens, listings (metrics). */
  readonly observer?: Observer;
}): RunLister {
  const { app, baseUrl, observer } = options;
  const clock = options.clock ?? Date.now;
  const find = createInstallationFinder(app, baseUrl, observer);
  const tokens = createInstallationTokens({ issue: createAppTokenIssuer(app, baseUrl, observer), clock });
  const installations = new Map<string, Promise<number | null>>();
  const listers = new Map<number, RunLister>();

  const installationOf = (owner: string, repo: string): Promise<number | null> => {
    const key = `${owner}/${repo}`.toLowerCase();
    let found = installations.get(key);
    if (found === undefined) {
      found = find(owner, repo);
      installations.set(key, found);
      // Only an installation is remembered: "not installed" and a failed look-up are asked again
      // at the next sweep, so a repository that installs the App later is swept without a restart.
      found.then(
        (id) => void (id === null && installations.delete(key)),
        () => void installations.delete(key),
      );
    }
    return found;
  };
  const listerFor = (installationId: number): RunLister => {
    let lister = listers.get(installationId);
    if (lister === undefined) {
      lister = createRunLister({ token: () => tokens.get(installationId), baseUrl, clock, ...(observer === undefined ? {} : { observer }) });
      listers.set(installationId, lister);
    }
    return lister;
  };

  return {
    async listRuns(request, signal) {
      let installationId: number | null;
      try {
        installationId = await installationOf(request.owner, request.repo);
      } catch (error) {
        return { kind: "unavailable", message: error instanceof Error ? error.message : String(error), answered: false };
      }
      if (installationId === null) {
        return { kind: "unreadable", message: `the GitHub App is not installed on ${request.owner}/${request.repo}` };
      }
      return listerFor(installationId).listRuns(request, signal);
    },
    async defaultBranch(owner, repo, signal) {
      const installationId = await installationOf(owner, repo).catch(() => null);
      return installationId === null ? null : ((await listerFor(installationId).defaultBranch?.(owner, repo, signal)) ?? null);
    },
    installationOf: (owner, repo) => installationOf(owner, repo).catch(() => null),
  };
}
