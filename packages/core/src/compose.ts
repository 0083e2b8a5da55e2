import type { AppCredentials, Config, SweepConfig } from "./domain/config.js";
import { createEngine, type Rerunner } from "./engine/pipeline.js";
import { startReconcileLoops } from "./engine/reconcile/loops.js";
import { createReconciliation, type Reconciler } from "./engine/reconcile/reconciler.js";
import { safeLogger, safeObserver } from "./engine/guards.js";
import { notifierOptionsFromEnv } from "./env/notify.js";
import type { Env } from "./env/primitives.js";
import { createAppRunLister } from "./github/app/app-run-lister.js";
import { createDeliveryLog } from "./github/app/delivery-log.js";
import { createGitHubApp, type GitHubApp } from "./github/app/github-app.js";
import { createGitHubAccess } from "./github/clients.js";
import { createOctokitClient } from "./github/reruns.js";
import { createRunLister } from "./github/runs.js";
import { createSingleRun, type SingleRun } from "./engine/single-run.js";
import { createNotifier } from "./infra/chat-notifier.js";
import { createDryRunClient } from "./infra/dry-run-client.js";
import { jsonLogger } from "./infra/json-logger.js";
import type { DeliveryLog, FactsClient, GitHubClient, RunLister } from "./ports/github.js";
import type { Logger } from "./ports/logger.js";
import type { Notifier } from "./ports/notifier.js";
import type { Observer } from "./ports/observer.js";
import type { Store } from "./ports/store.js";

export interface RerunnerOptions {
  readonly config: Config;
  readonly store: Store;
  /**
   * Replaces the rerun client (tests, embedding). It is called even when config.dryRun is set:
   * the rerunner says so in one warning at creation.
   */
  readonly github?: GitHubClient | undefined;
  /** The rerun policy's look-ups (annotations, log tails, an attempt's jobs); Octokit by default. */
  readonly facts?: FactsClient | undefined;
  /** Default: JSON lines on stdout at `info`. */
  readonly logger?: Logger | undefined;
  /** Epoch milliseconds; injectable for tests. */
  readonly clock?: (() => number) | undefined;
  /** Compare-and-set attempts before answering 503 (default 64; a 256-job matrix contends hard). */
  readonly maxConflicts?: number | undefined;
  /** Sees deliveries, rerun outcomes, store conflicts and GitHub calls (metrics); read-only. */
  readonly observer?: Observer | undefined;
  /** Sends a message when a run is given up on or re-run (NOTIFY_URL). */
  readonly notifier?: Notifier | undefined;
  /** Keeps a notification's sending after the answer (a server); without it the send is awaited within the deadline. */
  readonly background?: ((work: Promise<unknown>) => void) | undefined;
  /**
   * Pending reruns are driven by another process (the Cloud Functions sweep function on a
   * schedule): no warning when no reconciler is started beside this rerunner.
   */
  readonly reconciledElsewhere?: boolean | undefined;
}

const RECONCILER_GRACE_MS = 1000;

/** Rerunners a reconciler was built for: the others say at start that nothing drives their pending reruns. */
const reconciled = new WeakSet<Rerunner>();

/**
 * One GitHub App per credentials and API URL: the rerunner's clients and the reconciler's
 * listings built from one configuration share one installation-token cache. The first to build
 * it gives the observer (metrics) and the clock; a server passes the same ones to both.
 */
const apps = new WeakMap<AppCredentials, Map<string, GitHubApp>>();

function appOf(config: Config, observer: Observer | undefined, clock: () => number): GitHubApp | null {
  const credentials = config.githubApp;
  if (credentials === null) return null;
  let byUrl = apps.get(credentials);
  if (byUrl === undefined) {
    byUrl = new Map();
    apps.set(credentials, byUrl);
  }
  let app = byUrl.get(config.githubApiUrl);
  if (app === undefined) {
    app = createGitHubApp({ app: credentials, baseUrl: config.githubApiUrl, observer, clock });
    byUrl.set(config.githubApiUrl, app);
  }
  return app;
}

/**
 * The webhook engine with every default filled in: Octokit clients on config.githubApiUrl with
 * config.githubToken or the App's installation tokens (or, under DRY_RUN, a client that calls
 * nothing), JSON logs on stdout. `handle` and `handleEvent` never throw and answer within
 * config.deadlineMs.
 */
export function createRerunner(options: RerunnerOptions): Rerunner {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const logger = safeLogger(options.logger ?? jsonLogger());
  const observe = safeObserver([options.observer]);
  if (options.github !== undefined && config.dryRun) {
    logger({ level: "warn", msg: "a GitHub client was given to createRerunner: DRY_RUN is set but reruns go to that client" });
  }
  const access = createGitHubAccess({
    config,
    app: appOf(config, observe, clock),
    github: options.github ?? (config.dryRun ? createDryRunClient(logger) : undefined),
    facts: options.facts,
    observer: observe,
  });
  const rerunner = createEngine({
    config,
    store: options.store,
    access,
    logger,
    observe,
    clock,
    maxConflicts: options.maxConflicts ?? 64,
    dryRun: options.github === undefined && config.dryRun,
    notifier: options.notifier,
    background: options.background,
  });
  if (options.reconciledElsewhere !== true) {
    // A second after creation: time for the caller's set-up (listening, then startReconciler).
    setTimeout(() => {
      if (reconciled.has(rerunner)) return;
      logger({
        level: "warn",
        msg: "no reconciler started: a pending rerun (GitHub answered \"already running\", or this process stopped mid-rerun) is driven only by the run's next events; start one with startReconciler(rerunner, { store })",
      });
    }, RECONCILER_GRACE_MS).unref();
  }
  return rerunner;
}

export interface RunDeciderOptions {
  /** From `configFromEnv(env, { webhook: false })`: a token (not an App), the API URL, the decision settings. */
  readonly config: Config;
  /** Default: JSON lines on stdout at `info`. */
  readonly logger?: Logger | undefined;
  /** Epoch milliseconds; injectable for tests. */
  readonly clock?: (() => number) | undefined;
}

/**
 * Decides single completed runs with no store, GitHub's own run being the state (the GitHub
 * Action): the repository's file, the policy's facts, `decide`, and a rerun only once a read of
 * the run shows it still at the event's attempt and completed. Octokit clients on
 * config.githubApiUrl with config.githubToken; under DRY_RUN a rerun client that calls nothing.
 */
export function createRunDecider(options: RunDeciderOptions): SingleRun {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const logger = safeLogger(options.logger ?? jsonLogger());
  const access = createGitHubAccess({ config, app: null, github: config.dryRun ? createDryRunClient(logger) : undefined });
  const runReader = createOctokitClient({ token: config.githubToken, baseUrl: config.githubApiUrl });
  return createSingleRun({ config, access, runReader, logger, clock, dryRun: config.dryRun });
}

export interface ReconcilerOptions {
  readonly rerunner: Rerunner;
  readonly store: Store;
  /** Default: the rerunner's configuration (SWEEP_* and PENDING_INTERVAL_S). */
  readonly sweep?: SweepConfig | undefined;
  /** Default: JSON lines on stdout at `info`. */
  readonly logger?: Logger | undefined;
  /** Default: GitHub's list endpoint on Octokit with the rerunner's token (App: each repository's installation token) and API URL. */
  readonly lister?: RunLister | undefined;
  /** Default in App mode (unless SWEEP_DELIVERIES=false): the App's delivery log on Octokit, as the App. */
  readonly deliveryLog?: DeliveryLog | undefined;
  /** Sees the GitHub requests of the lister and the delivery log built here, and the redeliveries (metrics). */
  readonly observer?: Observer | undefined;
  readonly clock?: (() => number) | undefined;
  /** Names this instance in sweep leases. */
  readonly holder?: string | undefined;
}

/**
 * Reconciliation with every default filled in: the pending driver, the App's delivery log (lost
 * deliveries redelivered) and the sweep of SWEEP_REPOS, all feeding the rerunner's own pipeline.
 */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const config = options.rerunner.config;
  const clock = options.clock ?? Date.now;
  const observer = options.observer === undefined ? undefined : safeObserver([options.observer]);
  const app = appOf(config, observer, clock);
  reconciled.add(options.rerunner);
  const lister =
    options.lister ??
    (app === null
      ? createRunLister({ token: config.githubToken, baseUrl: config.githubApiUrl, clock, observer })
      : createAppRunLister({ app, baseUrl: config.githubApiUrl, clock, observer }));
  const sweep = options.sweep ?? config.sweep;
  const deliveryLog = !sweep.deliveries
    ? null
    : (options.deliveryLog ?? (app === null ? null : createDeliveryLog({ jwt: () => app.jwt(), baseUrl: config.githubApiUrl, clock, observer })));
  return createReconciliation({
    rerunner: options.rerunner,
    store: options.store,
    sweep,
    logger: safeLogger(options.logger ?? jsonLogger()),
    lister,
    deliveryLog,
    dryRun: config.dryRun,
    observer,
    clock,
    holder: options.holder,
  });
}

export type StartReconcilerOptions = Omit<ReconcilerOptions, "rerunner">;

export interface RunningReconciler {
  readonly reconciler: Reconciler;
  /** Stops the loops: no new pass starts; one in flight stops between runs and is awaited. Call it before closing the store. */
  stop(): Promise<void>;
}

/**
 * What keeps a long-lived process from losing a rerun, started in one line beside createRerunner:
 * the pending driver every PENDING_INTERVAL_S (reruns GitHub answered "already running", or whose
 * process stopped mid-call) and, with a GitHub App or SWEEP_REPOS, the sweep every SWEEP_INTERVAL_S. Every pass
 * feeds the rerunner's own pipeline and runs between deliveries, one at a time.
 */
export function startReconciler(rerunner: Rerunner, options: StartReconcilerOptions): RunningReconciler {
  const logger = safeLogger(options.logger ?? jsonLogger());
  const reconciler = createReconciler({ ...options, rerunner, logger });
  const loops = startReconcileLoops(reconciler, logger, options.observer === undefined ? undefined : safeObserver([options.observer]));
  const { repos, deliveries, intervalMs, pendingIntervalMs } = reconciler.config;
  logger({
    level: "info",
    msg: "reconciling",
    sweepRepos: repos.map((r) => `${r.owner}/${r.name}`),
    sweepDeliveries: deliveries,
    sweepIntervalS: repos.length > 0 || deliveries ? intervalMs / 1000 : 0,
    pendingIntervalS: pendingIntervalMs / 1000,
  });
  return { reconciler, stop: () => loops.stop() };
}

/** The chat notifier NOTIFY_URL and NOTIFY_ON describe, or undefined when NOTIFY_URL is unset; ConfigError on a bad value. */
export function notifierFromEnv(env: Env): Notifier | undefined {
  const options = notifierOptionsFromEnv(env);
  return options === undefined ? undefined : createNotifier(options);
}
