#!/usr/bin/env node
// `npm start` / `job-rerunner`: the server from environment variables. Bad configuration
// ends the process with one line naming the variable, never a stack trace.
// `npm run sweep` / `job-rerunner sweep`: one reconciliation with GitHub, then exit.
import { ConfigError } from "@job-rerunner/core";
import { startServer, type RunningServer } from "./server.js";
import { runSweepCommand } from "./sweep-command.js";

function fail(message: string): never {
  process.stderr.write(`job-rerunner: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let server: RunningServer;
  try {
    server = await startServer(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    const code = typeof error === "object" && error !== null && "code" in error ? ` (${String(error.code)})` : "";
    fail(`could not start${code}: ${error instanceof Error ? error.message : String(error)}`);
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

if (process.argv[2] === "sweep") void sweep();
else void main();
