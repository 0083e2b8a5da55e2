import { stepsOf } from "./policy/steps.js";
import { isJsonObject, jsonText, type JsonObject } from "./json.js";
import { clip } from "./text.js";
import type { JobStatus, RepoRef, RunEvent, RunStatus } from "./types.js";

/** Why a delivery carries nothing to track: answered 204 with this reason. */
export interface Ignored {
  readonly kind: "ignored";
  readonly reason: string;
}

export type ParsedEvent = { readonly kind: "event"; readonly event: RunEvent } | Ignored;

export interface Envelope {
  readonly eventName: string | null;
  readonly deliveryId: string;
  readonly receivedAt: number;
  readonly handlerId: string;
}


// Maps, not object literals: a lookup keyed by payload text ("constructor", "__proto__",
// "toString") must never find an Object.prototype member.
export const JOB_STATUSES: ReadonlyMap<string, JobStatus> = new Map([
  ["queued", "queued"],
  ["waiting", "waiting"],
  ["pending", "queued"],
  ["requested", "queued"],
  ["in_progress", "in_progress"],
  ["completed", "completed"],
]);

export const RUN_STATUSES: ReadonlyMap<string, RunStatus> = new Map([
  ["requested", "requested"],
  ["in_progress", "in_progress"],
  ["completed", "completed"],
]);

/** The job's steps, only when the payload lists some (the rerun policy reads the failed one). */
function withSteps(value: unknown): { steps?: ReturnType<typeof stepsOf> } {
  const steps = stepsOf(value);
  return steps.length > 0 ? { steps } : {};
}

function ignored(reason: string): Ignored {
  return { kind: "ignored", reason };
}

/**
 * An id or attempt number: null when absent, the number when it is a whole number from 1 to
 * 2^53-1, and otherwise a reason naming the field. A number out of that range (1e20, 2.5, -1)
 * cannot be read as anything else without acting on the wrong run or attempt.
 */
function positiveField(owner: JsonObject, key: string, where: string): number | null | Ignored {
  const value = owner[key];
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  return ignored(`${where}.${key} is ${clip(JSON.stringify(value) ?? String(value), 40)}: not a whole number from 1 to 2^53-1`);
}

function isIgnored(value: unknown): value is Ignored {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "ignored";
}

function repoOf(payload: JsonObject): RepoRef | Ignored {
  const repository = payload.repository;
  if (!isJsonObject(repository)) return ignored("payload has no repository");
  const id = positiveField(repository, "id", "repository");
  if (isIgnored(id)) return id;
  if (id === null) return ignored("repository has no id");
  let owner = isJsonObject(repository.owner) ? jsonText(repository.owner.login) : null;
  let name = jsonText(repository.name);
  const fullName = jsonText(repository.full_name);
  if ((owner === null || name === null) && fullName !== null && fullName.includes("/")) {
    const slash = fullName.indexOf("/");
    owner = owner ?? fullName.slice(0, slash);
    name = name ?? fullName.slice(slash + 1);
  }
  if (owner === null || name === null) return ignored("repository has no owner/name");
  return { id, owner, name };
}

/**
 * The repository any webhook payload names, with its default branch: what a `workflow_job` or
 * `workflow_run` event carries, and all a `workflow_dispatch` one does (the GitHub Action).
 */
export function payloadRepository(payload: unknown): { readonly repo: RepoRef; readonly defaultBranch: string | null } | Ignored {
  if (!isJsonObject(payload)) return ignored("payload is not a JSON object");
  const repo = repoOf(payload);
  if (isIgnored(repo)) return repo;
  return { repo, defaultBranch: isJsonObject(payload.repository) ? jsonText(payload.repository.default_branch) : null };
}

function senderOf(payload: JsonObject): string | null {
  return isJsonObject(payload.sender) ? jsonText(payload.sender.login) : null;
}

/** Present only on a GitHub App's deliveries (an event without it stays equal to one built by hand). */
function installationOf(payload: JsonObject): { installationId?: number } {
  // A malformed id counts as none: in App mode such a delivery is answered 204 ("no installation").
  const id = isJsonObject(payload.installation) ? positiveField(payload.installation, "id", "installation") : null;
  return typeof id === "number" ? { installationId: id } : {};
}

/**
 * Turns a delivery (event name header + parsed JSON) into a typed run event, or says why there is
 * nothing to track. Accepts every real payload shape, including old ones without `run_attempt`
 * or `head_branch`; never throws.
 */
export function parseEvent(envelope: Envelope, payload: unknown): ParsedEvent {
  if (!isJsonObject(payload)) return ignored("payload is not a JSON object");
  const name =
    (envelope.eventName === null ? null : clip(envelope.eventName)) ??
    (Object.hasOwn(payload, "workflow_job") ? "workflow_job" : Object.hasOwn(payload, "workflow_run") ? "workflow_run" : null);
  if (name === "ping") return ignored("ping: webhook is set up");
  if (name !== "workflow_job" && name !== "workflow_run") {
    return ignored(name === null ? "not a workflow_job or workflow_run delivery" : `event "${name}" is not tracked`);
  }
  const body = payload[name];
  if (!isJsonObject(body)) return ignored(`${name} payload has no ${name} object`);
  const where = payloadRepository(payload);
  if (isIgnored(where)) return where;
  const attempt = positiveField(body, "run_attempt", name);
  if (isIgnored(attempt)) return attempt;
  const common = {
    deliveryId: envelope.deliveryId,
    receivedAt: envelope.receivedAt,
    handlerId: envelope.handlerId,
    repo: where.repo,
    // Payloads from before run attempts existed have none: that is the first attempt.
    attempt: attempt ?? 1,
    headBranch: jsonText(body.head_branch),
    defaultBranch: where.defaultBranch,
    sender: senderOf(payload),
    ...installationOf(payload),
  };
  const action = jsonText(payload.action);

  if (name === "workflow_job") {
    const runId = positiveField(body, "run_id", name);
    if (isIgnored(runId)) return runId;
    if (runId === null) return ignored("workflow_job has no run_id");
    const jobId = positiveField(body, "id", name);
    if (isIgnored(jobId)) return jobId;
    if (jobId === null) return ignored("workflow_job has no id");
    // The action says what happened; only a payload without one falls back to the job's status.
    const status = action !== null ? JOB_STATUSES.get(action) : JOB_STATUSES.get(jsonText(body.status) ?? "");
    if (status === undefined) return ignored(`workflow_job action "${action}" is not tracked`);
    const conclusion = status === "completed" ? (jsonText(body.conclusion)?.toLowerCase() ?? "unknown") : null;
    return {
      kind: "event",
      event: {
        kind: "workflow_job",
        ...common,
        runId,
        workflowName: jsonText(body.workflow_name),
        job: { id: jobId, name: jsonText(body.name) ?? `job ${jobId}`, status, conclusion, ...withSteps(body.steps) },
      },
    };
  }

  const runId = positiveField(body, "id", name);
  if (isIgnored(runId)) return runId;
  if (runId === null) return ignored("workflow_run has no id");
  const status = RUN_STATUSES.get(action ?? "");
  if (status === undefined) return ignored(`workflow_run action "${action}" is not tracked`);
  const workflowName = jsonText(body.name) ?? (isJsonObject(payload.workflow) ? jsonText(payload.workflow.name) : null);
  return {
    kind: "event",
    event: {
      kind: "workflow_run",
      ...common,
      runId,
      workflowName,
      status,
      conclusion: status === "completed" ? (jsonText(body.conclusion)?.toLowerCase() ?? "unknown") : null,
    },
  };
}
