import { ConfigError } from "./config-error.js";
import { compileBranchPatterns, type BranchMatcher } from "../domain/branches.js";
import { appFromEnv } from "./app-key.js";
import type { AppCredentials } from "../github/app/app-auth.js";
import { settingFromEnv } from "../domain/settings.js";
import { policyFromEnv, type RerunPolicy } from "../domain/policy/policy.js";

export interface Config {
  /** Webhook secrets: the current one first, then GITHUB_SIGN_KEY_PREVIOUS during rotation. */
  readonly secrets: readonly string[];
  /** Empty when a GitHub App is configured, or dryRun is set. */
  readonly githubToken: string;
  /** GITHUB_APP_ID and its private key: calls use the delivery's installation token. */
  readonly githubApp: AppCredentials | null;
  /** Lower-cased owner logins served (ALLOWED_OWNERS); null serves every owner. */
  readonly allowedOwners: ReadonlySet<string> | null;
  /** Read `.github/job-rerunner.yml` of each repository (REPO_CONFIG; on by default with an App). */
  readonly readRepoConfig: boolean;
  /** How long a repository's configuration file is used before it is revalidated. */
  readonly repoConfigTtlMs: number;
  /** False when a repository's file says `enabled: false`. */
  readonly enabled: boolean;
  /** Total attempts per run, first included: at most runAttempts - 1 reruns. */
  readonly runAttempts: number;
  readonly branches: BranchMatcher;
  /** Lower-cased logins whose runs are never re-run. */
  readonly noRetry: ReadonlySet<string>;
  readonly rerunConclusions: ReadonlySet<string>;
  /** Workflow names to handle; null means all. */
  readonly workflows: ReadonlySet<string> | null;
  readonly githubApiUrl: string;
  readonly dryRun: boolean;
  readonly port: number;
  /** `memory`, `sqlite:PATH`, `postgres://...`, `firestore`, or null for the host's default. */
  readonly store: string | null;
  /** How long a run's record is kept after its last update. */
  readonly recordTtlMs: number;
  /** `handle` answers within this many milliseconds, whatever GitHub or the store do. */
  readonly deadlineMs: number;
  /**
   * How long a pending rerun's holder may take before another driver may take it over: the
   * holder answers within its deadline, so a little more than that (a dead holder's rerun is
   * picked up seconds later, not half a minute).
   */
  readonly leaseMs: number;
  /** Which failed jobs count (RERUN_WHEN, RERUN_PATTERNS, NO_RERUN_*, MAX_FAILED_JOBS, ...). */
  readonly policy: RerunPolicy;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULTS = {
  runAttempts: 4,
  rerunConclusions: "failure",
  githubApiUrl: "https://api.github.com",
  port: 5000,
  // GitHub allows a rerun for 30 days; keep the record a little longer than that.
  recordTtlDays: 31,
  deadlineMs: 8000,
  repoConfigTtlS: 300,
} as const;

/** Margin of a lease past the holder's deadline: its last store write may still be landing. */
export const LEASE_MARGIN_MS = 2000;

const BOOLEAN_TRUE = new Set(["1", "true", "yes", "on"]);
const BOOLEAN_FALSE = new Set(["", "0", "false", "no", "off"]);

export function list(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  const n = Number(raw);
  if (n < min || n > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function boolean(env: Env, name: string): boolean {
  const raw = (env[name] ?? "").trim().toLowerCase();
  if (BOOLEAN_TRUE.has(raw)) return true;
  if (BOOLEAN_FALSE.has(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

function url(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

function storeSpec(env: Env): string | null {
  const raw = env.STORE?.trim();
  if (raw === undefined || raw === "") return null;
  if (raw === "memory" || raw === "firestore") return raw;
  if (raw.startsWith("sqlite:") && raw.length > "sqlite:".length) return raw;
  if (/^postgres(ql)?:\/\/./.test(raw)) return raw;
  throw new ConfigError("STORE", `must be "memory", "sqlite:PATH", "postgres://USER:PASSWORD@HOST:PORT/DB" or "firestore", got "${shownStore(raw)}"`);
}

/**
 * A STORE value as a message may show it: a mistyped database URL (`postgresql:/u:pw@host`,
 * `postgres:u:pw@host`) may hold a password, so everything before its last `@` is hidden.
 */
export function shownStore(raw: string): string {
  const at = raw.lastIndexOf("@");
  return at < 0 ? raw : `***${raw.slice(at)}`;
}

/**
 * Reads the configuration from environment variables (names kept from the service this one
 * replaces). Throws a ConfigError naming the variable and what it expects on a bad value.
 */
export function configFromEnv(env: Env = process.env): Config {
  const secret = env.GITHUB_SIGN_KEY ?? "";
  if (secret.trim() === "") {
    throw new ConfigError("GITHUB_SIGN_KEY", "is required: the webhook secret set on GitHub");
  }
  const secrets = [secret];
  const previous = env.GITHUB_SIGN_KEY_PREVIOUS;
  if (previous !== undefined && previous !== "") {
    if (previous.includes(",")) {
      throw new ConfigError("GITHUB_SIGN_KEY_PREVIOUS", "must be a single secret (no commas)");
    }
    secrets.push(previous);
  }
  const dryRun = boolean(env, "DRY_RUN");
  const githubToken = (env.GITHUB_TOKEN ?? "").trim();
  const githubApp = appFromEnv(env);
  if (githubApp !== null && githubToken !== "") {
    throw new ConfigError("GITHUB_TOKEN", "and GITHUB_APP_ID are both set: use a token or a GitHub App, not both");
  }
  if (githubToken === "" && githubApp === null && !dryRun) {
    throw new ConfigError(
      "GITHUB_TOKEN",
      "is required (a token with repo and workflow scopes, or actions: write) unless a GitHub App is configured (GITHUB_APP_ID) or DRY_RUN=true",
    );
  }
  // The settings a repository's file may override are validated by the same schema (settings.ts).
  // REPO_BRANCHES unset: the repository's default branch (the reference's `master` meant just that).
  const branchPatterns = settingFromEnv(env, "branches") ?? [];
  const conclusions = settingFromEnv(env, "conclusions") ?? [DEFAULTS.rerunConclusions];
  // GitHub gives up after 10 s, counted from its side: leave it time to connect and read the answer.
  const deadlineMs = integer(env, "DEADLINE_MS", DEFAULTS.deadlineMs, 100, 9_000);
  const workflows = settingFromEnv(env, "workflows") ?? null;
  const allowedOwners = list(env.ALLOWED_OWNERS).map((o) => o.toLowerCase());
  return {
    secrets,
    githubToken,
    githubApp,
    allowedOwners: allowedOwners.length === 0 ? null : new Set(allowedOwners),
    readRepoConfig: env.REPO_CONFIG === undefined || env.REPO_CONFIG.trim() === "" ? githubApp !== null : boolean(env, "REPO_CONFIG"),
    repoConfigTtlMs: integer(env, "REPO_CONFIG_TTL_S", DEFAULTS.repoConfigTtlS, 0, 86_400) * 1000,
    enabled: true,
    runAttempts: settingFromEnv(env, "run_attempts") ?? DEFAULTS.runAttempts,
    branches: compileBranchPatterns(branchPatterns),
    noRetry: new Set(settingFromEnv(env, "no_retry") ?? []),
    rerunConclusions: new Set(conclusions),
    workflows: workflows === null ? null : new Set(workflows),
    githubApiUrl: url(env, "GITHUB_API_URL", DEFAULTS.githubApiUrl),
    dryRun,
    // 0 lets the system pick a free port (the "listening" log line says which).
    port: integer(env, "PORT", DEFAULTS.port, 0, 65535),
    store: storeSpec(env),
    recordTtlMs: integer(env, "RECORD_TTL_DAYS", DEFAULTS.recordTtlDays, 1, 400) * 86_400_000,
    deadlineMs,
    leaseMs: deadlineMs + LEASE_MARGIN_MS,
    policy: policyFromEnv(env, (variable, message) => new ConfigError(variable, message)),
  };
}

/** Builds a Config in code (tests, embedding): the same defaults as configFromEnv. */
export function defineConfig(overrides: Partial<Config> & { secrets: readonly string[] }): Config {
  const base = configFromEnv({ GITHUB_SIGN_KEY: "unused", DRY_RUN: "true" });
  return { ...base, ...overrides };
}
