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

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

const JOB_STATUSES: Record<string, JobStatus> = {
  queued: "queued",
  waiting: "waiting",
  pending: "queued",
  requested: "queued",
  in_progress: "in_progress",
  completed: "completed",
};

function ignored(reason: string): Ignored {
  return { kind: "ignored", reason };
}

function repoOf(payload: Json): RepoRef | Ignored {
  const repository = payload.repository;
  if (!isObject(repository)) return ignored("payload has no repository");
  const id = positiveInt(repository.id);
  if (id === undefined) return ignored("repository has no id");
  let owner = isObject(repository.owner) ? str(repository.owner.login) : null;
  let name = str(repository.name);
  const fullName = str(repository.full_name);
  if ((owner === null || name === null) && fullName !== null && fullName.includes("/")) {
    const slash = fullName.indexOf("/");
    owner = owner ?? fullName.slice(0, slash);
    name = name ?? fullName.slice(slash + 1);
  }
  if (owner === null || name === null) return ignored("repository has no owner/name");
  return { id, owner, name };
}

function senderOf(payload: Json): string | null {
  return isObject(payload.sender) ? str(payload.sender.login) : null;
}

/** Present only on a GitHub App's deliveries (an event without it stays equal to one built by hand). */
function installationOf(payload: Json): { installationId?: number } {
  const id = isObject(payload.installation) ? positiveInt(payload.installation.id) : undefined;
  return id === undefined ? {} : { installationId: id };
}

/**
 * Turns a delivery (event name header + parsed JSON) into a typed run event, or says why there is
 * nothing to track. Accepts every real payload shape, including old ones without `run_attempt`
 * or `head_branch`; never throws.
 */
export function parseEvent(envelope: Envelope, payload: unknown): ParsedEvent {
  if (!isObject(payload)) return ignored("payload is not a JSON object");
  const name =
    envelope.eventName ??
    ("workflow_job" in payload ? "workflow_job" : "workflow_run" in payload ? "workflow_run" : null);
  if (name === "ping") return ignored("ping: webhook is set up");
  if (name !== "workflow_job" && name !== "workflow_run") {
    return ignored(name === null ? "not a workflow_job or workflow_run delivery" : `event "${name}" is not tracked`);
  }
  const body = payload[name];
  if (!isObject(body)) return ignored(`${name} payload has no ${name} object`);
  const repo = repoOf(payload);
  if ("kind" in repo) return repo;
  const common = {
    deliveryId: envelope.deliveryId,
    receivedAt: envelope.receivedAt,
    handlerId: envelope.handlerId,
    repo,
    attempt: positiveInt(body.run_attempt) ?? 1,
    headBranch: str(body.head_branch),
    sender: senderOf(payload),
    ...installationOf(payload),
  };
  const action = str(payload.action);

  if (name === "workflow_job") {
    const runId = positiveInt(body.run_id);
    if (runId === undefined) return ignored("workflow_job has no run_id");
    const jobId = positiveInt(body.id);
    if (jobId === undefined) return ignored("workflow_job has no id");
    const status = JOB_STATUSES[action ?? ""] ?? JOB_STATUSES[str(body.status) ?? ""];
    if (status === undefined) return ignored(`workflow_job action "${action}" is not tracked`);
    const conclusion = status === "completed" ? (str(body.conclusion)?.toLowerCase() ?? "unknown") : null;
    return {
      kind: "event",
      event: {
        kind: "workflow_job",
        ...common,
        runId,
        workflowName: str(body.workflow_name),
        job: { id: jobId, name: str(body.name) ?? `job ${jobId}`, status, conclusion },
      },
    };
  }

  const runId = positiveInt(body.id);
  if (runId === undefined) return ignored("workflow_run has no id");
  const status: RunStatus | undefined =
    action === "completed" ? "completed" : action === "in_progress" ? "in_progress" : action === "requested" ? "requested" : undefined;
  if (status === undefined) return ignored(`workflow_run action "${action}" is not tracked`);
  const workflowName = str(body.name) ?? (isObject(payload.workflow) ? str(payload.workflow.name) : null);
  return {
    kind: "event",
    event: {
      kind: "workflow_run",
      ...common,
      runId,
      workflowName,
      status,
      conclusion: status === "completed" ? (str(body.conclusion)?.toLowerCase() ?? "unknown") : null,
    },
  };
}
