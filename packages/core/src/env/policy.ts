import { compilePolicy, PolicyError, POLICY_VARIABLES, type PolicyField, type RerunPolicy } from "../domain/policy/policy.js";
import { splitList } from "../domain/text.js";
import { ConfigError } from "./config-error.js";
import { booleanFromEnv, textFromEnv, type Env } from "./primitives.js";

/** A JSON array of strings (`'["ECONNRESET","503 Service Unavailable"]'`) or one pattern per line. */
function patternList(field: PolicyField, env: Env): string[] | undefined {
  const variable = POLICY_VARIABLES[field];
  const text = textFromEnv(env, variable);
  if (text === undefined) return undefined;
  // A JSON array opens with `[` then a string or `]`; a pattern such as `[0-9]+ tests failed` or `[^]` is a line.
  if (/^\[\s*["\]]/.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(variable, 'looks like a JSON array but does not parse; give a JSON array of strings, e.g. ["ECONNRESET","503 Service Unavailable"], or one pattern per line');
    }
    if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === "string")) {
      throw new ConfigError(variable, "must be a JSON array of strings, or one pattern per line");
    }
    return parsed;
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Digits only; the range is compilePolicy's to check (it names the field). */
function wholeNumber(field: PolicyField, env: Env): number | undefined {
  const variable = POLICY_VARIABLES[field];
  const text = textFromEnv(env, variable);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new ConfigError(variable, `must be a whole number, got "${text}"`);
  return Number(text);
}

/**
 * The policy from RERUN_WHEN, RERUN_PATTERNS, NO_RERUN_PATTERNS, NO_RERUN_STEPS, MAX_FAILED_JOBS,
 * LOG_TAIL_BYTES and RERUN_UNKNOWN. Throws a ConfigError naming the variable on a bad value.
 */
export function policyFromEnv(env: Env): RerunPolicy {
  const steps = textFromEnv(env, POLICY_VARIABLES.noRerunSteps);
  const unknown = POLICY_VARIABLES.rerunUnknown;
  try {
    // Each variable's text is checked in this order (the first bad one is named), then the values together.
    return compilePolicy({
      when: textFromEnv(env, POLICY_VARIABLES.when)?.toLowerCase(),
      rerunPatterns: patternList("rerunPatterns", env),
      noRerunPatterns: patternList("noRerunPatterns", env),
      noRerunSteps: steps === undefined ? undefined : splitList(steps),
      maxFailedJobs: wholeNumber("maxFailedJobs", env),
      logTailBytes: wholeNumber("logTailBytes", env),
      rerunUnknown: textFromEnv(env, unknown) === undefined ? undefined : booleanFromEnv(env, unknown),
      flakyAfter: wholeNumber("flakyAfter", env),
    });
  } catch (error) {
    if (error instanceof PolicyError) throw new ConfigError(POLICY_VARIABLES[error.field], error.message);
    throw error;
  }
}
