import type { Config } from "../domain/config.js";
import { settle, type RerunOutcome } from "../domain/machine.js";
import { decideCompletedRun, type FailedJobReport } from "../domain/run-decision.js";
import { RUN_STATUSES } from "../domain/event.js";
import type { RepoRef, WorkflowRunEvent } from "../domain/types.js";
import type { GitHubAccess, GitHubClient } from "../ports/github.js";
import type { Logger } from "../ports/logger.js";
import { createEnricher } from "./enrich.js";
import type { JobHistories } from "./job-history.js";
import { executeRerun } from "./execute.js";
import { createRepoConfigs } from "./repo-configs.js";
import { createEventScope } from "./scope.js";
import { withTimeout } from "./timing.js";

/** What one run's decision runs on: compose.ts fills in the defaults and wires them. */
export interface SingleRunParts {
  readonly config: Config;
  /** Which clients serve the event; under DRY_RUN its rerun client calls nothing. */
  readonly access: GitHubAccess;
  /** Reads a run from GitHub even in a dry run (a manual decision on one run names it by id). */
  readonly runReader: Pick<GitHubClient, "getRun">;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Reruns are logged by a client that calls nothing. */
  readonly dryRun: boolean;
}

/** How one completed run attempt was decided and, when it was to be re-run, what GitHub said. */
export interface SingleRunResult {
  /** The status the server would answer (201 re-run, 200 nothing to do, 204 not ours, 502 refused or failed). */
  readonly status: number;
  /** The server's sentence for it, with a note when a repository file could not be used. */
  readonly reason: string;
  /** GitHub accepted the rerun of the failed jobs now (false in a dry run, and when the run had moved on). */
  readonly rerun: boolean;
  /** The failed jobs the decision read, with their class and evidence. */
  readonly failedJobs: readonly FailedJobReport[];
  /** What the rerun call came to; absent when no rerun was called for. */
  readonly outcome?: RerunOutcome;
  /** The configuration that decided (the inputs, overlaid by the repository's file). */
  readonly config: Config;
}

/** A run named by id, read from GitHub: its completed event, or why there is none. */
export type RunEventRead =
  | { readonly kind: "event"; readonly event: WorkflowRunEvent }
  | { readonly kind: "not-completed"; readonly status: string; readonly attempt: number }
  | { readonly kind: "unreadable"; readonly message: string };

export interface SingleRun {
  /**
   * Decides one `workflow_run` event with no store, GitHub's run being the state: the scope (the
   * repository's file), the policy's facts (the attempt's failed jobs always listed), the pure
   * decision, and a rerun only after reading the run shows it still at the event's attempt and
   * completed, so a repeated or late event never re-runs it twice. Never throws.
   */
  decide(event: WorkflowRunEvent): Promise<SingleRunResult>;
  /** The completed event of a run named by id (`workflow_dispatch` with a run id). */
  readRunEvent(
    run: { readonly repo: RepoRef; readonly runId: number; readonly defaultBranch: string | null },
    envelope: { readonly deliveryId: string; readonly receivedAt: number; readonly handlerId: string },
  ): Promise<RunEventRead>;
}

/** No decision history without a store: RERUN_FLAKY_AFTER finds no job flaky (never a guess). */
const NO_HISTORY: JobHistories = {
  of: () => Promise.reject(new Error("no decision history without a store")),
  recorded: () => {},
};

export function createSingleRun(parts: SingleRunParts): SingleRun {
  const { config, access, clock, dryRun } = parts;
  const scopeOf = createEventScope(config, access, createRepoConfigs(config, clock));
  const enrich = createEnricher({ clock, histories: NO_HISTORY, readRecord: async () => undefined, listFailedJobs: true });

  return {
    async decide(event) {
      const deadline = event.receivedAt + config.deadlineMs;
      const scope = await scopeOf(event, deadline);
      if (scope.kind === "refused") return { status: 204, reason: scope.reason, rerun: false, failedJobs: [], config };
      if (scope.note !== null) parts.logger({ level: "warn", msg: "the repository's configuration file was not used", note: scope.note });
      const noted = (reason: string): string => (scope.note === null ? reason : `${reason}; ${scope.note}`);
      const { facts } = await enrich(event, deadline, scope);
      const enriched: WorkflowRunEvent = facts === undefined ? event : { ...event, facts };
      const { decision, failedJobs } = decideCompletedRun(enriched, scope.config);
      const base = { failedJobs, config: scope.config };
      if (decision.action.type === "none" || decision.record === undefined) {
        return { ...base, status: decision.status, reason: noted(decision.reason), rerun: false };
      }
      // No record says whether an earlier event of this attempt re-ran it: the run itself does.
      const action = { ...decision.action, verifyFirst: true };
      const outcome = await executeRerun(scope.github, action, deadline, { config: scope.config, clock, dryRun });
      // No store: nothing drives a rerun that did not go through, and the sentence says so.
      const settled = settle(decision.record, action, outcome, event, clock(), "none");
      const rerun = outcome.kind === "accepted" && outcome.dryRun !== true;
      return { ...base, status: settled.status, reason: noted(settled.reason), rerun, outcome };
    },

    async readRunEvent(run, envelope) {
      const ref = { owner: run.repo.owner, repo: run.repo.name, runId: run.runId };
      const budget = Math.max(0, envelope.receivedAt + config.deadlineMs - clock());
      const read = await withTimeout(parts.runReader.getRun(ref, AbortSignal.timeout(budget)), budget, () => new Error("no answer before the deadline")).catch(
        (error: unknown) => ({ kind: "unavailable", message: error instanceof Error ? error.message : String(error) }) as const,
      );
      if (read.kind !== "run") return { kind: "unreadable", message: read.message };
      const status = RUN_STATUSES.get(read.status);
      if (status !== "completed") return { kind: "not-completed", status: read.status, attempt: read.runAttempt };
      return {
        kind: "event",
        event: {
          kind: "workflow_run",
          ...envelope,
          repo: run.repo,
          runId: run.runId,
          attempt: read.runAttempt,
          headBranch: read.headBranch ?? null,
          defaultBranch: run.defaultBranch,
          workflowName: read.workflowName ?? null,
          sender: read.actor ?? null,
          status,
          conclusion: read.conclusion?.toLowerCase() ?? "unknown",
        },
      };
    },
  };
}
