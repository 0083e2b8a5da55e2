#!/usr/bin/env node
// `npm start` / `job-rerunner`: the server from environment variables. Bad configuration
// ends the process with one line naming the variable, never a stack trace.
import { createRequire } from "node:module";
// `npm run sweep` / `job-rerunner sweep`: one reconciliation with GitHub, then exit.
import { ConfigError } from "@job-rerunner/core";
import { startServer, type RunningServer } from "./server.js";
import { runSendCommand, SEND_USAGE } from "./send-command.js";
import { runSweepCommand, SWEEP_USAGE } from "./sweep-command.js";

// `job-rerunner --help | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error: Error) => {
  if ("code" in error && error.code === "EPIPE") process.exit(0);
  throw error;
});

function fail(message: string): never {
  process.stderr.write(`job-rerunner: ${message}\n`);
  process.exit(1);
}

const USAGE = `Usage: job-rerunner [--help | --version]
       job-rerunner sweep      one pass over pending reruns, the App's delivery log and SWEEP_REPOS, then exit (cron)
       job-rerunner send [URL] sign and post one failed run's deliveries to a running server

Runs the job-rerunner webhook server: POST / takes GitHub's workflow_job and workflow_run
deliveries and re-runs the failed jobs of a finished run, once per attempt.
GET / answers a health text; GET /healthz and GET /readyz one line of JSON; GET /metrics
Prometheus text (METRICS=false: off); GET /status the status page (when STATUS_TOKEN is set).

Configured by environment variables (docs/configuration.md has each with an example):
 Webhook and credentials
  GITHUB_SIGN_KEY             the webhook secret (required); GITHUB_SIGN_KEY_PREVIOUS during a rotation
  GITHUB_TOKEN                token allowed to re-run jobs (required unless a GitHub App or DRY_RUN)
  GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE
                              act as a GitHub App with each delivery's installation token
  ALLOWED_OWNERS              owners served (default all); REPO_CONFIG, REPO_CONFIG_TTL_S: .github/job-rerunner.yml
  GITHUB_API_URL              GitHub Enterprise Server: https://HOST/api/v3
  DRY_RUN                     true: decide and record, never re-run; reads still go to GitHub where a
                              feature needs them (policy look-ups, repository files, the sweep)
 What is re-run
  REPO_BRANCHES               branches to re-run (default: the repository's default branch)
  RUN_ATTEMPTS                total attempts per run, the first included (default 4, at most 51)
  NO_RETRY_LIST, RERUN_CONCLUSIONS, RERUN_WORKFLOWS
  RERUN_WHEN                  failure (default) or transient: only lost runners, network blips...
  RERUN_PATTERNS, NO_RERUN_PATTERNS, NO_RERUN_STEPS, MAX_FAILED_JOBS, LOG_TAIL_BYTES, RERUN_UNKNOWN,
  RERUN_FLAKY_AFTER           a job that passed on rerun this often in 30 days is flaky (default 3, 0 off)
 Never losing a rerun
  SWEEP_DELIVERIES            App mode: redeliver lost deliveries from the App's delivery log (default true)
  SWEEP_REPOS, SWEEP_INTERVAL_S, SWEEP_LOOKBACK_H, SWEEP_HORIZON_H, PENDING_INTERVAL_S
 Seeing what it does
  METRICS, NOTIFY_URL, NOTIFY_ON, STATUS_TOKEN
 Running
  PORT, HOST                  where to listen (default 5000 on every interface)
  STORE                       sqlite:PATH (default sqlite:./data/job-rerunner.sqlite), memory,
                              or postgres://USER:PASSWORD@HOST:PORT/DB (several instances)
  LOG_LEVEL, RECORD_TTL_DAYS, DEADLINE_MS

Example:
  GITHUB_SIGN_KEY=your-webhook-secret DRY_RUN=true npx job-rerunner

SIGTERM or SIGINT lets deliveries in flight finish, then exits 0.
`;

/** The version in this package's package.json (dist/bin.js sits one level below it). */
function version(): string {
  const { version: v } = createRequire(import.meta.url)("../package.json") as { version: string };
  return v;
}

/**
 * Under npm (`npx job-rerunner`), npm runs us through `sh -c`, and a SIGTERM sent to npm kills
 * that shell, not us: we would be left serving with no parent. Stop as if signalled instead.
 */
function stopWhenOrphanedByNpm(stop: (reason: NodeJS.Signals) => void): void {
  if (process.env.npm_lifecycle_event === undefined && process.env.npm_command === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      stop("SIGTERM");
    }
  }, 500);
  timer.unref();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.includes("--version") || args.includes("-v")) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (args.length > 0) {
    process.stderr.write(`job-rerunner: unknown argument "${args[0]}" (all settings are environment variables; see --help)\n`);
    process.exit(2);
  }
  let server: RunningServer;
  try {
    server = await startServer(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    const code = typeof error === "object" && error !== null && "code" in error ? ` (${String(error.code)})` : "";
    const hint = code === " (EADDRINUSE)" ? ": set PORT to a free port" : "";
    fail(`could not start${code}: ${error instanceof Error ? error.message : String(error)}${hint}`);
  }
  let stoppingSince: number | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (stoppingSince !== undefined) {
      // Ctrl-C under `npm start` arrives twice at once (from the terminal, and forwarded by npm):
      // that is one request to stop. A later signal means "now": skip the wait for in-flight requests.
      if (Date.now() - stoppingSince < 1000) return;
      process.exit(1);
    }
    stoppingSince = Date.now();
    server.logger({ level: "info", msg: "signal received", signal });
    server.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`error while stopping: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  stopWhenOrphanedByNpm(stop);
}

async function sweep(): Promise<void> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  const code = await runSweepCommand(process.env, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(`job-rerunner: ${text}\n`),
    signal: abort.signal,
  });
  process.exitCode = code;
}

async function send(args: readonly string[]): Promise<void> {
  process.exitCode = await runSendCommand(args, process.env, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`job-rerunner send: ${line}\n`),
  });
}

const [command, ...rest] = process.argv.slice(2);
const wantsHelp = rest.includes("--help") || rest.includes("-h");
// A subcommand's --help is its own usage, and never runs it.
if (command === "sweep") {
  if (wantsHelp) process.stdout.write(SWEEP_USAGE);
  else void sweep();
} else if (command === "send") {
  if (wantsHelp) process.stdout.write(SEND_USAGE);
  else void send(rest);
} else void main();
