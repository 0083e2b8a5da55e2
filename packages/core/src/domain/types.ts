import type { EventFacts, JobClass, StepFact } from "./policy/facts.js";
import type { JobStatus, RunStatus } from "./status.js";

export type { JobStatus, RunStatus } from "./status.js";

export interface RepoRef {
  /** Numeric repository id: stable across renames, used in the record key. */
  readonly id: number;
  readonly owner: string;
  readonly name: string;
}

interface EventBase {
  /** `X-GitHub-Delivery`: the same on a redelivery. */
  readonly deliveryId: string;
  /** Epoch milliseconds at which the engine received the delivery: `decide` never reads a clock. */
  readonly receivedAt: number;
  /** Unique per `handle` call (a redelivery gets a new one): identifies who holds a rerun lease. */
  readonly handlerId: string;
  readonly repo: RepoRef;
  readonly runId: number;
  /** `run_attempt`; payloads from before GitHub sent it mean attempt 1. */
  readonly attempt: number;
  readonly headBranch: string | null;
  /**
   * `repository.default_branch`: what REPO_BRANCHES selects when it is unset. Null when the
   * payload (or another event source) does not say.
   */
  readonly defaultBranch: string | null;
  readonly workflowName: string | null;
  /** Login of the `sender`, or null when the payload has none. */
  readonly sender: string | null;
  /** What the engine gathered for the rerun policy before `decide` (absent when it needs nothing). */
  readonly facts?: EventFacts;
  /** `installation.id` of a GitHub App's delivery: whose token makes the calls. */
  readonly installationId?: number;
}

export interface WorkflowJobEvent extends EventBase {
  readonly kind: "workflow_job";
  readonly job: {
    readonly id: number;
    readonly name: string;
    readonly status: JobStatus;
    readonly conclusion: string | null;
    /** `workflow_job.steps[]` as the payload gives it (name and conclusion). */
    readonly steps?: readonly StepFact[];
  };
}

export interface WorkflowRunEvent extends EventBase {
  readonly kind: "workflow_run";
  readonly status: RunStatus;
  readonly conclusion: string | null;
}

export type RunEvent = WorkflowJobEvent | WorkflowRunEvent;

export interface JobEntry {
  readonly name: string;
  readonly status: JobStatus;
  readonly conclusion: string | null;
  /** A failed job's class under the rerun policy, kept so every later event judges it the same. */
  readonly verdict?: JobClass;
  /** The failed step's name, kept so a job classified `unknown` can be read again later. */
  readonly failedStep?: string | null;
}

/**
 * Rerun state of the tracked attempt.
 * - none: nothing decided yet.
 * - pending: decided and written before GitHub was called; `leaseUntil`/`leaseHolder` say who may
 *   call GitHub now (a lease of 0 is free). `calls` counts the POSTs started so far.
 * - requested: GitHub accepted the rerun (or the run was seen to have moved to a later attempt).
 * - refused: GitHub refused it for good; later events answer 200 with the refusal.
 */
export type RerunState =
  | { readonly state: "none" }
  | {
      readonly state: "pending";
      readonly attempt: number;
      readonly decidedAt: number;
      readonly leaseHolder: string | null;
      readonly leaseUntil: number;
      readonly calls: number;
      readonly lastError: string | null;
      /** Why the attempt is re-run (the failed jobs and their classes), for the answers that follow. */
      readonly because?: string;
    }
  /** GitHub accepted the rerun; `dryRun`: DRY_RUN decided it and GitHub was not called. */
  | { readonly state: "requested"; readonly attempt: number; readonly at: number; readonly dryRun?: true }
  /** GitHub refused the rerun for good (403 permission, 404, 422): never requested again for this attempt. */
  | { readonly state: "refused"; readonly attempt: number; readonly at: number; readonly message: string };

/** What one delivery got, kept so that a redelivery gets the same answer. */
export interface DeliveryMemo {
  readonly id: string;
  readonly status: number;
  readonly reason: string;
  /** The `action` the first answer named (absent: none). */
  readonly action?: Action["type"];
}

/** One record per workflow run. Plain JSON: every store saves it as it is. */
export interface RunRecord {
  readonly v: 1;
  readonly repo: RepoRef;
  readonly runId: number;
  /** The run attempt the job table describes. */
  readonly attempt: number;
  readonly headBranch: string | null;
  /** The repository's default branch as the run's events gave it; absent in records written before it was kept. */
  readonly defaultBranch?: string | null;
  /**
   * The GitHub App installation a delivery of this run named: the pending driver, which has no
   * delivery, acts with its token.
   */
  readonly installationId?: number;
  readonly workflowName: string | null;
  /** Jobs of `attempt`, keyed by job id (a string, so the record is plain JSON). */
  readonly jobs: Readonly<Record<string, JobEntry>>;
  /** A job of this attempt concluded with one of the configured failure conclusions. */
  readonly failureSeen: boolean;
  /** Conclusion from `workflow_run` completed for this attempt: authoritative when present. */
  readonly runConclusion: string | null;
  readonly runCompleted: boolean;
  readonly rerun: RerunState;
  /** Most recent deliveries last; bounded by MAX_DELIVERY_MEMO. */
  readonly deliveries: readonly DeliveryMemo[];
  readonly updatedAt: number;
  /** Epoch ms after which the record may be dropped (stores honour it; Firestore TTL uses it). */
  readonly expiresAt: number;
}

export type RerunAction = {
  readonly type: "rerun-failed-jobs";
  readonly owner: string;
  readonly repo: string;
  readonly runId: number;
  readonly attempt: number;
  /** True when an earlier call for this attempt may already have reached GitHub: read the run first. */
  readonly verifyFirst: boolean;
};

export type Action = { readonly type: "none" } | RerunAction;

export interface Decision {
  readonly status: number;
  readonly action: Action;
  /** The `action` the answer names when it differs from `action` (a repeated delivery's first answer). */
  readonly answerAction?: Action["type"];
  readonly reason: string;
  /** The record to store; `undefined` only when there was none and nothing is to be kept. */
  readonly record: RunRecord | undefined;
  /** Whether `record` differs from the prior one (the engine writes only then). */
  readonly changed: boolean;
}

/** Plain JSON, as every store keeps it. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };
