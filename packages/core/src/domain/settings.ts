import { z } from "zod";
import { compileBranchPatterns } from "./branches.js";
import type { DecisionConfig } from "./config.js";
import { compilePolicy, MAX_FAILED_JOBS_LIMIT, MAX_FLAKY_AFTER, PolicyError, type RawPolicy, type RerunPolicy } from "./policy/policy.js";
import { clip, splitList } from "./text.js";

/**
 * The settings a repository may choose for itself, each with the environment variable that
 * sets the server's default (if any). One zod schema per setting validates both the variable's
 * text and the value from `.github/job-rerunner.yml`: a list is a YAML list or comma-separated
 * text, a number a YAML number or digits. Adding a setting is one entry here.
 */
export interface Setting<T> {
  /** The environment variable for the server's default, if there is one. */
  readonly env?: string;
  /** What a good value is, after the setting's name: "must be ...". */
  readonly expect: string;
  readonly schema: z.ZodType<T>;
  /** A blank environment variable means "not set" (the default), not an empty value. */
  readonly blankIsUnset?: boolean;
  /** The configuration fields the value sets (`current`: the configuration it is laid over). */
  toConfig(value: T, current: DecisionConfig): Partial<DecisionConfig>;
}

function setting<T>(definition: Setting<T>): Setting<T> {
  return definition;
}

/** A YAML list of strings, or one string of comma-separated items. */
const stringList = z.union([z.string().transform(splitList), z.array(z.string().trim().min(1))]);

/** One rerun-policy field, compiled (and checked: regex safety, globs) as the environment's are. */
function policyField<K extends keyof RawPolicy, V>(field: K, pick: (policy: RerunPolicy) => V) {
  return (raw: NonNullable<RawPolicy[K]>, ctx: z.RefinementCtx): V => {
    try {
      return pick(compilePolicy({ [field]: raw } as RawPolicy));
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof PolicyError ? error.message : String(error) });
      return z.NEVER;
    }
  };
}

/** Regular expressions: a YAML list, or one pattern (commas are part of a pattern, not separators). */
const patternList = z.union([z.string().min(1).transform((p) => [p]), z.array(z.string().min(1))]);

const wholeNumber = (min: number, max: number) =>
  z.union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)]).pipe(z.number().int().min(min).max(max));

export const KNOWN_CONCLUSIONS = ["failure", "timed_out", "cancelled", "startup_failure", "action_required", "stale"] as const;

export const SETTINGS = {
  enabled: setting({
    expect: "must be true or false",
    schema: z.boolean(),
    toConfig: (enabled) => ({ enabled }),
  }),
  branches: setting({
    env: "REPO_BRANCHES",
    expect: 'must name at least one branch or pattern, e.g. "master" or "*"',
    schema: stringList.pipe(z.array(z.string()).min(1)),
    toConfig: (patterns) => ({ branches: compileBranchPatterns(patterns) }),
  }),
  run_attempts: setting({
    env: "RUN_ATTEMPTS",
    // GitHub refuses more than 50 reruns of one run: 51 attempts, the first included.
    expect: "must be a whole number from 1 to 51",
    schema: wholeNumber(1, 51),
    blankIsUnset: true,
    toConfig: (runAttempts) => ({ runAttempts }),
  }),
  workflows: setting({
    env: "RERUN_WORKFLOWS",
    expect: 'must be a list of workflow names, or "all"',
    // Empty, or the one word "all": every workflow (null).
    schema: stringList.transform((names) => (names.length === 0 || (names.length === 1 && names[0]!.toLowerCase() === "all") ? null : names)),
    toConfig: (names) => ({ workflows: names === null ? null : new Set(names) }),
  }),
  no_retry: setting({
    env: "NO_RETRY_LIST",
    expect: "must be a list of GitHub logins",
    schema: stringList.transform((logins) => logins.map((l) => l.toLowerCase())),
    toConfig: (logins) => ({ noRetry: new Set(logins) }),
  }),
  conclusions: setting({
    env: "RERUN_CONCLUSIONS",
    expect: `must be a comma-separated list of ${KNOWN_CONCLUSIONS.join(", ")} (at least one)`,
    schema: stringList.transform((cs) => cs.map((c) => c.toLowerCase())).pipe(z.array(z.enum(KNOWN_CONCLUSIONS)).min(1)),
    toConfig: (conclusions) => ({ rerunConclusions: new Set(conclusions) }),
  }),
  rerun_when: setting({
    expect: 'must be "failure" or "transient"',
    schema: z.string().trim().toLowerCase().pipe(z.enum(["failure", "transient"])),
    toConfig: (when, current) => ({ policy: { ...current.policy, when } }),
  }),
  rerun_patterns: setting({
    expect: "must be a list of safe regular expressions",
    schema: patternList.transform(policyField("rerunPatterns", (p) => p.rerunPatterns)),
    toConfig: (rerunPatterns, current) => ({ policy: { ...current.policy, rerunPatterns } }),
  }),
  no_rerun_patterns: setting({
    expect: "must be a list of safe regular expressions",
    schema: patternList.transform(policyField("noRerunPatterns", (p) => p.noRerunPatterns)),
    toConfig: (noRerunPatterns, current) => ({ policy: { ...current.policy, noRerunPatterns } }),
  }),
  no_rerun_steps: setting({
    expect: "must be a list of step-name globs",
    schema: stringList.transform(policyField("noRerunSteps", (p) => ({ noRerunSteps: p.noRerunSteps, noRerunStepMatchers: p.noRerunStepMatchers }))),
    toConfig: (steps, current) => ({ policy: { ...current.policy, ...steps } }),
  }),
  rerun_flaky_after: setting({
    expect: `must be a whole number from 0 (off) to ${MAX_FLAKY_AFTER}`,
    schema: wholeNumber(0, MAX_FLAKY_AFTER),
    toConfig: (flakyAfter, current) => ({ policy: { ...current.policy, flakyAfter } }),
  }),
  max_failed_jobs: setting({
    expect: `must be a whole number from 0 (no limit) to ${MAX_FAILED_JOBS_LIMIT}`,
    schema: wholeNumber(0, MAX_FAILED_JOBS_LIMIT),
    toConfig: (maxFailedJobs, current) => ({ policy: { ...current.policy, maxFailedJobs } }),
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;
export type ValueOf<K extends SettingName> = (typeof SETTINGS)[K] extends Setting<infer T> ? T : never;
export type Settings = { readonly [K in SettingName]?: ValueOf<K> };

const NAMES = Object.keys(SETTINGS) as SettingName[];

/** Text of a value for a message: short, one line, never a whole file. */
export function shownValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return `"${clip(text.replace(/\s+/g, " "), 61)}"`;
}

/** What is wrong with a repository's settings: the field and why, in one line. */
export interface SettingsProblem {
  readonly field: string;
  readonly message: string;
}

export type SettingsResult = { readonly ok: true; readonly settings: Settings } | { readonly ok: false; readonly problem: SettingsProblem };

/** Validates the settings of a configuration file (the parsed YAML): all good, or the first problem. */
export function settingsFromFile(document: unknown): SettingsResult {
  if (document === null || document === undefined) return { ok: true, settings: {} };
  if (typeof document !== "object" || Array.isArray(document)) {
    return { ok: false, problem: { field: "(top level)", message: `must be a mapping of settings (${NAMES.join(", ")})` } };
  }
  const values = document as Record<string, unknown>;
  const unknownKey = Object.keys(values).find((k) => !Object.hasOwn(SETTINGS, k));
  if (unknownKey !== undefined) {
    return { ok: false, problem: { field: clip(unknownKey, 60), message: `is not a setting (known: ${NAMES.join(", ")})` } };
  }
  const settings: Record<string, unknown> = {};
  for (const name of NAMES) {
    if (!Object.hasOwn(values, name)) continue;
    const entry: Setting<unknown> = SETTINGS[name];
    const parsed = entry.schema.safeParse(values[name]);
    if (!parsed.success) {
      // A policy field's own check (an unsafe pattern) says more than the general expectation.
      const detail = parsed.error.issues.find((issue) => issue.code === "custom")?.message;
      return { ok: false, problem: { field: name, message: `${entry.expect}, got ${shownValue(values[name])}${detail === undefined ? "" : `: ${detail}`}` } };
    }
    settings[name] = parsed.data;
  }
  return { ok: true, settings: settings as Settings };
}

/** The server's configuration with a repository's settings laid over it, later layers winning. */
export function overlay<C extends DecisionConfig>(config: C, ...layers: readonly Settings[]): C {
  let result = config;
  for (const layer of layers) {
    for (const name of NAMES) {
      const value = layer[name];
      if (value === undefined) continue;
      const entry: Setting<unknown> = SETTINGS[name];
      result = { ...result, ...entry.toConfig(value, result) };
    }
  }
  return result;
}
