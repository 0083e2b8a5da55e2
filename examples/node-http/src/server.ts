// The core in Node's own http server (docs/embedding.md: "Embedding the core in any framework"). The
// configuration is the standalone server's environment (GITHUB_SIGN_KEY, GITHUB_TOKEN or
// DRY_RUN, PENDING_INTERVAL_S, SWEEP_REPOS, ...); the store is in memory.
import { createServer } from "node:http";
import { ConfigError, configFromEnv, createRerunner, MemoryStore, startReconciler, toHttpResponse } from "@job-rerunner/core";

let config;
try {
  config = configFromEnv(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const store = new MemoryStore();
const rerunner = createRerunner({ config, store });
// The pending driver and the sweep: without them a rerun GitHub answered "already running"
// waits for the run's next delivery.
const reconciler = startReconciler(rerunner, { store });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    void rerunner.handle({ headers: req.headers, rawBody: Buffer.concat(chunks) }).then((answer) => {
      const http = toHttpResponse(answer);
      res.writeHead(http.status, http.headers).end(http.body);
    });
  });
}).listen(config.port, () => {
  const address = server.address();
  console.log(`listening on http://localhost:${typeof address === "object" && address !== null ? address.port : config.port}`);
});

process.once("SIGTERM", () => {
  // Stop reconciling first (a pass in flight finishes its run), then stop taking deliveries.
  void reconciler.stop().then(() => server.close(() => process.exit(0)));
});
