import type { WorkflowRunEvent } from "./types.js";
import { isJsonObject, jsonText } from "./json.js";
import { describeValue } from "./text.js";

/** A listed run the sweep cannot use, and why (logged, counted in the summary). */
export interface SkippedRun {
  readonly kind: "skipped";
  readonly reason: string;
}

/** What the sweep needs of a listed run, read and checked from GitHub's JSON. */
export interface ListedRun {
  readonly kind: "run";
  readonly id: number;
  readonly repo: { readonly id: number; readonly owner: string; readonly name: string };
  readonly attempt: number;
  readonly status: string;
  readonly conclusion: string | null;
  readonly headBranch: string | null;
  /** `repository.default_branch` when the listing carries it (GitHub's minimal repository usually does not). */
  readonly defaultBranch: string | null;
  /** GitHub App mode: the installation serving the repository (from the lister). */
  readonly installationId?: number;
  readonly workflowName: string | null;
  /** `triggering_actor.login`, else `actor.login`: who NO_RETRY_LIST is checked against. */
  readonly actor: string | null;
  /** Epoch ms of `updated_at`: when a completed run finished (or was last changed). */
  readonly updatedAt: number;
}

const positiveInt = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : undefined;
const login = (value: unknown): string | null => (isJsonObject(value) ? jsonText(value.login) : null);

/** Reads one entry of `workflow_runs`; never throws. */
export function readListedRun(value: unknown, expected: { owner: string; name: string }): ListedRun | SkippedRun {
  if (!isJsonObject(value)) return { kind: "skipped", reason: "run is not a JSON object" };
  const id = positiveInt(value.id);
  if (id === undefined) return { kind: "skipped", reason: `run has no valid id (${describeValue(value.id)})` };
  const skip = (why: string): SkippedRun => ({ kind: "skipped", reason: `run ${id}: ${why}` });
  const repository = value.repository;
  const repoId = isJsonObject(repository) ? positiveInt(repository.id) : undefined;
  if (repoId === undefined) return skip("no repository id");
  const status = jsonText(value.status);
  if (status === null) return skip("no status");
  const updatedAt = Date.parse(typeof value.updated_at === "string" ? value.updated_at : "");
  if (Number.isNaN(updatedAt)) return skip(`updated_at is not a time (${describeValue(value.updated_at)})`);
  const attempt = value.run_attempt === undefined ? 1 : positiveInt(value.run_attempt);
  if (attempt === undefined) return skip(`run_attempt is not a positive whole number (${describeValue(value.run_attempt)})`);
  if (value.conclusion !== null && value.conclusion !== undefined && typeof value.conclusion !== "string") return skip("conclusion is not a string");
  return {
    kind: "run",
    id,
    // The owner/name we asked for: the listing of a renamed repository still answers under the old name.
    repo: { id: repoId, owner: expected.owner, name: expected.name },
    attempt,
    status,
    conclusion: jsonText(value.conclusion)?.toLowerCase() ?? null,
    headBranch: jsonText(value.head_branch),
    defaultBranch: isJsonObject(repository) ? jsonText(repository.default_branch) : null,
    workflowName: jsonText(value.name),
    actor: login(value.triggering_actor) ?? login(value.actor),
    updatedAt,
  };
}

/**
 * The `workflow_run` completed event a delivery would have carried for this run. Its delivery id
 * names the run and attempt, so sweeping the same attempt again is answered from the record's memo.
 */
export function sweepEvent(run: ListedRun, receivedAt: number, handlerId: string): WorkflowRunEvent {
  return {
    kind: "workflow_run",
    deliveryId: `sweep:${run.id}:${run.attempt}`,
    receivedAt,
    handlerId,
    repo: run.repo,
    runId: run.id,
    attempt: run.attempt,
    headBranch: run.headBranch,
    defaultBranch: run.defaultBranch,
    ...(run.installationId === undefined ? {} : { installationId: run.installationId }),
    workflowName: run.workflowName,
    sender: run.actor,
    status: "completed",
    conclusion: run.conclusion ?? "unknown",
  };
}
