import { readFileSync } from "node:fs";
import { parseEvent, payloadRepository, type RepoRef, type WorkflowRunEvent } from "@job-rerunner/core";

/** Where the step's event came from: what the runner sets. */
export interface StepEnvelope {
  /** GITHUB_EVENT_NAME */
  readonly eventName: string | undefined;
  /** GITHUB_EVENT_PATH */
  readonly eventPath: string | undefined;
  /** Names this step's decision in the core's terms (a delivery id). */
  readonly deliveryId: string;
  readonly receivedAt: number;
  readonly handlerId: string;
}

/** What the step was handed: a completed run to decide, a run to read by id, or nothing to do (a notice says why). */
export type StepEvent =
  | { readonly kind: "event"; readonly event: WorkflowRunEvent }
  | { readonly kind: "dispatch"; readonly repo: RepoRef; readonly runId: number; readonly defaultBranch: string | null }
  | { readonly kind: "skip"; readonly notice: string };

/** The event file could not be used: the step fails with this message. */
export class EventError extends Error {
  override readonly name = "EventError";
}

const SETUP = "run it on: workflow_run: types: [completed] (or on: workflow_dispatch with the run-id input)";

function readPayload(path: string | undefined): unknown {
  if (path === undefined || path.trim() === "") throw new EventError("GITHUB_EVENT_PATH is not set: the runner names the event file there");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "unreadable";
    throw new EventError(`the event file GITHUB_EVENT_PATH could not be read (${code})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EventError("the event file GITHUB_EVENT_PATH is not JSON");
  }
}

/**
 * Turns the event GitHub hands the step into the core's event, with the core's own parser. Any
 * event but a completed `workflow_run` (or a `workflow_dispatch` naming a run) is a notice, not a
 * failure. Throws an EventError when the event file itself cannot be read.
 */
export function readStepEvent(envelope: StepEnvelope, runId: number | null): StepEvent {
  const name = envelope.eventName?.trim() ?? "";
  if (name === "") return { kind: "skip", notice: `GITHUB_EVENT_NAME is not set: job-rerunner runs as a step of a workflow; ${SETUP}` };
  if (name === "workflow_dispatch") {
    if (runId === null) return { kind: "skip", notice: "workflow_dispatch without the run-id input: give the id of the run to decide (run-id: ${{ inputs.run-id }})" };
    // The run to decide is in the repository the dispatch names.
    const found = payloadRepository(readPayload(envelope.eventPath));
    if ("kind" in found) throw new EventError(`the workflow_dispatch event names no repository: ${found.reason}`);
    return { kind: "dispatch", runId, repo: found.repo, defaultBranch: found.defaultBranch };
  }
  if (name !== "workflow_run") return { kind: "skip", notice: `event "${name.slice(0, 60)}" is not one job-rerunner decides on: ${SETUP}` };
  const parsed = parseEvent(
    { eventName: name, deliveryId: envelope.deliveryId, receivedAt: envelope.receivedAt, handlerId: envelope.handlerId },
    readPayload(envelope.eventPath),
  );
  if (parsed.kind === "ignored") return { kind: "skip", notice: `nothing to decide: ${parsed.reason}` };
  const event = parsed.event;
  if (event.kind !== "workflow_run") return { kind: "skip", notice: `nothing to decide: not a workflow_run event; ${SETUP}` };
  if (event.status !== "completed") {
    return { kind: "skip", notice: `workflow_run is ${event.status}: job-rerunner decides once the run has completed (types: [completed])` };
  }
  return { kind: "event", event };
}
