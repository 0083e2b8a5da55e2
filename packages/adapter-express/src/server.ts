import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import {
  ConfigError,
  configFromEnv,
  startReconciler,
  createRerunner,
  jsonLogger,
  liveness,
  parseLogLevel,
  readiness,
  toHttpResponse,
  warnAboutCredentials,
  type HealthAnswer,
  type Env,
  type GitHubClient,
  type Logger,
  type LogLevel,
  type Rerunner,
  type Store,
  type RunLister,
} from "@job-rerunner/core";
import { createWebhookHandler } from "./handler.js";
import { openStore } from "./store-from-spec.js";
import { mountVisibility, visibilityFromEnv } from "./visibility-routes.js";

export interface ServerOptions {
  /** Overrides PORT; 0 picks a free port (tests, the demo). */
  readonly port?: number;
  /** Overrides HOST: the interface to listen on (default: all, like the service this one replaces). */
  readonly host?: string;
  /** Where JSON log lines go (default stdout). */
  readonly writeLog?: (line: string) => void;
  /** Replaces the store named by STORE (embedding, tests); it is closed with the server. */
  readonly store?: Store;
  /** Replaces the GitHub client built from the configuration. */
  readonly github?: GitHubClient;
  /** Whether to check GITHUB_TOKEN with GitHub once at start (default true; never with DRY_RUN or `github`). */
  readonly checkCredentials?: boolean;
  /** Replaces GitHub's run listing used by the sweep. */
  readonly lister?: RunLister;
  /** How long `close` waits for in-flight requests before cutting them (default 15 s). */
  readonly shutdownGraceMs?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly logger: Logger;
  /** Stops accepting, lets in-flight deliveries finish, then closes the store. Idempotent. */
  close(): Promise<void>;
}

/** HOST: the address to bind; unset or empty means every interface. */
function hostFromEnv(env: Env): string | undefined {
  const raw = env.HOST?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

function sendHealth(res: express.Response, answer: HealthAnswer): void {
  res.status(answer.status).type("application/json").set("cache-control", "no-store").send(`${answer.body}\n`);
}

export function logLevelFromEnv(env: Env): LogLevel {
  const raw = env.LOG_LEVEL;
  if (raw === undefined || raw.trim() === "") return "info";
  const level = parseLogLevel(raw);
  if (level === undefined) throw new ConfigError("LOG_LEVEL", `must be debug, info, warn or error, got "${raw}"`);
  return level;
}

/**
 * The runnable server: configuration from the environment (DESIGN.md's table), POST `/` is the
 * webhook and GET `/` a health text, as in the service this one replaces. Throws ConfigError
 * (message names the variable) on bad configuration, before anything listens.
 */
export async function startServer(env: Env = process.env, options: ServerOptions = {}): Promise<RunningServer> {
  const config = configFromEnv(env);
  const level = logLevelFromEnv(env);
  const host = options.host ?? hostFromEnv(env);
  const visible = visibilityFromEnv(env);
  const logger = jsonLogger(options.writeLog === undefined ? { level } : { level, write: options.writeLog });
  // Opened (PostgreSQL: connected, tables ready) before anything listens.
  const { store, description } =
    options.store === undefined
      ? await openStore(config.store, { onBackgroundError: (error) => logger({ level: "warn", msg: "store background error", error }) })
      : { store: options.store, description: "given by the caller" };

  // A delivery's engine work can outlive its connection (the client gave up, or the grace period
  // cut it), and so can a notification's sending: shutdown waits for these before closing the store under them.
  const working = new Set<Promise<unknown>>();
  const keep = (work: Promise<unknown>): void => {
    working.add(work);
    work.then(
      () => working.delete(work),
      () => working.delete(work),
    );
  };
  const app = express();
  app.disable("x-powered-by");
  const { observer } = mountVisibility(app, visible, { store, config, logger });
  const engine = createRerunner({
    config,
    store,
    logger,
    background: keep,
    observer,
    notifier: visible.notifier,
    github: options.github,
  });
  const rerunner: Rerunner = {
    ...engine,
    handle(request) {
      const work = engine.handle(request);
      keep(work);
      return work;
    },
  };
  const webhook = createWebhookHandler({ rerunner, logger });
  /** The last resort for a request that failed outside the engine: JSON, never a stack trace. */
  const failed = (res: ServerResponse, error: unknown, status: number): void => {
    logger({ level: "error", msg: "request failed", status, error: error instanceof Error ? error.message : String(error) });
    if (res.headersSent) return;
    const reason = status === 500 ? "internal error" : "bad request";
    const http = toHttpResponse({ status, body: { status, action: "none", reason, delivery: null, run: null } });
    res.writeHead(http.status, http.headers);
    res.end(http.body);
  };
  // Everything but the webhook path: a JSON 404, and JSON for any error.
  // For orchestrators: /healthz says the process answers, /readyz that its store does too.
  app.get("/healthz", (_req: express.Request, res: express.Response) => sendHealth(res, liveness()));
  app.get("/readyz", (_req: express.Request, res: express.Response, next: express.NextFunction) => {
    readiness(store).then((answer) => sendHealth(res, answer), next);
  });
  app.use((req: express.Request, res: express.Response) => {
    res.status(404).json({ status: 404, action: "none", reason: `nothing at ${req.method} ${req.path}: the webhook is POST /`, delivery: null, run: null });
  });
  // Express's default error page is HTML with a stack trace in development; answer JSON instead.
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = typeof error === "object" && error !== null && "status" in error && typeof error.status === "number" && error.status >= 400 && error.status < 600 ? error.status : 500;
    failed(res, error, status);
  });

  // Deliveries skip Express: its per-request setup and router cost about as much CPU as the
  // whole engine (see BENCHMARKS.md), and the webhook handler needs none of it (it answers
  // every method on "/" itself and never calls next). Only the exact path "/" (with or
  // without a query) takes this way; everything else goes through the app above.
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "";
    if (url === "/" || url.startsWith("/?")) {
      try {
        webhook(req, res);
      } catch (error) {
        // Not expected: the handler catches its own errors.
        failed(res, error, 500);
      }
      return;
    }
    app(req, res);
  };

  // With no host, Node listens on every interface (IPv6 and IPv4 where available).
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(listener);
    if (host === undefined) s.listen(options.port ?? config.port);
    else s.listen(options.port ?? config.port, host);
    s.once("listening", () => resolve(s));
    s.once("error", reject);
  }).catch(async (error: unknown) => {
    await store.close?.();
    throw error;
  });
  // Responses still being worked on when shutdown starts must close their connection, or an
  // idle keep-alive socket would hold the process open after answering.
  const inFlight = new Set<ServerResponse>();
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  });
  const { port } = server.address() as AddressInfo;
  logger({ level: "info", msg: "listening", port, host: host ?? "(all interfaces)", pid: process.pid, store: description, dryRun: config.dryRun, githubApiUrl: config.githubApiUrl });
  // A bad token is reported now rather than on the first failed run; never holds up the start.
  const credentialCheck = new AbortController();
  if (!config.dryRun && options.github === undefined && options.checkCredentials !== false) {
    // Observed like every other GitHub call: the rate-limit gauge has a number from start-up on.
    const credentials =
      config.githubApp === null
        ? { token: config.githubToken, baseUrl: config.githubApiUrl, observer }
        : { app: config.githubApp, baseUrl: config.githubApiUrl, observer };
    void warnAboutCredentials(credentials, logger, { signal: credentialCheck.signal });
  }
  const loops = startReconciler(engine, { store, logger, observer, lister: options.lister });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      credentialCheck.abort();
      logger({ level: "info", msg: "shutting down: finishing in-flight requests" });
      // Sweeping stops between runs, alongside the deliveries finishing; the store closes after both.
      const loopsStopped = loops.stop();
      await new Promise<void>((resolve) => {
        const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 15_000);
        grace.unref();
        server.close(() => {
          clearTimeout(grace);
          resolve();
        });
        // Keep-alive connections with no request in flight would otherwise hold close() open.
        server.closeIdleConnections();
        for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
      });
      // The loops first: a pass finishing now may still start work (a notification) kept below.
      await loopsStopped;
      while (working.size > 0) {
        logger({ level: "info", msg: "shutting down: waiting for deliveries still being processed", count: working.size });
        // Bounded: the engine answers every delivery within its deadline, whatever GitHub or the store do.
        await Promise.allSettled([...working]);
      }
      await store.close?.();
      logger({ level: "info", msg: "stopped" });
    })();
    return closing;
  };
  const reachableAt = host === undefined || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return { port, url: `http://${reachableAt}:${port}`, logger, close };
}
