import { branchRefusal } from "./branches.js";
import type { DecisionConfig } from "./config.js";
import { allJobsCompleted, attemptFailed, isFailedJob, JOB_RANK, jobIn, openJobs, recordJob, senderRefusal, workflowRefusal } from "./jobs.js";
import { absorbJobFacts, failedJobsOf } from "./policy/record-facts.js";
import { judgeAttempt } from "./policy/verdict.js";
import type { Action, Decision, DeliveryMemo, RerunAction, RunEvent, RunRecord } from "./types.js";

/** Deliveries remembered per run, so a redelivery gets its first answer. */
export const MAX_DELIVERY_MEMO = 100;

const NONE: Action = { type: "none" };

function label(record: { repo: { owner: string; name: string }; runId: number }, attempt: number): string {
  return `${record.repo.owner}/${record.repo.name} run ${record.runId} attempt ${attempt}`;
}

/** Kept only when known, so a token-mode record stays as it was. */
function installation(id: number | undefined): { installationId?: number } {
  return id === undefined ? {} : { installationId: id };
}

function freshRecord(event: RunEvent, config: DecisionConfig): RunRecord {
  return {
    v: 1,
    repo: event.repo,
    runId: event.runId,
    attempt: event.attempt,
    headBranch: event.headBranch,
    defaultBranch: event.defaultBranch,
    ...installation(event.installationId),
    workflowName: event.workflowName,
    jobs: {},
    failureSeen: false,
    runConclusion: null,
    runCompleted: false,
    rerun: { state: "none" },
    deliveries: [],
    updatedAt: event.receivedAt,
    expiresAt: event.receivedAt + config.recordTtlMs,
  };
}

/** A new attempt starts a fresh job table; what is known of the run itself carries over. */
function startAttempt(prior: RunRecord, event: RunEvent, config: DecisionConfig): RunRecord {
  return {
    ...freshRecord(event, config),
    headBranch: event.headBranch ?? prior.headBranch,
    defaultBranch: event.defaultBranch ?? prior.defaultBranch ?? null,
    ...installation(event.installationId ?? prior.installationId),
    workflowName: event.workflowName ?? prior.workflowName,
    deliveries: prior.deliveries,
  };
}

/** Folds the event's facts into the record; job status only moves forward. */
function absorb(record: RunRecord, event: RunEvent, config: DecisionConfig): RunRecord {
  const common = {
    headBranch: record.headBranch ?? event.headBranch,
    defaultBranch: record.defaultBranch ?? event.defaultBranch,
    ...installation(record.installationId ?? event.installationId),
    workflowName: record.workflowName ?? event.workflowName,
    updatedAt: event.receivedAt,
    expiresAt: event.receivedAt + config.recordTtlMs,
  };
  if (event.kind === "workflow_run") {
    if (event.status !== "completed" || record.runCompleted) return absorbJobFacts({ ...record, ...common }, event, config);
    return absorbJobFacts({ ...record, ...common, runCompleted: true, runConclusion: event.conclusion }, event, config);
  }
  const recorded = recordJob(record.jobs, event.job);
  const absorbed: RunRecord = {
    ...record,
    ...common,
    jobs: recorded.jobs,
    // A late repeat of a completed job cannot change its recorded conclusion; a job past MAX_JOBS still counts.
    failureSeen: record.failureSeen || (recorded.advanced && isFailedJob(event.job, config.rerunConclusions)),
  };
  return absorbJobFacts(absorbed, event, config);
}

function remember(record: RunRecord, memo: DeliveryMemo): RunRecord {
  const others = record.deliveries.filter((d) => d.id !== memo.id);
  const deliveries = [...others, memo];
  return {
    ...record,
    deliveries: deliveries.length > MAX_DELIVERY_MEMO ? deliveries.slice(deliveries.length - MAX_DELIVERY_MEMO) : deliveries,
  };
}

function memoOf(id: string, status: number, reason: string, action: Action["type"]): DeliveryMemo {
  return action === "none" ? { id, status, reason } : { id, status, reason, action };
}

function result(record: RunRecord, event: RunEvent, status: number, reason: string, action: Action = NONE): Decision {
  return { status, reason, action, record: remember(record, memoOf(event.deliveryId, status, reason, action.type)), changed: true };
}

function unchanged(prior: RunRecord | undefined, status: number, reason: string, answerAction?: Action["type"]): Decision {
  const decision: Decision = { status, reason, action: NONE, record: prior, changed: false };
  return answerAction === undefined || answerAction === "none" ? decision : { ...decision, answerAction };
}

function rerunAction(record: RunRecord, verifyFirst: boolean): RerunAction {
  return {
    type: "rerun-failed-jobs",
    owner: record.repo.owner,
    repo: record.repo.name,
    runId: record.runId,
    attempt: record.attempt,
    verifyFirst,
  };
}

/**
 * A pending rerun is driven by whoever holds its lease; a free or expired lease is taken here,
 * so two deliveries (or two instances) never call GitHub for it at the same time.
 */
function drivePending(record: RunRecord, event: RunEvent, config: DecisionConfig): Decision {
  const rerun = record.rerun;
  if (rerun.state !== "pending") throw new Error("drivePending needs a pending rerun");
  const now = event.receivedAt;
  if (rerun.leaseHolder !== null && rerun.leaseHolder !== event.handlerId && rerun.leaseUntil > now) {
    const reason = `rerun of ${label(record, rerun.attempt)} is being requested by another delivery`;
    // A redelivery that only found the lease taken keeps its first answer in the memo: once the
    // holder settles the rerun, later redeliveries must not replay this transient 202.
    if (record.deliveries.some((d) => d.id === event.deliveryId)) return unchanged(record, 202, reason);
    return result(record, event, 202, reason);
  }
  const taken: RunRecord = {
    ...record,
    rerun: { ...rerun, leaseHolder: event.handlerId, leaseUntil: now + config.leaseMs, calls: rerun.calls + 1 },
  };
  return result(taken, event, 201, `driving the pending rerun of ${label(record, rerun.attempt)}`, rerunAction(taken, rerun.calls > 0));
}

/** The attempt is over (all tracked jobs completed, or workflow_run completed): rerun or not. */
function finish(record: RunRecord, event: RunEvent, config: DecisionConfig): Decision {
  const what = label(record, record.attempt);
  if (record.rerun.state === "requested") {
    const done = record.rerun.dryRun === true ? "were already decided for a rerun (DRY_RUN: GitHub not called)" : "were already re-run";
    return result(record, event, 200, `failed jobs of ${what} ${done}`);
  }
  if (record.rerun.state === "pending") return drivePending(record, event, config);
  if (record.rerun.state === "refused") {
    return result(record, event, 200, `${what}: GitHub refused the rerun for good (${record.rerun.message}); not requested again`);
  }
  if (!attemptFailed(record, config.rerunConclusions)) {
    const how = record.runCompleted ? `concluded ${record.runConclusion ?? "unknown"}` : "finished with no failed job";
    return result(record, event, 200, `${what} ${how}: nothing to re-run`);
  }
  const notSelected = branchRefusal(config.branches, record.headBranch, record.defaultBranch ?? null);
  if (notSelected !== null) return result(record, event, 200, `${what} ${notSelected}`);
  const verdict = judgeAttempt(failedJobsOf(record, config), config.policy);
  if (!verdict.rerun) return result(record, event, 200, `${what} finished with failed jobs: ${verdict.explanation}: not re-run`);
  const because = verdict.explanation === "" ? "finished with failed jobs" : `finished with failed jobs: ${verdict.explanation}`;
  const pending: RunRecord = {
    ...record,
    rerun: {
      state: "pending",
      attempt: record.attempt,
      decidedAt: event.receivedAt,
      leaseHolder: event.handlerId,
      leaseUntil: event.receivedAt + config.leaseMs,
      calls: 1,
      lastError: null,
      ...(verdict.explanation === "" ? {} : { because }),
    },
  };
  return result(pending, event, 201, `${what} ${because}: re-running failed jobs`, rerunAction(pending, false));
}

function filtered(prior: RunRecord | undefined, event: RunEvent, config: DecisionConfig): Decision | undefined {
  const sender = senderRefusal(event, config);
  if (sender !== null) return unchanged(prior, 204, sender);
  if (event.attempt >= config.runAttempts) {
    return unchanged(prior, 204, `run attempt ${event.attempt} has reached RUN_ATTEMPTS=${config.runAttempts}`);
  }
  const workflow = workflowRefusal(event, config, prior?.runId === event.runId ? prior.workflowName : null);
  return workflow === null ? undefined : unchanged(prior, 204, workflow);
}

/** The attempt was re-run: its rerun was requested, or the run has moved on to a later attempt. */
export function rerunHappened(record: RunRecord, attempt: number): boolean {
  return attempt < record.attempt || (record.rerun.state === "requested" && record.rerun.attempt === attempt);
}

/**
 * The state machine: from the run's prior record and one event, the new record, the answer and
 * the action. Pure: the time comes in with the event, inputs are never mutated, nothing is read
 * or written elsewhere.
 */
export function decide(prior: RunRecord | undefined, event: RunEvent, config: DecisionConfig): Decision {
  const skip = filtered(prior, event, config);
  if (skip !== undefined) return skip;

  // A repeated delivery id is answered before anything else, even once its attempt is old.
  const memo = prior?.deliveries.find((d) => d.id === event.deliveryId);
  if (prior !== undefined && memo !== undefined) {
    if (prior.rerun.state === "pending" && event.attempt === prior.attempt) return drivePending(prior, event, config);
    if (memo.status >= 500 && rerunHappened(prior, event.attempt)) {
      // The first answer was a failure, but the rerun went through since: say so, or GitHub
      // keeps showing a failed delivery for a run that was re-run.
      return unchanged(prior, 201, `${label(prior, event.attempt)}: the rerun of failed jobs was requested since this delivery first failed`, "rerun-failed-jobs");
    }
    return unchanged(prior, memo.status, memo.reason, memo.action);
  }

  if (prior !== undefined && event.attempt < prior.attempt) {
    return unchanged(prior, 200, `attempt ${event.attempt} is older than the tracked attempt ${prior.attempt}: ignored`);
  }

  const base = prior === undefined ? freshRecord(event, config) : event.attempt > prior.attempt ? startAttempt(prior, event, config) : prior;
  const record = absorb(base, event, config);

  if (event.kind === "workflow_run") {
    if (event.status === "completed") return finish(record, event, config);
    if (record.rerun.state === "pending") return drivePending(record, event, config);
    return result(record, event, 202, `${label(record, record.attempt)} is ${event.status}: waiting for it to finish`);
  }

  if (prior === undefined && event.job.status === "completed") {
    return result(record, event, 404, `job "${event.job.name}" completed but ${label(record, record.attempt)} had no earlier record (recorded now)`);
  }
  if (record.rerun.state === "pending") return drivePending(record, event, config);
  if (event.job.status !== "completed") {
    const known = jobIn(base.jobs, String(event.job.id));
    if (known !== undefined && JOB_RANK[known.status] >= JOB_RANK[event.job.status]) {
      // A late event for a job that already completed, in an attempt whose every job is done:
      // the attempt is over even if its deciding event came first (a 404), so decide it now.
      if (allJobsCompleted(record.jobs) && record.rerun.state === "none") return finish(record, event, config);
      return result(record, event, 202, `job "${event.job.name}" is already ${known.status}: late ${event.job.status} event changes nothing`);
    }
    return result(record, event, 202, `job "${event.job.name}" is ${event.job.status}: waiting for the run's jobs`);
  }
  const { open, total } = openJobs(record.jobs);
  if (open > 0 && !record.runCompleted) {
    return result(record, event, 202, `job "${event.job.name}" ${event.job.conclusion ?? "completed"}: waiting for ${open} of ${total} jobs`);
  }
  return finish(record, event, config);
}

/** What GitHub said (or what the run read showed) when the engine drove a rerun. */
export type RerunOutcome =
  | { readonly kind: "accepted"; readonly dryRun?: boolean }
  | { readonly kind: "already-done"; readonly runAttempt: number }
  | { readonly kind: "in-progress"; readonly message: string }
  /** Refused, but it may go through later (a bad token, fixed by the operator): stays pending. */
  | { readonly kind: "refused"; readonly message: string }
  /** Refused for good (403 for a missing permission, 404, 422): the rerun becomes `refused`. */
  | { readonly kind: "rejected"; readonly message: string; readonly missingPermission?: boolean }
  | { readonly kind: "transient"; readonly message: string };

/**
 * What takes a rerun that did not go through up again: the run's next events, a redelivery and
 * the pending driver (a host with a store), or nothing (the GitHub Action, which keeps no state).
 */
export type Retry = "later" | "none";

export interface Settlement {
  readonly record: RunRecord;
  readonly status: number;
  readonly reason: string;
}

/**
 * Folds the outcome of a rerun call into the record (pure, like decide). Only the lease holder's
 * pending rerun of the same attempt changes; whatever happened meanwhile is kept.
 */
export function settle(
  record: RunRecord,
  action: RerunAction,
  outcome: RerunOutcome,
  event: Pick<RunEvent, "deliveryId" | "handlerId" | "receivedAt">,
  now: number,
  retry: Retry = "later",
): Settlement {
  const what = `${action.owner}/${action.repo} run ${action.runId} attempt ${action.attempt}`;
  const rerun = record.rerun;
  const because = rerun.state === "pending" && rerun.because !== undefined ? rerun.because : "finished with failed jobs";
  const ours = rerun.state === "pending" && rerun.attempt === action.attempt && record.attempt === action.attempt;
  let next = record;
  let status: number;
  let reason: string;
  switch (outcome.kind) {
    case "accepted":
    case "already-done":
      status = 201;
      reason =
        outcome.kind === "accepted"
          ? outcome.dryRun === true
            ? `${what} ${because}: DRY_RUN, would re-run failed jobs (GitHub not called)`
            : `${what} ${because}: GitHub accepted the rerun of failed jobs`
          : `${what}: an earlier call did re-run it (the run is at attempt ${outcome.runAttempt}); not called again`;
      if (ours) {
        const dryRun = outcome.kind === "accepted" && outcome.dryRun === true;
        next = { ...record, rerun: { state: "requested", attempt: action.attempt, at: now, ...(dryRun ? { dryRun: true as const } : {}) } };
      }
      break;
    case "rejected":
      status = 502;
      reason = `${what}: GitHub refused the rerun for good (${outcome.message}); it is not requested again for this attempt`;
      if (ours) next = { ...record, rerun: { state: "refused", attempt: action.attempt, at: now, message: outcome.message } };
      break;
    case "in-progress":
    case "refused":
    case "transient": {
      status = outcome.kind === "in-progress" ? 202 : 502;
      const then =
        retry === "none"
          ? "nothing here retries it: run this step again to decide again"
          : outcome.kind === "in-progress"
            ? "the rerun stays pending until the run completes"
            : "it stays pending and is retried on the next event or a redelivery";
      reason =
        outcome.kind === "in-progress"
          ? `${what}: ${outcome.message}; ${then}`
          : outcome.kind === "refused"
            ? `${what}: GitHub refused the rerun (${outcome.message}); ${then}`
            : `${what}: the rerun call failed (${outcome.message}); ${then}`;
      if (ours && rerun.leaseHolder === event.handlerId) {
        next = { ...record, rerun: { ...rerun, leaseHolder: null, leaseUntil: 0, lastError: outcome.message } };
      }
      break;
    }
  }
  next = { ...next, updatedAt: Math.max(next.updatedAt, now) };
  return { record: remember(next, memoOf(event.deliveryId, status, reason, action.type)), status, reason };
}
