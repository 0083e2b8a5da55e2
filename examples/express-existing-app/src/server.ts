// Runs the example app: the re-runner's configuration comes from the same environment
// variables as the standalone server (GITHUB_SIGN_KEY, GITHUB_TOKEN or DRY_RUN, ...).
import { ConfigError, configFromEnv, createRerunner, startReconciler, type RunningReconciler } from "@job-rerunner/core";
import { storeFromSpec } from "@job-rerunner/adapter-express";
import { createApp } from "./app.js";

try {
  const config = configFromEnv(process.env);
  const { store } = storeFromSpec(config.store);
  const rerunner = createRerunner({ config, store });
  let reconciler: RunningReconciler | undefined;
  const app = createApp({ rerunner });
  // Express 5 hands a listen error (port in use, no permission) to this callback instead of throwing.
  const server = app.listen(config.port, (error?: Error) => {
    if (error !== undefined) {
      const code = "code" in error ? ` (${String(error.code)})` : "";
      console.error(`example app: could not listen on port ${config.port}${code}: ${error.message}`);
      process.exit(1);
    }
    // PORT=0 picks a free port: print the one really listened on.
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : config.port;
    console.log(`example app on http://localhost:${port} (webhook at /github/webhook)`);
    // Drives pending reruns (PENDING_INTERVAL_S) and sweeps SWEEP_REPOS: without it a rerun GitHub
    // answered "already running" waits for the run's next delivery.
    reconciler = startReconciler(rerunner, { store });
  });
  let stopping = false;
  const stop = (): void => {
    // npm forwards a terminal's Ctrl-C as a second SIGINT: one stop is enough, and a second
    // signal must not kill the process before in-flight deliveries are answered.
    if (stopping) return;
    stopping = true;
    // The reconciler before the store: a pass in flight finishes its run first.
    const reconciling = reconciler?.stop() ?? Promise.resolve();
    server.close(() => void reconciling.then(() => store.close?.()).then(() => process.exit(0)));
    server.closeIdleConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
