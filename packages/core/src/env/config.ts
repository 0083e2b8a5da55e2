import { compileBranchPatterns } from "../domain/branches.js";
import type { Config } from "../domain/config.js";
import { appFromEnv } from "./app-key.js";
import { ConfigError } from "./config-error.js";
import { policyFromEnv } from "./policy.js";
import { booleanFromEnv, integerFromEnv, listFromEnv, urlFromEnv, type Env } from "./primitives.js";
import { settingFromEnv } from "./settings.js";
import { storeSpecFromEnv } from "./store-spec.js";
import { sweepConfigFromEnv } from "./sweep.js";

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

/** GITHUB_SIGN_KEY (required) and GITHUB_SIGN_KEY_PREVIOUS during a rotation. */
function secretsFromEnv(env: Env): string[] {
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
  return secrets;
}

export interface ConfigFromEnvOptions {
  /**
   * Whether the host receives webhooks (default true): GITHUB_SIGN_KEY is then required. A host
   * that is handed its events another way (the GitHub Action) passes false: no secret, and
   * `secrets` is empty, so `handle` would refuse every delivery.
   */
  readonly webhook?: boolean;
}

/**
 * Reads the configuration from environment variables (names kept from the service this one
 * replaces). Throws a ConfigError naming the variable and what it expects on a bad value.
 */
export function configFromEnv(env: Env = process.env, options: ConfigFromEnvOptions = {}): Config {
  const secrets = options.webhook === false ? [] : secretsFromEnv(env);
  const dryRun = booleanFromEnv(env, "DRY_RUN");
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
  // The settings a repository's file may override are validated by the same schema (domain/settings.ts).
  // REPO_BRANCHES unset: the repository's default branch (the reference's `master` meant just that).
  const branchPatterns = settingFromEnv(env, "branches") ?? [];
  const conclusions = settingFromEnv(env, "conclusions") ?? [DEFAULTS.rerunConclusions];
  // GitHub gives up after 10 s, counted from its side: leave it time to connect and read the answer.
  const deadlineMs = integerFromEnv(env, "DEADLINE_MS", DEFAULTS.deadlineMs, 100, 9_000);
  const workflows = settingFromEnv(env, "workflows") ?? null;
  const allowedOwners = listFromEnv(env, "ALLOWED_OWNERS").map((o) => o.toLowerCase());
  return {
    secrets,
    githubToken,
    githubApp,
    allowedOwners: allowedOwners.length === 0 ? null : new Set(allowedOwners),
    readRepoConfig: booleanFromEnv(env, "REPO_CONFIG", githubApp !== null),
    repoConfigTtlMs: integerFromEnv(env, "REPO_CONFIG_TTL_S", DEFAULTS.repoConfigTtlS, 0, 86_400) * 1000,
    enabled: true,
    runAttempts: settingFromEnv(env, "run_attempts") ?? DEFAULTS.runAttempts,
    branches: compileBranchPatterns(branchPatterns),
    noRetry: new Set(settingFromEnv(env, "no_retry") ?? []),
    rerunConclusions: new Set(conclusions),
    workflows: workflows === null ? null : new Set(workflows),
    githubApiUrl: urlFromEnv(env, "GITHUB_API_URL", DEFAULTS.githubApiUrl),
    dryRun,
    // 0 lets the system pick a free port (the "listening" log line says which).
    port: integerFromEnv(env, "PORT", DEFAULTS.port, 0, 65535),
    store: storeSpecFromEnv(env),
    recordTtlMs: integerFromEnv(env, "RECORD_TTL_DAYS", DEFAULTS.recordTtlDays, 1, 400) * 86_400_000,
    deadlineMs,
    leaseMs: deadlineMs + LEASE_MARGIN_MS,
    policy: policyFromEnv(env),
    sweep: sweepConfigFromEnv(env, { app: githubApp !== null }),
  };
}

/** Builds a Config in code (tests, embedding): the same defaults as configFromEnv. */
export function defineConfig(overrides: Partial<Config> & { secrets: readonly string[] }): Config {
  const base = configFromEnv({ GITHUB_SIGN_KEY: "unused", DRY_RUN: "true" });
  return { ...base, ...overrides };
}
