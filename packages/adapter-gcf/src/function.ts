import type { HttpFunction, Request, Response } from "@google-cloud/functions-framework";
import {
  echoedHeader,
  ConfigError,
  configFromEnv,
  createRerunner,
  HEALTH_TEXT,
  logObserver,
  notifierFromEnv,
  parseLogLevel,
  toHttpResponse,
  type Config,
  type Env,
  type GitHubClient,
  type Logger,
  type Rerunner,
  type ResponseBody,
  type Store,
} from "@job-rerunner/core";
import { cloudLogger } from "./cloud-logger.js";
import { storeFromSpec } from "./store-from-spec.js";

export interface RerunnerFunctionOptions {
  /** Environment to configure from (default process.env); ignored for what `config` gives. */
  readonly env?: Env;
  /** A ready Config instead of reading the environment. */
  readonly config?: Config;
  /** A ready Store instead of the one STORE names (Firestore by default). */
  readonly store?: Store;
  readonly github?: GitHubClient;
  /** Default: Cloud Logging structured lines on stdout, level from LOG_LEVEL (default info). */
  readonly logger?: Logger;
  readonly clock?: () => number;
  /** Text answered to GET and HEAD. */
  readonly healthText?: string;
}

export const DEFAULT_HEALTH_TEXT = HEALTH_TEXT;

function send(res: Response, status: number, body: ResponseBody): void {
  if (res.headersSent) return;
  const http = toHttpResponse({ status, body });
  res.status(http.status).set(http.headers);
  res.end(http.body);
}

type Ready = { readonly kind: "ready"; readonly rerunner: Rerunner } | { readonly kind: "misconfigured"; readonly reason: string };

/**
 * Builds the engine once, at cold start. A bad configuration does not throw: every request then
 * answers 500 with a JSON body naming the variable, and the error is logged once. Throwing at
 * load time would make the instance fail to start and be retried in a crash loop, with GitHub's
 * "Recent Deliveries" page showing only a bare 5xx from Google's front end; this way the page
 * says what to fix, nothing is recorded, and the deliveries can be redelivered after the fix.
 */
function prepare(options: RerunnerFunctionOptions, logger: Logger): Ready {
  const env = options.env ?? process.env;
  try {
    const config = options.config ?? configFromEnv(env);
    const opened = options.store === undefined ? storeFromSpec(config.store, env) : { store: options.store, description: "given" };
    const notifier = notifierFromEnv(env);
    const rerunner = createRerunner({
      config,
      store: opened.store,
      logger,
      // Counters as structured log lines (log-based metrics); a notification is sent within the
      // delivery's deadline, since a function gets no CPU after it has answered.
      observer: logObserver(logger),
      notifier,
      github: options.github,
      clock: options.clock,
      // The sweep function (Cloud Scheduler) drives pending reruns: README "Deploying to Google Cloud Functions".
      reconciledElsewhere: true,
    });
    logger({
      level: "info",
      msg: "configured",
      store: opened.description,
      dryRun: config.dryRun,
      githubApiUrl: config.githubApiUrl,
      runAttempts: config.runAttempts,
    });
    return { kind: "ready", rerunner };
  } catch (error) {
    const reason =
      error instanceof ConfigError
        ? `configuration error: ${error.message}`
        : `could not start: ${error instanceof Error ? error.message : String(error)}`;
    logger({ level: "error", msg: "misconfigured: every request will answer 500 until the configuration is fixed", reason });
    return { kind: "misconfigured", reason };
  }
}

/**
 * The webhook as a Cloud Functions HTTP function: POST hands `req.rawBody` (kept by the
 * framework's body parser for exactly this: the signature is over the raw bytes) and the
 * headers to the engine and sends its answer; GET/HEAD answer a health text; other methods 405.
 */
export function createRerunnerFunction(options: RerunnerFunctionOptions = {}): HttpFunction {
  const env = options.env ?? process.env;
  const logger = options.logger ?? cloudLogger({ level: parseLogLevel(env.LOG_LEVEL) ?? "info" });
  const ready = prepare(options, logger);
  const healthText = options.healthText ?? DEFAULT_HEALTH_TEXT;

  return async (req: Request, res: Response): Promise<void> => {
    if (ready.kind === "misconfigured") {
      const body: ResponseBody = { status: 500, action: "none", reason: ready.reason, delivery: echoedHeader(req.headers, "x-github-delivery"), run: null };
      send(res, 500, body);
      return;
    }
    if (req.method === "GET" || req.method === "HEAD") {
      res.status(200).type("text/plain; charset=utf-8").send(req.method === "HEAD" ? "" : healthText);
      return;
    }
    if (req.method !== "POST") {
      res.status(405).set("allow", "GET, HEAD, POST").type("text/plain; charset=utf-8").send("method not allowed: POST GitHub webhook deliveries here\n");
      return;
    }
    try {
      // No body at all leaves rawBody unset; the engine then answers 403 or 400 as for any bad delivery.
      const { status, body } = await ready.rerunner.handle({ headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) });
      send(res, status, body);
    } catch (error) {
      // The engine never throws; this guards the adapter itself, answering JSON instead of a stack trace.
      const reason = `internal error: ${error instanceof Error ? error.message : String(error)}`;
      send(res, 503, { status: 503, action: "none", reason, delivery: echoedHeader(req.headers, "x-github-delivery"), run: null });
    }
  };
}
