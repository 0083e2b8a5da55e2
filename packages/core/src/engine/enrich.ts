import type { Config } from "../domain/config.js";
import { allJobsCompleted, isFailedConclusion, isFailedJob } from "../domain/jobs.js";
import { storedSteps } from "../domain/policy/steps.js";
import type { FactsClient, ListedJob } from "../ports/github.js";
import { classifies, needsHistory, needsRemoteFacts } from "../domain/policy/policy.js";
import type { JobHistories } from "./job-history.js";
import type { EventFacts, Fetched, JobFacts } from "../domain/policy/facts.js";
import { withTimeout } from "./timing.js";
import type { RunEvent, RunRecord } from "../domain/types.js";

/** Failed jobs whose annotations and logs are read for one event; more are recorded `unknown`. */
export const MAX_JOBS_READ_PER_EVENT = 16;
/** Jobs read at the same time (two look-ups each). */
const PARALLEL_JOBS = 4;

export interface EnrichContext {
  readonly clock: () => number;
  /** The run's current record (the enricher only reads it to see what is already known). */
  readonly readRecord: (event: RunEvent, deadline: number) => Promise<RunRecord | undefined>;
  /** The failed jobs' records in the decision history (RERUN_FLAKY_AFTER). */
  readonly histories: JobHistories;
  /**
   * List a failed attempt's jobs even when the policy classifies none (no annotation or log is
   * read then): a host that names the failed jobs it decided on (the GitHub Action's summary).
   */
  readonly listFailedJobs?: boolean;
}

type Wanted = Omit<JobFacts, "annotations" | "log">;

/** The failed jobs this event should bring facts for: its own, and at the attempt's end the unknown ones. */
function wantedJobs(event: RunEvent, prior: RunRecord | undefined, config: Config): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  const known = prior !== undefined && prior.attempt === event.attempt ? prior : undefined;
  if (event.kind === "workflow_job" && isFailedJob(event.job, config.rerunConclusions)) {
    const existing = known?.jobs[String(event.job.id)];
    // A redelivery of a job with a definite class needs nothing: its class is kept.
    if (existing?.verdict === undefined || existing.verdict.class === "unknown") {
      wanted.set(String(event.job.id), { ...event.job, steps: event.job.steps ?? storedSteps(existing?.failedStep) });
    }
  }
  if (known === undefined) return wanted;
  const finishing =
    (event.kind === "workflow_run" && event.status === "completed") ||
    (event.kind === "workflow_job" && event.job.status === "completed" && allJobsCompleted({ ...known.jobs, [String(event.job.id)]: { ...event.job } }));
  if (!finishing) return wanted;
  // The attempt ends now: read again what could not be read when its job completed.
  for (const [id, job] of Object.entries(known.jobs)) {
    if (wanted.has(id) || !isFailedJob(job, config.rerunConclusions)) continue;
    if (job.verdict === undefined || job.verdict.class === "unknown") {
      wanted.set(id, { id: Number(id), name: job.name, status: job.status, conclusion: job.conclusion, steps: storedSteps(job.failedStep) });
    }
  }
  return wanted;
}

/** The attempt failed but the record knows none of its failed jobs: their webhooks were lost. */
function needsListing(event: RunEvent, prior: RunRecord | undefined, config: Config): boolean {
  if (event.kind !== "workflow_run" || event.status !== "completed" || !isFailedConclusion(event.conclusion, config.rerunConclusions)) return false;
  if (prior === undefined || prior.attempt !== event.attempt) return true;
  return !Object.values(prior.jobs).some((j) => isFailedJob(j, config.rerunConclusions) && j.verdict !== undefined);
}

function fromListing(job: ListedJob): Wanted {
  return { id: job.id, name: job.name, status: job.status, conclusion: job.conclusion, steps: job.steps };
}

/**
 * The enrich stage: gathers the facts the rerun policy needs (the failed job's annotations and
 * log tail, the unknown ones again when the attempt ends, the attempt's jobs when their webhooks
 * were lost) and attaches them to the event before `decide`. Under the default policy it returns
 * the event as it is, having made no request. Never throws; whatever could not be read in its
 * share of the deadline is `unknown`.
 */
export function createEnricher(
  context: EnrichContext,
): (event: RunEvent, deadline: number, scoped: { readonly config: Config; readonly facts: FactsClient }) => Promise<RunEvent> {
  const { clock } = context;
  // The configuration and the credentials are the event's own (a repository's file, an App installation).
  return async function enrich(event, deadline, { config, facts }) {
    const policy = config.policy;
    if (!classifies(policy) && context.listFailedJobs !== true) return event;
    // Half the deadline at most: the store writes and the rerun call need the rest.
    const until = Math.min(deadline, event.receivedAt + config.deadlineMs / 2);
    const remaining = () => Math.max(0, until - clock());
    const signal = AbortSignal.timeout(remaining());
    const late = () => new Error("no answer before the deadline");
    const prior = await context.readRecord(event, until).catch(() => undefined);
    const wanted = wantedJobs(event, prior, config);
    let listingUnknown: string | undefined;
    if (needsListing(event, prior, config)) {
      const listing = await withTimeout(
        facts.attemptJobs({ owner: event.repo.owner, repo: event.repo.name, runId: event.runId, attempt: event.attempt }, signal),
        remaining(),
        late,
      ).catch((error: unknown) => ({ state: "unknown", why: error instanceof Error ? error.message : String(error) }) as const);
      if (listing.state === "unknown") listingUnknown = listing.why;
      else for (const job of listing.jobs) if (isFailedJob(job, config.rerunConclusions)) wanted.set(String(job.id), fromListing(job));
    }
    if (wanted.size === 0 && listingUnknown === undefined) return event;

    const remote = needsRemoteFacts(policy);
    const read = async (job: Wanted, index: number): Promise<JobFacts> => {
      if (!remote) return { ...job, annotations: { state: "skipped" }, log: { state: "skipped" } };
      if (index >= MAX_JOBS_READ_PER_EVENT) {
        const why = { state: "unknown", why: `not read: more than ${MAX_JOBS_READ_PER_EVENT} failed jobs at once` } as const;
        return { ...job, annotations: why, log: why };
      }
      const ref = { owner: event.repo.owner, repo: event.repo.name, jobId: job.id };
      const bounded = <T>(p: Promise<Fetched<T>>): Promise<Fetched<T>> =>
        withTimeout(p, remaining(), late).catch((error: unknown) => ({ state: "unknown", why: error instanceof Error ? error.message : String(error) }));
      const [annotations, log] = await Promise.all([bounded(facts.annotations(ref, signal)), bounded(facts.logTail(ref, policy.logTailBytes, signal))]);
      return { ...job, annotations, log };
    };
    const list = [...wanted.values()];
    const jobs: Record<string, JobFacts> = {};
    for (let i = 0; i < list.length; i += PARALLEL_JOBS) {
      const batch = await Promise.all(list.slice(i, i + PARALLEL_JOBS).map((job, j) => read(job, i + j)));
      for (const f of batch) jobs[String(f.id)] = f;
    }
    if (needsHistory(policy)) {
      // What the history says of each failed job; one that cannot be read in time is left without (never a guess).
      const workflow = event.workflowName ?? prior?.workflowName ?? null;
      for (const [id, job] of Object.entries(jobs)) {
        const history = await withTimeout(context.histories.of(event.repo, workflow, job.name), remaining(), late).catch(() => undefined);
        if (history !== undefined) jobs[id] = { ...job, history };
      }
    }
    const gathered: EventFacts = listingUnknown === undefined ? { jobs } : { jobs, listingUnknown };
    return { ...event, facts: gathered };
  };
}
