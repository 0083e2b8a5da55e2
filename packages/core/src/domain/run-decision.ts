import type { DecisionConfig } from "./config.js";
import { isFailedJob } from "./jobs.js";
import { decide } from "./machine.js";
import type { JobClassName } from "./policy/facts.js";
import { failedStepOf } from "./policy/steps.js";
import type { Decision, WorkflowRunEvent } from "./types.js";

/** One failed job of a decided attempt, as a host reports it (the Action's `failed-jobs` output and summary). */
export interface FailedJobReport {
  readonly id: number;
  readonly name: string;
  /** Its class under the rerun policy; null when the policy classifies no job (RERUN_WHEN=failure with no pattern, step or job limit). */
  readonly class: JobClassName | null;
  /** The line, step or history that decided the class; for an unclassified job, the step it failed in. */
  readonly evidence: string;
  /** Set when NO_RERUN_PATTERNS or NO_RERUN_STEPS decided. */
  readonly vetoed?: "NO_RERUN_PATTERNS" | "NO_RERUN_STEPS";
}

/** A finished attempt decided with no record before it, and the failed jobs it was decided on. */
export interface RunDecision {
  readonly decision: Decision;
  readonly failedJobs: readonly FailedJobReport[];
}

/**
 * Decides one `workflow_run` event with no record of its run (a host without a store: the GitHub
 * Action, where GitHub's own run is the state). The decision is `decide`'s, with the same filters,
 * policy and reason; the failed jobs are those whose facts the engine attached to the event, each
 * with the class `decide` gave it. Pure.
 */
export function decideCompletedRun(event: WorkflowRunEvent, config: DecisionConfig): RunDecision {
  const decision = decide(undefined, event, config);
  const judged = decision.record?.attempt === event.attempt ? decision.record.jobs : {};
  const failedJobs: FailedJobReport[] = [];
  for (const [key, fact] of Object.entries(event.facts?.jobs ?? {})) {
    if (!isFailedJob(fact, config.rerunConclusions)) continue;
    const verdict = Object.hasOwn(judged, key) ? judged[key]?.verdict : undefined;
    if (verdict !== undefined) {
      failedJobs.push({ id: fact.id, name: fact.name, class: verdict.class, evidence: verdict.evidence, ...(verdict.vetoed === undefined ? {} : { vetoed: verdict.vetoed }) });
      continue;
    }
    const step = failedStepOf(fact.steps);
    failedJobs.push({ id: fact.id, name: fact.name, class: null, evidence: step === undefined ? `${fact.conclusion ?? "failed"}` : `failed in step "${step.name}"` });
  }
  return { decision, failedJobs };
}
