import type { DecisionConfig } from "../config.js";
import type { JobEntry, RunEvent, RunRecord } from "../types.js";
import { isFailedJob, MAX_JOBS } from "../jobs.js";
import { classifies, needsRemoteFacts, type RerunPolicy } from "./policy.js";
import { classifyJob } from "./classify.js";
import type { JobFacts } from "./facts.js";
import { failedStepOf, storedSteps } from "./steps.js";
import type { FailedJob } from "./verdict.js";


/** Facts for the event's own job when the engine attached none: what the payload says (its steps). */
function payloadFacts(event: RunEvent, policy: RerunPolicy): JobFacts | undefined {
  if (event.kind !== "workflow_job") return undefined;
  const remote = needsRemoteFacts(policy) ? ({ state: "unknown", why: "not gathered" } as const) : ({ state: "skipped" } as const);
  return { ...event.job, steps: event.job.steps ?? [], annotations: remote, log: remote };
}

/**
 * Folds the facts the engine attached to the event into the record (pure): failed jobs get their
 * class, jobs listed from GitHub that no webhook announced are added, and a job classified
 * `unknown` is classified again from facts read later. A job with a definite class keeps it, so a
 * redelivery or a later event judges the attempt the same way.
 */
export function absorbJobFacts(record: RunRecord, event: RunEvent, config: DecisionConfig): RunRecord {
  const policy = config.policy;
  if (!classifies(policy)) return record;
  const facts: Record<string, JobFacts> = { ...(event.facts?.jobs ?? {}) };
  if (event.kind === "workflow_job" && facts[String(event.job.id)] === undefined) {
    const own = payloadFacts(event, policy);
    if (own !== undefined) facts[String(event.job.id)] = own;
  }
  let jobs: Record<string, JobEntry> | undefined;
  let failureSeen = record.failureSeen;
  let count = Object.keys(record.jobs).length;
  for (const [key, fact] of Object.entries(facts)) {
    const current = jobs?.[key] ?? record.jobs[key];
    let entry: JobEntry;
    if (current === undefined) {
      // A job GitHub lists for the attempt whose webhooks never came.
      if (count >= MAX_JOBS) continue;
      count++;
      entry = { name: fact.name, status: fact.status, conclusion: fact.status === "completed" ? fact.conclusion : null };
      if (isFailedJob(entry, config.rerunConclusions)) failureSeen = true;
    } else if (current.status !== "completed" && fact.status === "completed") {
      // Its completed webhook was lost, the listing shows how it ended (status only moves forward).
      entry = { ...current, status: "completed", conclusion: fact.conclusion };
      if (isFailedJob(entry, config.rerunConclusions)) failureSeen = true;
    } else {
      entry = current;
    }
    if (!isFailedJob(entry, config.rerunConclusions)) {
      if (entry !== current) (jobs ??= { ...record.jobs })[key] = entry;
      continue;
    }
    if (entry.verdict !== undefined && entry.verdict.class !== "unknown") continue;
    const failedStep = failedStepOf(fact.steps);
    const steps = fact.steps.length > 0 ? fact.steps : storedSteps(entry.failedStep);
    (jobs ??= { ...record.jobs })[key] = {
      ...entry,
      verdict: classifyJob({ ...fact, steps }, policy),
      failedStep: failedStep?.name ?? entry.failedStep ?? null,
    };
  }
  return jobs === undefined && failureSeen === record.failureSeen ? record : { ...record, jobs: jobs ?? record.jobs, failureSeen };
}

/** The failed jobs of the record's attempt, in job id order. */
export function failedJobsOf(record: RunRecord, config: DecisionConfig): FailedJob[] {
  return Object.values(record.jobs)
    .filter((j) => isFailedJob(j, config.rerunConclusions))
    .map((j) => ({ name: j.name, verdict: j.verdict }));
}
