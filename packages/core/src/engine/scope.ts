import type { ContentsClient, FactsClient, GitHubAccess, GitHubClient } from "../ports/github.js";
import type { Config } from "../domain/config.js";
import type { RepoConfigs } from "./repo-configs.js";
import { REPO_CONFIG_PATH } from "../domain/repo-file.js";
import type { RunEvent } from "../domain/types.js";

/** Who serves an event and under which configuration, or why nobody does (answered 204). */
export type EventScope =
  | { readonly kind: "refused"; readonly reason: string }
  | {
      readonly kind: "served";
      readonly config: Config;
      readonly github: GitHubClient;
      readonly contents: ContentsClient | null;
      readonly facts: FactsClient;
      /** For the answer's reason: a configuration file that could not be used, and why. */
      readonly note: string | null;
    };

/**
 * The engine stage before `decide`: the owner is served (ALLOWED_OWNERS, checked before any
 * call is spent on a stranger), the credentials act for the event (App: its installation), the
 * repository's configuration is resolved, and the repository has not disabled job-rerunner.
 */
export function createEventScope(config: Config, access: GitHubAccess, repoConfigs: RepoConfigs) {
  return async (event: RunEvent, deadline: number): Promise<EventScope> => {
    const owner = event.repo.owner;
    if (config.allowedOwners !== null && !config.allowedOwners.has(owner.toLowerCase())) {
      return { kind: "refused", reason: `owner not allowed: ${owner} is not in ALLOWED_OWNERS` };
    }
    const clients = access.forEvent(event);
    if (clients.kind === "refused") return clients;
    const { config: resolved, note } = await repoConfigs.resolve(event, clients.contents, deadline);
    if (!resolved.enabled) {
      return { kind: "refused", reason: `job-rerunner is disabled for ${owner}/${event.repo.name} (enabled: false in ${REPO_CONFIG_PATH})` };
    }
    return { kind: "served", config: resolved, github: clients.github, contents: clients.contents, facts: clients.facts, note };
  };
}
