// The deliveries `job-rerunner send` posts: one failed run as GitHub reports it, built from
// payloads GitHub really sent (example-deliveries.json, from @octokit/webhooks-examples) with
// ids, branch, times and outcome replaced so the three events describe the same run.
import { randomUUID } from "node:crypto";
import { sign } from "@job-rerunner/core";
import examples from "./example-deliveries.json" with { type: "json" };

export interface ExampleDelivery {
  /** What the line printed for it says. */
  readonly label: string;
  readonly event: "workflow_job" | "workflow_run";
  readonly headers: Record<string, string>;
  readonly body: string;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return value !== null && typeof value === "object" ? (value as Json) : {};
}

/** The run the deliveries describe: a new run id each time, so every send is a new decision. */
export interface ExampleRun {
  readonly runId: number;
  readonly jobId: number;
  readonly now: number;
}

function repositoryOf(): Json {
  // One repository for the three events, on its default branch.
  return structuredClone(record(examples.workflow_run_completed.repository));
}

function jobPayload(run: ExampleRun, status: "queued" | "completed"): Json {
  const payload = structuredClone(record(status === "queued" ? examples.workflow_job_queued : examples.workflow_job_completed));
  const repository = repositoryOf();
  const job = record(payload.workflow_job);
  const branch = String(repository.default_branch);
  const iso = new Date(run.now).toISOString();
  payload.repository = repository;
  // A webhook of a repository (not of an App installation) carries no installation.
  delete payload.installation;
  Object.assign(job, {
    id: run.jobId,
    // One job: the queued example names another.
    name: record(examples.workflow_job_completed.workflow_job).name,
    run_id: run.runId,
    run_attempt: 1,
    head_branch: branch,
    workflow_name: record(examples.workflow_run_completed.workflow_run).name,
    run_url: `${String(repository.url)}/actions/runs/${run.runId}`,
    html_url: `${String(repository.html_url)}/actions/runs/${run.runId}/job/${run.jobId}`,
    status,
    conclusion: status === "completed" ? "failure" : null,
    created_at: iso,
    started_at: iso,
    completed_at: status === "completed" ? iso : null,
  });
  return payload;
}

function runPayload(run: ExampleRun): Json {
  const payload = structuredClone(record(examples.workflow_run_completed));
  const repository = repositoryOf();
  payload.repository = repository;
  Object.assign(record(payload.workflow_run), {
    id: run.runId,
    run_attempt: 1,
    head_branch: String(repository.default_branch),
    status: "completed",
    conclusion: "failure",
    html_url: `${String(repository.html_url)}/actions/runs/${run.runId}`,
    updated_at: new Date(run.now).toISOString(),
  });
  return payload;
}

function signed(secret: string, event: "workflow_job" | "workflow_run", label: string, payload: Json): ExampleDelivery {
  const body = JSON.stringify(payload);
  return {
    label,
    event,
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/job-rerunner-send",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": sign(secret, body),
    },
  };
}

/** A job queued, the same job failed, the run completed with a failure: signed with `secret`. */
export function exampleRun(secret: string, run: ExampleRun): ExampleDelivery[] {
  const job = String(record(examples.workflow_job_completed.workflow_job).name);
  return [
    signed(secret, "workflow_job", `workflow_job queued "${job}"`, jobPayload(run, "queued")),
    signed(secret, "workflow_job", `workflow_job completed (failure) "${job}"`, jobPayload(run, "completed")),
    signed(secret, "workflow_run", "workflow_run completed (failure)", runPayload(run)),
  ];
}
