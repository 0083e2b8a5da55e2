import type { HttpFunction, Request, Response } from "@google-cloud/functions-framework";
import {
  ConfigError,
  configFromEnv,
  createReconciler,
  createRerunner,
  formatDeliverySummary,
  formatSweepSummary,
  logObserver,
  notifierFromEnv,
  parseLogLevel,
  type Env,
  type Reconciler,
  type ReconcileResult,
  type RunLister,
  type DeliveryLog,
} from "@job-rerunner/core";
import { cloudLogger } from "./cloud-logger.js";
import type { RerunnerFunctionOptions } from "./function.js";
import { storeFromSpec } from "./store-from-spec.js";

export interface SweepFunctionOptions extends RerunnerFunctionOptions {
  /** Replaces GitHub's run listing. */
  readonly lister?: RunLister;
  /** Replaces the GitHub App's delivery log. */
  readonly deliveryLog?: DeliveryLog;
}

type Ready = { readonly kind: "ready"; readonly reconciler: Reconciler } | { readonly kind: "misconfigured"; readonly reason: string };

function json(res: Response, status: number, body: Record<string, unknown>): void {
  if (res.headersSent) return;
  res.status(status).set("content-type", "application/json; charset=utf-8").send(JSON.stringify(body));
}

/**
 * The `sweep` HTTP function, for Cloud Scheduler: each call drives the pending reruns nobody
 * holds, then sweeps SWEEP_REPOS (docs/never-losing-a-rerun.md), and answers the summary. It is
 * deployed without --allow-unauthenticated, so Google's front end admits only callers with the
 * invoker role (the scheduler's OIDC service account). Built on the first call, not at load, so
 * the webhook function deployed from the same bundle pays nothing for it. GET and HEAD answer a
 * health text and sweep nothing. Calls that overlap on
 * one instance share one pass; across instances the store's sweep lease keeps one per repository.
 */
export function createSweepFunction(options: SweepFunctionOptions = {}): HttpFunction {
  const env: Env = options.env ?? process.env;
  const logger = options.logger ?? cloudLogger({ level: parseLogLevel(env.LOG_LEVEL) ?? "info" });
  let ready: Ready | undefined;
  let inFlight: Promise<ReconcileResult> | undefined;

  const prepare = (): Ready => {
    try {
      const config = options.config ?? configFromEnv(env);
      const store = options.store ?? storeFromSpec(config.store, env).store;
      // A run only the sweep finds still gets its give-up message and its metric lines.
      const notifier = notifierFromEnv(env);
      const observer = logObserver(logger);
      const rerunner = createRerunner({
        config,
        store,
        logger,
        observer,
        notifier,
        github: options.github,
        clock: options.clock,
      });
      return { kind: "ready", reconciler: createReconciler({ rerunner, store, logger, observer, lister: options.lister, deliveryLog: options.deliveryLog, clock: options.clock }) };
    } catch (error) {
      const reason =
        error instanceof ConfigError ? `configuration error: ${error.message}` : `could not start: ${error instanceof Error ? error.message : String(error)}`;
      logger({ level: "error", msg: "sweep misconfigured: every call will answer 500 until the configuration is fixed", reason });
      return { kind: "misconfigured", reason };
    }
  };

  return async (req: Request, res: Response): Promise<void> => {
    if (req.method === "GET" || req.method === "HEAD") {
      // A health check must not cost GitHub requests: only POST sweeps.
      res.status(200).type("text/plain; charset=utf-8").send(req.method === "HEAD" ? "" : "job-rerunner sweep: POST runs one sweep\n");
      return;
    }
    if (req.method !== "POST") {
      res.status(405).set("allow", "GET, HEAD, POST").type("text/plain; charset=utf-8").send("method not allowed: POST (Cloud Scheduler) runs a sweep\n");
      return;
    }
    ready ??= prepare();
    if (ready.kind === "misconfigured") return json(res, 500, { status: 500, reason: ready.reason });
    const reconciler = ready.reconciler;
    try {
      inFlight ??= reconciler.once().finally(() => (inFlight = undefined));
      const result = await inFlight;
      const { sweep, deliveries } = result;
      const summary = [
        ...(deliveries === null ? [] : [formatDeliverySummary(deliveries)]),
        sweep === null ? "SWEEP_REPOS is not set: no repository listed" : formatSweepSummary(sweep),
      ].join("; ");
      // Cloud Scheduler records a non-2xx as a failed run (and retries it as its job says).
      const unreachable = sweep?.unreachable === true || deliveries?.unreachable === true;
      const unauthorized = sweep?.unauthorized === true || deliveries?.unauthorized === true;
      const status = unreachable ? 502 : unauthorized ? 500 : 200;
      const reason = status === 502 ? "GitHub could not be reached" : status === 500 ? (deliveries?.unauthorized === true ? "GitHub rejected the App's JWT (401): check GITHUB_APP_ID and the key" : "GitHub rejected GITHUB_TOKEN (401)") : "swept";
      json(res, status, { status, reason, summary, deliveries, sweep, pending: result.pending });
    } catch (error) {
      // The reconciler never throws; this guards the adapter itself.
      json(res, 503, { status: 503, reason: `internal error: ${error instanceof Error ? error.message : String(error)}` });
    }
  };
}
