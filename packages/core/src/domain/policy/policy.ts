import { globToPattern } from "../glob.js";
import { clip } from "../text.js";
import { compileSafePattern, MAX_LIST_WEIGHT, MAX_PATTERNS } from "./safe-pattern.js";
import type { LinePattern } from "../linear-pattern.js";

/**
 * The rerun policy, compiled from environment variables here, and from a repository's own file
 * by the same `compilePolicy`. Frozen-safe data but for the compiled patterns, whose `test` is a
 * closure over an RE2 program (so the policy is not structured-cloneable; nothing clones it).
 */
export interface RerunPolicy {
  /** `failure`: every failed job counts (the reference behaviour); `transient`: only transient ones. */
  readonly when: "failure" | "transient";
  readonly rerunPatterns: readonly LinePattern[];
  readonly noRerunPatterns: readonly LinePattern[];
  /** Globs on the failed step's name, as given. */
  readonly noRerunSteps: readonly string[];
  /** The same globs compiled (`*` matches any run of characters; case-insensitive). */
  readonly noRerunStepMatchers: readonly LinePattern[];
  /** More failed jobs than this in one attempt: not re-run. 0 = no limit. */
  readonly maxFailedJobs: number;
  /** Bytes of the log's end that are read and scanned. */
  readonly logTailBytes: number;
  /** Whether a job whose facts could not be read counts as transient at decision time. */
  readonly rerunUnknown: boolean;
  /**
   * Under `transient`: a job with no transient signature that passed on rerun at least this many
   * times in 30 days counts as `transient:flaky-history`. 0 turns it off.
   */
  readonly flakyAfter: number;
}

/** The policy's fields before validation, from any source (environment, a repository file). */
export interface RawPolicy {
  readonly when?: string | undefined;
  readonly rerunPatterns?: readonly string[] | undefined;
  readonly noRerunPatterns?: readonly string[] | undefined;
  readonly noRerunSteps?: readonly string[] | undefined;
  readonly maxFailedJobs?: number | undefined;
  readonly logTailBytes?: number | undefined;
  readonly rerunUnknown?: boolean | undefined;
  readonly flakyAfter?: number | undefined;
}

export type PolicyField = keyof RawPolicy;

/** A policy field that does not validate; `field` says which, so each source can name it its way. */
export class PolicyError extends Error {
  readonly field: PolicyField;
  constructor(field: PolicyField, message: string) {
    super(message);
    this.name = "PolicyError";
    this.field = field;
  }
}

export const POLICY_DEFAULTS = {
  when: "failure",
  maxFailedJobs: 0,
  logTailBytes: 65_536,
  rerunUnknown: true,
  flakyAfter: 3,
} as const;

/** GitHub matrices have at most 256 jobs; a limit above that means none. */
export const MAX_FAILED_JOBS_LIMIT = 256;
/** RERUN_FLAKY_AFTER's largest value: more reruns than a run can have in 30 days is no threshold. */
export const MAX_FLAKY_AFTER = 1000;
/** The log tail is read within the delivery's deadline and kept in memory: 1 MiB at most. */
export const MAX_LOG_TAIL_BYTES = 1_048_576;

function patterns(field: PolicyField, sources: readonly string[] | undefined): LinePattern[] {
  const list = sources ?? [];
  if (list.length > MAX_PATTERNS) throw new PolicyError(field, `has ${list.length} patterns; at most ${MAX_PATTERNS} are allowed`);
  const compiled = list.map((source, i) => {
    const pattern = compileSafePattern(source);
    if (typeof pattern === "string") throw new PolicyError(field, `pattern ${i + 1} ("${clip(source, 80)}") ${pattern}`);
    return pattern;
  });
  const weight = compiled.reduce((sum, p) => sum + p.weight, 0);
  if (weight > MAX_LIST_WEIGHT) {
    throw new PolicyError(field, `patterns weigh ${weight} in all, at most ${MAX_LIST_WEIGHT} (each character or class counts 1, a repeat {n} n times): fewer or simpler patterns`);
  }
  return compiled;
}

function wholeNumber(field: PolicyField, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new PolicyError(field, `must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Validates and compiles a policy; throws a PolicyError naming the field on a bad value. */
export function compilePolicy(raw: RawPolicy = {}): RerunPolicy {
  const when = raw.when ?? POLICY_DEFAULTS.when;
  if (when !== "failure" && when !== "transient") {
    throw new PolicyError("when", `must be "failure" or "transient", got "${when}"`);
  }
  const steps = (raw.noRerunSteps ?? []).map((s) => s.trim()).filter((s) => s.length > 0);
  for (const step of steps) {
    if (step.length > 200) throw new PolicyError("noRerunSteps", `glob "${clip(step, 40)}" is longer than 200 characters`);
  }
  return {
    when,
    rerunPatterns: patterns("rerunPatterns", raw.rerunPatterns),
    noRerunPatterns: patterns("noRerunPatterns", raw.noRerunPatterns),
    noRerunSteps: steps,
    noRerunStepMatchers: steps.map((step) => globToPattern(step, { pathSegments: false, ignoreCase: true })),
    maxFailedJobs: wholeNumber("maxFailedJobs", raw.maxFailedJobs, POLICY_DEFAULTS.maxFailedJobs, 0, MAX_FAILED_JOBS_LIMIT),
    logTailBytes: wholeNumber("logTailBytes", raw.logTailBytes, POLICY_DEFAULTS.logTailBytes, 1024, MAX_LOG_TAIL_BYTES),
    rerunUnknown: raw.rerunUnknown ?? POLICY_DEFAULTS.rerunUnknown,
    flakyAfter: wholeNumber("flakyAfter", raw.flakyAfter, POLICY_DEFAULTS.flakyAfter, 0, MAX_FLAKY_AFTER),
  };
}

/** Whether failed jobs are classified at all (under the default policy nothing is). */
export function classifies(policy: RerunPolicy): boolean {
  // MAX_FAILED_JOBS needs the failed jobs known too: listed when their webhooks were lost (no log read).
  return (
    policy.when === "transient" ||
    policy.noRerunPatterns.length > 0 ||
    policy.noRerunStepMatchers.length > 0 ||
    policy.maxFailedJobs > 0
  );
}

/**
 * Whether annotations and logs must be fetched: under `transient` (the built-in classes read
 * them), or when NO_RERUN_PATTERNS can veto a job under `failure`. RERUN_PATTERNS alone under
 * `failure` changes nothing (every failed job counts already), so it costs no request.
 */
export function needsRemoteFacts(policy: RerunPolicy): boolean {
  return policy.when === "transient" || policy.noRerunPatterns.length > 0;
}

/** Whether the decision history is read for failed jobs: RERUN_FLAKY_AFTER under `transient`. */
export function needsHistory(policy: RerunPolicy): boolean {
  return policy.when === "transient" && policy.flakyAfter > 0;
}

/** The environment variable that sets each field on the server (messages name it). */
export const POLICY_VARIABLES: Readonly<Record<PolicyField, string>> = {
  when: "RERUN_WHEN",
  rerunPatterns: "RERUN_PATTERNS",
  noRerunPatterns: "NO_RERUN_PATTERNS",
  noRerunSteps: "NO_RERUN_STEPS",
  maxFailedJobs: "MAX_FAILED_JOBS",
  logTailBytes: "LOG_TAIL_BYTES",
  rerunUnknown: "RERUN_UNKNOWN",
  flakyAfter: "RERUN_FLAKY_AFTER",
};
