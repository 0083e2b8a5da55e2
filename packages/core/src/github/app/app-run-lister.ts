import type { RunLister } from "../../ports/github.js";
import type { Observer } from "../../ports/observer.js";
import { createRunLister } from "../runs.js";
import type { GitHubApp } from "./github-app.js";

/**
 * The sweep's lister in GitHub App mode: each repository is listed with the token of the
 * installation that serves it (the App's one token cache), and says which installation that is,
 * so the swept runs' events act with it as a delivery's would.
 */
export function createAppRunLister(options: {
  readonly app: GitHubApp;
  readonly baseUrl: string;
  readonly clock?: () => number;
  /** Sees every listing request (metrics). */
  readonly observer?: Observer;
}): RunLister {
  const { app, baseUrl, observer } = options;
  const listers = new Map<number, RunLister>();
  const listerFor = (installationId: number): RunLister => {
    let lister = listers.get(installationId);
    if (lister === undefined) {
      lister = createRunLister({ token: () => app.tokens.get(installationId), baseUrl, clock: options.clock, observer });
      listers.set(installationId, lister);
    }
    return lister;
  };

  return {
    async listRuns(request, signal) {
      let installationId: number | null;
      try {
        installationId = await app.installationOf(request.owner, request.repo);
      } catch (error) {
        return { kind: "unavailable", message: error instanceof Error ? error.message : String(error), answered: false };
      }
      if (installationId === null) {
        return { kind: "unreadable", message: `the GitHub App is not installed on ${request.owner}/${request.repo}` };
      }
      return listerFor(installationId).listRuns(request, signal);
    },
    async defaultBranch(owner, repo, signal) {
      const installationId = await app.installationOf(owner, repo).catch(() => null);
      return installationId === null ? null : ((await listerFor(installationId).defaultBranch?.(owner, repo, signal)) ?? null);
    },
    installationOf: (owner, repo) => app.installationOf(owner, repo).catch(() => null),
  };
}
