import type { Config } from "../domain/config.js";
import type { GitHubClient } from "../ports/github.js";
import type { RerunOutcome } from "../domain/machine.js";
import { withTimeout } from "./timing.js";
import type { RerunAction } from "../domain/types.js";

/**
 * Drives one rerun action against GitHub within the delivery's deadline, leaving time to record
 * the outcome. Never throws: every failure is an outcome `settle` understands.
 */
export async function executeRerun(
  github: GitHubClient,
  action: RerunAction,
  deadline: number,
  context: { readonly config: Config; readonly clock: () => number; readonly dryRun: boolean },
): Promise<RerunOutcome> {
  const { config, clock } = context;
  const run = { owner: action.owner, repo: action.repo, runId: action.runId };
  // Leave time to record the outcome before the deadline.
  const callDeadline = deadline - Math.min(1000, config.deadlineMs / 4);
  const signal = AbortSignal.timeout(Math.max(0, callDeadline - clock()));
  // Both calls share one budget; the timeout also covers a client that ignores the signal.
  const bounded = <T>(p: Promise<T>, fallback: T): Promise<T> =>
    withTimeout(p, callDeadline - clock(), () => new Error("timeout")).catch(() => fallback);
  const timedOut = { kind: "transient", message: "GitHub did not answer before the deadline" } as const;
  if (action.verifyFirst) {
    // An earlier call may have reached GitHub and lost its answer: look before calling again.
    const read = await bounded(github.getRun(run, signal), { kind: "unavailable", message: timedOut.message } as const);
    if (read.kind === "unavailable") return { kind: "transient", message: `could not read the run first: ${read.message}` };
    if (read.kind === "not-found") return { kind: "rejected", message: read.message };
    if (read.runAttempt > action.attempt) return { kind: "already-done", runAttempt: read.runAttempt };
    if (read.status !== "completed") return { kind: "in-progress", message: `the run is ${read.status}` };
  }
  const result = await bounded(github.rerunFailedJobs(run, signal), timedOut);
  switch (result.kind) {
    case "accepted":
      return context.dryRun ? { kind: "accepted", dryRun: true } : { kind: "accepted" };
    case "in-progress":
      return { kind: "in-progress", message: result.message };
    case "forbidden":
      // A bad token (401) is the operator's to fix, and then the rerun may go through: keep it
      // pending. A missing permission (403) or a run GitHub will not re-run (422) is for good.
      if (result.status === 401) return { kind: "refused", message: result.message };
      return result.missingPermission === true ? { kind: "rejected", message: result.message, missingPermission: true } : { kind: "rejected", message: result.message };
    case "not-found":
      return { kind: "rejected", message: result.message };
    case "transient":
      return { kind: "transient", message: signal.aborted ? timedOut.message : result.message };
  }
}
