/** Status of a workflow job as GitHub reports it. Unknown statuses are normalized to "queued". */
export type JobStatus = "queued" | "waiting" | "in_progress" | "completed";

/** Status of a workflow run attempt, from `workflow_run` events. */
export type RunStatus = "requested" | "in_progress" | "completed";
