import { LRUCache } from "lru-cache";
import type { Config } from "../domain/config.js";
import type { Access, FactsClient, GitHubAccess, GitHubClient } from "../ports/github.js";
import type { Observer } from "../ports/observer.js";
import type { GitHubApp } from "./app/github-app.js";
import { createOctokitContents } from "./contents.js";
import { createOctokitFactsClient } from "./facts.js";
import type { OctokitOptions, TokenSource } from "./octokit.js";
import { createOctokitClient } from "./reruns.js";

export interface GitHubAccessOptions {
  /** Where GitHub is, the token (token mode), and whether repository files are read. */
  readonly config: Pick<Config, "githubApiUrl" | "githubToken" | "readRepoConfig">;
  /** App mode: the App whose installation tokens act for each delivery; null in token mode. */
  readonly app: GitHubApp | null;
  /** Replaces the rerun client built here (a dry run, tests, embedding). */
  readonly github?: GitHubClient | undefined;
  /** Replaces the policy's look-up client built here (tests, embedding). */
  readonly facts?: FactsClient | undefined;
  /** Sees every GitHub call of the clients built here: reruns, policy look-ups, repository files (metrics). */
  readonly observer?: Observer | undefined;
}

/** Clients kept per installation at most (each is a small Octokit; least recently used dropped first). */
const MAX_INSTALLATION_CLIENTS = 1000;

/**
 * The per-event client factory. Token mode: one set of clients for every event. App mode: a set
 * per installation whose token comes from the App's token cache before each request, so an
 * expiring token is replaced without rebuilding anything.
 */
export function createGitHubAccess(options: GitHubAccessOptions): GitHubAccess {
  const { config, observer } = options;
  const octokitOptions = (token: string | TokenSource): OctokitOptions => ({ token, baseUrl: config.githubApiUrl, observer });
  const clientsFor = (token: string | TokenSource, readsFiles: boolean): Access => ({
    kind: "clients",
    github: options.github ?? createOctokitClient(octokitOptions(token)),
    facts: options.facts ?? createOctokitFactsClient(octokitOptions(token)),
    contents: readsFiles && config.readRepoConfig ? createOctokitContents(octokitOptions(token)) : null,
  });

  const app = options.app;
  if (app === null) {
    // A dry run without a token reads no file (an unauthenticated read would spend the 60-an-hour limit).
    const clients = clientsFor(config.githubToken, config.githubToken !== "");
    return { forEvent: () => clients };
  }

  const byInstallation = new LRUCache<number, Access>({ max: MAX_INSTALLATION_CLIENTS });
  return {
    forEvent(event) {
      const installationId = event.installationId;
      if (installationId === undefined) {
        return {
          kind: "refused",
          reason: "delivery has no installation: with a GitHub App (GITHUB_APP_ID) only the App's own deliveries are served",
        };
      }
      let clients = byInstallation.get(installationId);
      if (clients === undefined) {
        clients = clientsFor(() => app.tokens.get(installationId), true);
        byInstallation.set(installationId, clients);
      }
      return clients;
    },
  };
}
