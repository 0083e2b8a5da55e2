import type { Config } from "../env/config.js";
import { createOctokitContents, type ContentsClient } from "./contents.js";
import { createOctokitFactsClient, type FactsClient } from "./facts.js";
import { createDryRunClient, createOctokitClient, type GitHubClient } from "./reruns.js";
import type { Logger } from "../ports/logger.js";
import type { Observer } from "../ports/observer.js";
import type { RunEvent } from "../domain/types.js";
import { createAppTokenIssuer } from "./app/app-auth.js";
import { createInstallationTokens, type InstallationTokens } from "./app/installation-tokens.js";
import type { OctokitOptions, TokenSource } from "./octokit.js";

/** The clients that act for one event: reruns, and reading the repository's configuration file. */
export interface EventClients {
  readonly github: GitHubClient;
  /** Null when repository files are not read (REPO_CONFIG off, or no credentials in a dry run). */
  readonly contents: ContentsClient | null;
  /** The rerun policy's look-ups (annotations, log tails, an attempt's jobs). */
  readonly facts: FactsClient;
}

export type Access = ({ readonly kind: "clients" } & EventClients) | { readonly kind: "refused"; readonly reason: string };

/** Credentials as a provider: which clients, with whose token, serve an event. */
export interface GitHubAccess {
  forEvent(event: RunEvent): Access;
  /** App mode: the installation tokens (requests counted); null in token mode. */
  readonly tokens: InstallationTokens | null;
}

export interface GitHubAccessOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Replaces the rerun client built from the configuration (tests, embedding). */
  readonly github?: GitHubClient;
  /** Replaces the policy's look-up client built from the configuration (tests, embedding). */
  readonly facts?: FactsClient;
  readonly clock?: () => number;
  /** Sees every GitHub call of the clients built here: reruns, policy look-ups, repository files, App tokens (metrics). */
  readonly observe?: Observer;
}

/** Clients kept per installation at most (each is a small Octokit; least recently built dropped first). */
const MAX_INSTALLATION_CLIENTS = 1000;

/**
 * Token mode: one pair of clients for every event. App mode: a pair per installation whose
 * token comes from the installation-token cache before each request, so an expiring token is
 * replaced without rebuilding anything.
 */
export function createGitHubAccess(options: GitHubAccessOptions): GitHubAccess {
  const { config } = options;
  const baseUrl = config.githubApiUrl;
  const observer = options.observe;
  // Every client built here reports its requests to the observer (metrics).
  const octokitOptions = (token: string | TokenSource): OctokitOptions => ({ token, baseUrl, ...(observer === undefined ? {} : { observer }) });
  const rerunClient = (token: string | TokenSource): GitHubClient =>
    options.github ?? (config.dryRun ? createDryRunClient(options.logger) : createOctokitClient(octokitOptions(token)));
  const contentsClient = (token: string | TokenSource): ContentsClient | null =>
    config.readRepoConfig ? createOctokitContents(octokitOptions(token)) : null;
  const factsClient = (token: string | TokenSource): FactsClient => options.facts ?? createOctokitFactsClient(octokitOptions(token));

  const app = config.githubApp;
  if (app === null) {
    const token = config.githubToken;
    const clients: Access = {
      kind: "clients",
      github: rerunClient(token),
      facts: factsClient(token),
      // A dry run without a token reads nothing (an unauthenticated read would spend the 60-an-hour limit).
      contents: token === "" ? null : contentsClient(token),
    };
    return { forEvent: () => clients, tokens: null };
  }

  const tokens = createInstallationTokens({
    issue: createAppTokenIssuer(app, baseUrl, observer),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const byInstallation = new Map<number, Access>();
  return {
    tokens,
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
        const token = (): Promise<string> => tokens.get(installationId);
        clients = { kind: "clients", github: rerunClient(token), contents: contentsClient(token), facts: factsClient(token) };
        byInstallation.set(installationId, clients);
        if (byInstallation.size > MAX_INSTALLATION_CLIENTS) {
          const oldest = byInstallation.keys().next().value;
          if (oldest !== undefined) byInstallation.delete(oldest);
        }
      }
      return clients;
    },
  };
}
