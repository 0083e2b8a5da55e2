import type { GitHubClient } from "../ports/github.js";
import { classifyRerunError, describe } from "./errors.js";
import { createOctokit, createReadOnlyOctokit, type OctokitOptions } from "./octokit.js";

/**
 * The GitHub client on @octokit/rest. The rerun POST has no automatic retries (it is never
 * repeated blindly); the run read goes through the read-only client, which retries. The
 * options' observer (metrics) sees both.
 */
export function createOctokitClient(options: OctokitOptions): GitHubClient {
  const octokit = createOctokit(options);
  const reader = createReadOnlyOctokit(options);
  return {
    async rerunFailedJobs(run, signal) {
      try {
        await octokit.rest.actions.reRunWorkflowFailedJobs({
          owner: run.owner,
          repo: run.repo,
          run_id: run.runId,
          request: { signal },
        });
        return { kind: "accepted" };
      } catch (error) {
        return classifyRerunError(error);
      }
    },
    async getRun(run, signal) {
      try {
        const { data } = await reader.rest.actions.getWorkflowRun({
          owner: run.owner,
          repo: run.repo,
          run_id: run.runId,
          request: { signal },
        });
        return {
          kind: "run",
          runAttempt: data.run_attempt ?? 1,
          status: data.status ?? "unknown",
          conclusion: data.conclusion ?? null,
          headBranch: data.head_branch ?? null,
          workflowName: data.name ?? null,
          actor: data.triggering_actor?.login ?? data.actor?.login ?? null,
        };
      } catch (error) {
        const { status, message } = describe(error);
        if (status === 404) return { kind: "not-found", message: `404: ${message}` };
        return { kind: "unavailable", message: status === null ? `no answer from GitHub: ${message}` : `${status}: ${message}` };
      }
    },
  };
}
