import { createRequire } from "node:module";

/** One group of `@octokit/webhooks-examples`: payloads GitHub really sent. */
export interface ExampleGroup {
  readonly name: string;
  readonly examples: readonly Record<string, unknown>[];
}

let cached: readonly ExampleGroup[] | undefined;

/** Real payloads from `@octokit/webhooks-examples`. */
export function webhookExamples(name?: string): readonly Record<string, unknown>[] {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    cached = require("@octokit/webhooks-examples") as readonly ExampleGroup[];
  }
  if (name === undefined) return cached.flatMap((g) => g.examples);
  return cached.find((g) => g.name === name)?.examples ?? [];
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function realExample(event: "workflow_job" | "workflow_run", action: string): Record<string, unknown> {
  const found = webhookExamples(event).find((e) => e.action === action && (e[event] as Record<string, unknown>).run_attempt !== undefined);
  if (found === undefined) throw new Error(`no ${event}.${action} example with run_attempt`);
  return clone(found);
}

export interface RunShape {
  readonly repoId?: number;
  readonly owner?: string;
  readonly repo?: string;
  readonly runId: number;
  readonly attempt?: number;
  readonly branch?: string | null;
  /** `repository.default_branch` (default "master"); null leaves it out, as no real payload does. */
  readonly defaultBranch?: string | null;
  readonly workflow?: string;
  readonly sender?: string;
  /** A GitHub App's delivery: `installation.id` (other deliveries have no installation). */
  readonly installationId?: number;
}

function applyRun(payload: Record<string, unknown>, shape: RunShape): void {
  const repository = payload.repository as Record<string, unknown>;
  const owner = shape.owner ?? "octo-org";
  const name = shape.repo ?? "octo-repo";
  repository.id = shape.repoId ?? 186853002;
  repository.name = name;
  repository.full_name = `${owner}/${name}`;
  if (shape.defaultBranch === null) delete repository.default_branch;
  else repository.default_branch = shape.defaultBranch ?? "master";
  (repository.owner as Record<string, unknown>).login = owner;
  (payload.sender as Record<string, unknown>).login = shape.sender ?? "octocat";
  if (shape.installationId === undefined) delete payload.installation;
  else payload.installation = { id: shape.installationId, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${shape.installationId}` };
}

/**
 * A `workflow_job` payload in the shape GitHub sends, built from a real example of
 * `@octokit/webhooks-examples` with the run, job and outcome replaced.
 */
export function workflowJobPayload(
  shape: RunShape & {
    readonly jobId: number;
    readonly jobName?: string;
    readonly action: "queued" | "waiting" | "in_progress" | "completed";
    readonly conclusion?: string | null;
    /** Replaces the example's `steps[]` (name and conclusion; numbered in order). */
    readonly steps?: readonly { readonly name: string; readonly conclusion: string | null }[];
  },
): Record<string, unknown> {
  const payload = realExample("workflow_job", shape.action === "completed" ? "completed" : shape.action);
  applyRun(payload, shape);
  const job = payload.workflow_job as Record<string, unknown>;
  job.id = shape.jobId;
  job.run_id = shape.runId;
  job.run_attempt = shape.attempt ?? 1;
  job.name = shape.jobName ?? `job-${shape.jobId}`;
  job.status = shape.action;
  job.conclusion = shape.action === "completed" ? (shape.conclusion ?? "success") : null;
  job.head_branch = shape.branch === undefined ? "master" : shape.branch;
  job.workflow_name = shape.workflow ?? "CI";
  if (shape.steps !== undefined) {
    job.steps = shape.steps.map((step, i) => ({ name: step.name, status: "completed", conclusion: step.conclusion, number: i + 1 }));
  }
  return payload;
}

/** A `workflow_run` payload in the shape GitHub sends, from a real example. */
export function workflowRunPayload(
  shape: RunShape & { readonly action: "requested" | "in_progress" | "completed"; readonly conclusion?: string | null },
): Record<string, unknown> {
  const payload = realExample("workflow_run", shape.action === "in_progress" ? "requested" : shape.action);
  payload.action = shape.action;
  applyRun(payload, shape);
  const run = payload.workflow_run as Record<string, unknown>;
  run.id = shape.runId;
  run.run_attempt = shape.attempt ?? 1;
  run.status = shape.action === "completed" ? "completed" : shape.action === "requested" ? "queued" : "in_progress";
  run.conclusion = shape.action === "completed" ? (shape.conclusion ?? "success") : null;
  run.head_branch = shape.branch === undefined ? "master" : shape.branch;
  run.name = shape.workflow ?? "CI";
  if (payload.workflow && typeof payload.workflow === "object") (payload.workflow as Record<string, unknown>).name = shape.workflow ?? "CI";
  return payload;
}
