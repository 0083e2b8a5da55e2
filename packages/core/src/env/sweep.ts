import type { SweepConfig, SweepRepo } from "../domain/config.js";
import { ConfigError } from "./config-error.js";
import { booleanFromEnv, integerFromEnv, listFromEnv, type Env } from "./primitives.js";

export const SWEEP_DEFAULTS = {
  intervalS: 300,
  lookbackH: 1,
  // GitHub allows a rerun for 30 days: looking further back could only find runs it refuses.
  maxLookbackH: 720,
  pendingIntervalS: 5,
  // GitHub-hosted jobs stop at 6 hours; a day covers runs of several sequential jobs and queueing.
  horizonH: 24,
} as const;

// GitHub's rules: an owner is alphanumerics and single hyphens; a repository name adds . and _.
const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

export interface SweepEnvOptions {
  /** A GitHub App is configured: its delivery log can be swept (SWEEP_DELIVERIES defaults on). */
  readonly app?: boolean;
}

/**
 * Reads SWEEP_REPOS, SWEEP_DELIVERIES, SWEEP_INTERVAL_S, SWEEP_LOOKBACK_H, SWEEP_HORIZON_H and
 * PENDING_INTERVAL_S; ConfigError on a bad value.
 */
export function sweepConfigFromEnv(env: Env, options: SweepEnvOptions = {}): SweepConfig {
  const app = options.app ?? false;
  const deliveries = booleanFromEnv(env, "SWEEP_DELIVERIES", app);
  if (deliveries && !app) {
    throw new ConfigError("SWEEP_DELIVERIES", "needs a GitHub App (GITHUB_APP_ID): only an App has a delivery log; with a token, list repositories in SWEEP_REPOS");
  }
  const seen = new Set<string>();
  const repos: SweepRepo[] = [];
  for (const entry of listFromEnv(env, "SWEEP_REPOS")) {
    const match = REPO.exec(entry);
    if (match === null || match[2] === "." || match[2] === "..") {
      throw new ConfigError("SWEEP_REPOS", `must be comma-separated owner/name pairs, e.g. "octo-org/api,octo-org/web"; got "${entry}"`);
    }
    const key = entry.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    repos.push({ owner: match[1]!, name: match[2]! });
  }
  const intervalS = integerFromEnv(env, "SWEEP_INTERVAL_S", repos.length > 0 || deliveries ? SWEEP_DEFAULTS.intervalS : 0, 0, 86_400);
  return {
    repos,
    deliveries,
    intervalMs: intervalS * 1000,
    lookbackMs: integerFromEnv(env, "SWEEP_LOOKBACK_H", SWEEP_DEFAULTS.lookbackH, 1, SWEEP_DEFAULTS.maxLookbackH) * 3_600_000,
    pendingIntervalMs: integerFromEnv(env, "PENDING_INTERVAL_S", SWEEP_DEFAULTS.pendingIntervalS, 0, 3600) * 1000,
    horizonMs: integerFromEnv(env, "SWEEP_HORIZON_H", SWEEP_DEFAULTS.horizonH, 1, SWEEP_DEFAULTS.maxLookbackH) * 3_600_000,
  };
}
