import {
  ConfigError,
  configFromEnv,
  createReconciler,
  createRerunner,
  formatDeliverySummary,
  formatSweepSummary,
  jsonLogger,
  notifierFromEnv,
  type Env,
  type Logger,
  type ReconcileResult,
} from "@job-rerunner/core";
import { logLevelFromEnv } from "./server.js";
import { openStore } from "./store-from-spec.js";

export interface SweepCommandIo {
  /** Log lines and the summary. */
  readonly out: (text: string) => void;
  /** The one-line reason of a non-zero exit. */
  readonly err: (text: string) => void;
  /** Aborted to stop between runs (SIGTERM). */
  readonly signal?: AbortSignal;
}

export const SWEEP_USAGE = `Usage: job-rerunner sweep

One reconciliation with GitHub, then exit (for cron, or by hand): drives every pending rerun
whose holder gave up (GitHub answered "already running", or a process stopped mid-call); with a
GitHub App, reads the App's delivery log and has GitHub redeliver the workflow deliveries that
never got an answer; then lists the finished failed runs of SWEEP_REPOS since the last sweep and
re-runs those whose deliveries never came. Uses the server's environment and STORE, so it never
re-runs or redelivers twice beside a running server.

  SWEEP_DELIVERIES   App mode: recover lost deliveries from the delivery log (default true)
  SWEEP_REPOS        owner/name,... to list (unset: no repository is listed)
  SWEEP_LOOKBACK_H   how far back the first sweep of a repository, and of the log, looks (default 1)
  SWEEP_HORIZON_H    how long before that a run may have been created (default 24)
  and the server's GITHUB_SIGN_KEY, GITHUB_TOKEN or GITHUB_APP_*, STORE, GITHUB_API_URL

Exit codes: 0 it ran (each repository's problems are in the summary); 1 bad configuration,
a store it cannot open, or GitHub rejected the token; 2 GitHub could not be reached at all.
`;

/** The text `job-rerunner sweep` prints after its log lines. */
export function formatResult(result: ReconcileResult): string {
  const p = result.pending;
  const lines = [
    result.sweep === null
      ? "job-rerunner sweep: SWEEP_REPOS is not set: no repository listed"
      : `job-rerunner sweep: ${formatSweepSummary(result.sweep)}`,
    ...(result.deliveries === null ? [] : [formatDeliverySummary(result.deliveries)]),
    `pending reruns: ${p.due} waiting, ${p.driven} driven, ${p.rerunsMade} re-run, ${p.errors} errors`,
    ...[...(result.deliveries?.problems ?? []), ...(result.sweep?.problems ?? [])].map((line) => `  - ${line}`),
  ];
  return lines.join("\n") + "\n";
}

/**
 * `job-rerunner sweep` / `npm run sweep`: one pass of the pending driver and one sweep, with the
 * server's environment and store, for cron and for people. Returns the exit code: 0 when it ran
 * (repository errors are in the summary), 1 on bad configuration or a rejected token, 2 when
 * GitHub could not be reached at all.
 */
export async function runSweepCommand(env: Env, io: SweepCommandIo): Promise<number> {
  let opened;
  let reconciler;
  let config;
  try {
    config = configFromEnv(env);
    const log = jsonLogger({ level: logLevelFromEnv(env), write: (line) => io.out(line + "\n") });
    // The sweep's own summary line is printed for people below (formatResult): logged once, not twice.
    const logger: Logger = (entry) => {
      if (entry.msg !== "sweep") log(entry);
    };
    // Opened now (PostgreSQL: connected), so a store that cannot be reached is a clear exit 1.
    opened = await openStore(config.store);
    const notifier = notifierFromEnv(env);
    // A run only the sweep finds still gets its give-up message.
    const rerunner = createRerunner({ config, store: opened.store, logger, notifier });
    reconciler = createReconciler({ rerunner, store: opened.store, logger });
  } catch (error) {
    await opened?.store.close?.();
    io.err(error instanceof ConfigError ? error.message : `could not start: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  try {
    const result = await reconciler.once(io.signal);
    io.out(formatResult(result));
    const { sweep, deliveries } = result;
    const githubApiUrl = env.GITHUB_API_URL?.trim() || "https://api.github.com";
    if (sweep?.unreachable === true || deliveries?.unreachable === true) {
      io.err(`GitHub could not be reached at ${githubApiUrl} (the problem is listed above)`);
      return 2;
    }
    if (deliveries?.unauthorized === true) {
      io.err("GitHub refused the App's JWT on its delivery log (401): check GITHUB_APP_ID and the key");
      return 1;
    }
    if (sweep?.unauthorized === true) {
      io.err(config.githubApp === null ? "GitHub rejected GITHUB_TOKEN (401): check the token" : "GitHub rejected the App's installation token (401): check GITHUB_APP_ID and the key");
      return 1;
    }
    return 0;
  } finally {
    await opened.store.close?.();
  }
}
