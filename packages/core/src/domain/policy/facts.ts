import type { JobStatus } from "../status.js";

/**
 * What the classifier reads about one failed job. The engine gathers these (payload, check-run
 * annotations, the tail of the job's log) and attaches them to the event; everything here is
 * plain JSON-like data, so the pure functions that read it stay property-testable.
 */

/** One step of a job, as `workflow_job.steps[]` (or the attempt's job listing) gives it. */
export interface StepFact {
  readonly name: string;
  readonly conclusion: string | null;
}

/**
 * A fact the engine may have to fetch: `read` (with its value), `unknown` (the look-up failed or
 * the data was not ready: read again when the attempt finishes), or `skipped` (the policy did not
 * need it, so nobody asked).
 */
export type Fetched<T> =
  | { readonly state: "read"; readonly value: T }
  | { readonly state: "unknown"; readonly why: string }
  | { readonly state: "skipped" };

export interface JobFacts {
  readonly id: number;
  readonly name: string;
  readonly status: JobStatus;
  readonly conclusion: string | null;
  /** From the payload: no API call. Empty when the job never ran a step (never picked up). */
  readonly steps: readonly StepFact[];
  /** Messages (title and text) of the job's check-run annotations. */
  readonly annotations: Fetched<readonly string[]>;
  /** The last LOG_TAIL_BYTES of the job's log. */
  readonly log: Fetched<string>;
  /**
   * The same job's (repository, workflow, job name) record in the decision history of the last
   * 30 days: attempts in which it failed, and of those, how often it passed on the run's next
   * attempt. Absent when the policy does not ask (RERUN_FLAKY_AFTER=0, or not RERUN_WHEN=transient)
   * or the history could not be read.
   */
  readonly history?: JobHistory | undefined;
}

/** A job's failures and reruns that passed, from the decision history. */
export interface JobHistory {
  readonly failures: number;
  readonly rerunsPassed: number;
}

/** A class: `transient:<id>` (a built-in class or `transient:pattern`), `not-transient` or `unknown`. */
export type JobClassName = `transient:${string}` | "not-transient" | "unknown";

export interface JobClass {
  readonly class: JobClassName;
  /** The line that decided, the step, the history, or what could not be read: at most 200 characters. */
  readonly evidence: string;
  /** For `not-transient`: the genuine family the deciding line belongs to (signatures.ts), when one did. */
  readonly signature?: string;
  /**
   * Set when NO_RERUN_PATTERNS or NO_RERUN_STEPS decided: such a job is not re-run under either
   * RERUN_WHEN (under `failure` a job that merely shows no transient signature still counts).
   */
  readonly vetoed?: "NO_RERUN_PATTERNS" | "NO_RERUN_STEPS";
}

/** Facts the engine attached to an event before `decide` runs. */
export interface EventFacts {
  /**
   * Failed jobs of the event's attempt with what could be read about them, keyed by job id: the
   * event's own job, jobs whose class was `unknown` and are read again now that the attempt is
   * finishing, and the attempt's jobs listed from GitHub when their webhooks never arrived.
   */
  readonly jobs: Readonly<Record<string, JobFacts>>;
  /** Set when the attempt's job listing was wanted and could not be read. */
  readonly listingUnknown?: string;
}
