import { clip } from "../text.js";
import type { StepFact } from "./facts.js";

/** Steps kept per job: the runner's own steps plus a long workflow's fit easily. */
export const MAX_STEPS = 200;
const MAX_STEP_NAME = 200;

/**
 * `steps[]` of a workflow_job payload or of a job listed by the API, as name and conclusion.
 * Never throws; anything that is not a step with a name is left out.
 */
export function stepsOf(value: unknown): StepFact[] {
  if (!Array.isArray(value)) return [];
  const steps: StepFact[] = [];
  for (const step of value.slice(0, MAX_STEPS)) {
    if (typeof step !== "object" || step === null) continue;
    const name = "name" in step ? step.name : undefined;
    const conclusion = "conclusion" in step ? step.conclusion : undefined;
    if (typeof name !== "string" || name.length === 0) continue;
    steps.push({ name: clip(name, MAX_STEP_NAME), conclusion: typeof conclusion === "string" ? conclusion.toLowerCase() : null });
  }
  return steps;
}

/** Conclusions of a step that failed the job. */
const FAILED_STEP: ReadonlySet<string> = new Set(["failure", "timed_out", "cancelled"]);

/** The step that failed the job: the first one that concluded failure, timed_out or cancelled. */
export function failedStepOf(steps: readonly StepFact[]): StepFact | undefined {
  return steps.find((s) => FAILED_STEP.has(s.conclusion ?? ""));
}

/** A job's steps as the record keeps them: only the failed step's name, read back as that one failed step. */
export function storedSteps(failedStep: string | null | undefined): StepFact[] {
  return failedStep == null ? [] : [{ name: failedStep, conclusion: "failure" }];
}
