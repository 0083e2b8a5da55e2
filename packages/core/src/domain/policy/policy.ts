import { linearPattern } from "../linear-pattern.js";
import { compileSafePattern, MAX_LIST_WEIGHT, MAX_PATTERNS, type LinePattern } from "./safe-pattern.js";

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
} as const;

/** GitHub matrices have at most 256 jobs; a limit above that means none. */
export const MAX_FAILED_JOBS_LIMIT = 256;
/** The log tail is read within the delivery's deadline and kept in memory: 1 MiB at most. */
export const MAX_LOG_TAIL_BYTES = 1_048_576;

function patterns(field: PolicyField, sources: readonly string[] | undefined): LinePattern[] {
  const list = sources ?? [];
  if (list.length > MAX_PATTERNS) throw new PolicyError(field, `has ${list.length} patterns; at most ${MAX_PATTERNS} are allowed`);
  const compiled = list.map((source, i) => {
    const pattern = compileSafePattern(source);
    if (typeof pattern === "string") throw new PolicyError(field, `pattern ${i + 1} ("${source.slice(0, 80)}") ${pattern}`);
    return pattern;
  });
  const weight = compiled.reduce((sum, p) => sum + p.weight, 0);
  if (weight > MAX_LIST_WEIGHT) {
    throw new PolicyError(field, `patterns weigh ${weight} in all, at most ${MAX_LIST_WEIGHT} (each character or class counts 1, a repeat {n} n times): fewer or simpler patterns`);
  }
  return compiled;
}

/** A step glob, matched by RE2: `*` runs would backtrack in JavaScript's engine (`*a*a*a*b` on a long name). */
function globToPattern(glob: string): LinePattern {
  const source = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return linearPattern(`^${source}$`, "i");
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
    if (step.length > 200) throw new PolicyError("noRerunSteps", `glob "${step.slice(0, 40)}..." is longer than 200 characters`);
  }
  return {
    when,
    rerunPatterns: patterns("rerunPatterns", raw.rerunPatterns),
    noRerunPatterns: patterns("noRerunPatterns", raw.noRerunPatterns),
    noRerunSteps: steps,
    noRerunStepMatchers: steps.map(globToPattern),
    maxFailedJobs: wholeNumber("maxFailedJobs", raw.maxFailedJobs, POLICY_DEFAULTS.maxFailedJobs, 0, MAX_FAILED_JOBS_LIMIT),
    logTailBytes: wholeNumber("logTailBytes", raw.logTailBytes, POLICY_DEFAULTS.logTailBytes, 1024, MAX_LOG_TAIL_BYTES),
    rerunUnknown: raw.rerunUnknown ?? POLICY_DEFAULTS.rerunUnknown,
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

// ---------------------------------------------------------------------------------------------
// From the environment

export type PolicyEnv = Readonly<Record<string, string | undefined>>;

/** Environment variable of each field, for error messages. */
export const POLICY_VARIABLES: Readonly<Record<PolicyField, string>> = {
  when: "RERUN_WHEN",
  rerunPatterns: "RERUN_PATTERNS",
  noRerunPatterns: "NO_RERUN_PATTERNS",
  noRerunSteps: "NO_RERUN_STEPS",
  maxFailedJobs: "MAX_FAILED_JOBS",
  logTailBytes: "LOG_TAIL_BYTES",
  rerunUnknown: "RERUN_UNKNOWN",
};

class EnvFormatError extends Error {
  constructor(
    readonly field: PolicyField,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON array of strings (`'["ECONNRESET","503 Service Unavailable"]'`) or one pattern per line. */
function patternList(field: PolicyField, raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const text = raw.trim();
  // A JSON array opens with `[` then a string or `]`; a pattern such as `[0-9]+ tests failed` or `[^]` is a line.
  if (/^\[\s*["\]]/.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new EnvFormatError(field, 'looks like a JSON array but does not parse; give a JSON array of strings, e.g. ["ECONNRESET","503 Service Unavailable"], or one pattern per line');
    }
    if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === "string")) {
      throw new EnvFormatError(field, "must be a JSON array of strings, or one pattern per line");
    }
    return parsed;
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function envNumber(field: PolicyField, raw: string | undefined): number | undefined {
  const text = raw?.trim();
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text)) throw new EnvFormatError(field, `must be a whole number, got "${text}"`);
  return Number(text);
}

function envBoolean(field: PolicyField, raw: string | undefined): boolean | undefined {
  const text = raw?.trim().toLowerCase();
  if (text === undefined || text === "") return undefined;
  if (["1", "true", "yes", "on"].includes(text)) return true;
  if (["0", "false", "no", "off"].includes(text)) return false;
  throw new EnvFormatError(field, `must be true or false, got "${raw}"`);
}

/**
 * The policy from RERUN_WHEN, RERUN_PATTERNS, NO_RERUN_PATTERNS, NO_RERUN_STEPS, MAX_FAILED_JOBS,
 * LOG_TAIL_BYTES and RERUN_UNKNOWN. Throws `{ variable, message }` through `fail` so config.ts
 * turns it into its ConfigError.
 */
export function policyFromEnv(env: PolicyEnv, fail: (variable: string, message: string) => Error): RerunPolicy {
  try {
    return compilePolicy({
      when: env.RERUN_WHEN?.trim().toLowerCase() || undefined,
      rerunPatterns: patternList("rerunPatterns", env.RERUN_PATTERNS),
      noRerunPatterns: patternList("noRerunPatterns", env.NO_RERUN_PATTERNS),
      noRerunSteps: env.NO_RERUN_STEPS?.split(","),
      maxFailedJobs: envNumber("maxFailedJobs", env.MAX_FAILED_JOBS),
      logTailBytes: envNumber("logTailBytes", env.LOG_TAIL_BYTES),
      rerunUnknown: envBoolean("rerunUnknown", env.RERUN_UNKNOWN),
    });
  } catch (error) {
    if (error instanceof PolicyError || error instanceof EnvFormatError) throw fail(POLICY_VARIABLES[error.field], error.message);
    throw error;
  }
}
