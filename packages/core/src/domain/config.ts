import type { BranchMatcher } from "./branches.js";
import type { RerunPolicy } from "./policy/policy.js";

/**
 * What `decide`, `settle` and the rerun policy read: the settings a repository's own file may
 * override (settings.ts) and the record's lifetimes. Plain data, no secrets.
 */
export interface DecisionConfig {
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
  /** How long a run's record is kept after its last update. */
  readonly recordTtlMs: number;
  /**
   * How long a pending rerun's holder may take before another driver may take it over: the
   * holder answers within its deadline, so a little more than that (a dead holder's rerun is
   * picked up seconds later, not half a minute).
   */
  readonly leaseMs: number;
  /** Which failed jobs count (RERUN_WHEN, RERUN_PATTERNS, NO_RERUN_*, MAX_FAILED_JOBS, ...). */
  readonly policy: RerunPolicy;
}

/** A GitHub App's identity: GITHUB_APP_ID and its private key (PEM, PKCS#1 as GitHub hands it out, or PKCS#8). */
export interface AppCredentials {
  readonly appId: string;
  readonly privateKey: string;
}

/** Where state lives (STORE), parsed once for every host; null in `Config.store` means the host's default. */
export type StoreSpec =
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "postgres"; readonly url: string }
  | { readonly kind: "firestore" };

/** The whole runtime configuration: the decision part, and what only the shell reads (secrets, credentials, where things are). */
export interface Config extends DecisionConfig {
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
  readonly githubApiUrl: string;
  readonly dryRun: boolean;
  readonly port: number;
  /** STORE, parsed; null for the host's default. */
  readonly store: StoreSpec | null;
  /** `handle` answers within this many milliseconds, whatever GitHub or the store do. */
  readonly deadlineMs: number;
  /** SWEEP_* and PENDING_INTERVAL_S: what the reconciler started beside the rerunner does. */
  readonly sweep: SweepConfig;
}

export interface SweepRepo {
  readonly owner: string;
  readonly name: string;
}

/** Where and how often the server reconciles with GitHub (docs/never-losing-a-rerun.md). */
export interface SweepConfig {
  /** SWEEP_REPOS: the repositories whose runs are listed. */
  readonly repos: readonly SweepRepo[];
  /**
   * SWEEP_DELIVERIES: GitHub App mode recovers lost deliveries from the App's delivery log each
   * sweep (default on with an App; never in token mode, which has no such log).
   */
  readonly deliveries: boolean;
  /** SWEEP_INTERVAL_S in ms: between two sweeps of the server; 0 = the server does not sweep. */
  readonly intervalMs: number;
  /**
   * SWEEP_LOOKBACK_H in ms: how far back the first sweep of a repository looks for finished runs,
   * and the first pass over the delivery log for lost deliveries (at most the 3 days GitHub keeps).
   */
  readonly lookbackMs: number;
  /** PENDING_INTERVAL_S in ms: between two passes over pending reruns nobody drives; 0 = off. */
  readonly pendingIntervalMs: number;
  /**
   * SWEEP_HORIZON_H in ms: how long before the window a run may have been created and still be
   * found when it finishes inside it (GitHub's listing filters on creation time only).
   */
  readonly horizonMs: number;
}
