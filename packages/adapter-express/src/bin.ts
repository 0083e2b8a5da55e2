#!/usr/bin/env node
// `npm start` / `job-rerunner`: the server from environment variables. Bad configuration
// ends the process with one line naming the variable, never a stack trace.
import { ConfigError } from "@job-rerunner/core";
import { startServer, type RunningServer } from "./server.js";

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
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal means "now": skip the wait for in-flight requests.
      process.exit(1);
    }
    stopping = true;
    server.logger({ level: "info", msg: "signal received", signal });
    server.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`error while stopping: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

void main();
