import type { GitHubClient } from "../ports/github.js";
import type { Logger } from "../ports/logger.js";

/** DRY_RUN: decides and records as usual, logs the rerun it would make, calls nothing. */
export function createDryRunClient(logger: Logger): GitHubClient {
  return {
    async rerunFailedJobs(run) {
      logger({ level: "info", msg: "dry run: would re-run failed jobs", owner: run.owner, repo: run.repo, run: run.runId });
      return { kind: "accepted" };
    },
    async getRun() {
      // Nothing was ever called, so no earlier call can have re-run the run: report it completed
      // and not moved past any attempt (0), so a pending rerun is "re-run" (logged) once more
      // instead of staying pending for ever after a lost outcome write.
      return { kind: "run", runAttempt: 0, status: "completed", conclusion: null };
    },
  };
}
