import type { SweepConfig, SweepRepo } from "../domain/config.js";
import { ConfigError } from "./config-error.js";
import { integerFromEnv, listFromEnv, type Env } from "./primitives.js";

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

/** Reads SWEEP_REPOS, SWEEP_INTERVAL_S, SWEEP_LOOKBACK_H, SWEEP_HORIZON_H and PENDING_INTERVAL_S; ConfigError on a bad value. */
export function sweepConfigFromEnv(env: Env): SweepConfig {
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
  const intervalS = integerFromEnv(env, "SWEEP_INTERVAL_S", repos.length > 0 ? SWEEP_DEFAULTS.intervalS : 0, 0, 86_400);
  return {
    repos,
    intervalMs: intervalS * 1000,
    lookbackMs: integerFromEnv(env, "SWEEP_LOOKBACK_H", SWEEP_DEFAULTS.lookbackH, 1, SWEEP_DEFAULTS.maxLookbackH) * 3_600_000,
    pendingIntervalMs: integerFromEnv(env, "PENDING_INTERVAL_S", SWEEP_DEFAULTS.pendingIntervalS, 0, 3600) * 1000,
    horizonMs: integerFromEnv(env, "SWEEP_HORIZON_H", SWEEP_DEFAULTS.horizonH, 1, SWEEP_DEFAULTS.maxLookbackH) * 3_600_000,
  };
}
