import type { IncomingMessage, ServerResponse } from "node:http";
import type express from "express";
import { booleanFromEnv, ConfigError, notifierFromEnv, type Config, type Env, type Logger, type Notifier, type Observer, type Store } from "@job-rerunner/core";
import { createMetrics } from "./metrics.js";
import { createStatusHandler } from "./status-page.js";

/** Shortest STATUS_TOKEN accepted: the page lists repository names and failures. */
export const MIN_STATUS_TOKEN_LENGTH = 12;

export interface VisibilitySettings {
  readonly metrics: boolean;
  readonly statusToken: string | null;
  readonly notifier: Notifier | undefined;
}

/** METRICS, STATUS_TOKEN, NOTIFY_URL and NOTIFY_ON; throws ConfigError naming the variable. */
export function visibilityFromEnv(env: Env): VisibilitySettings {
  const metrics = booleanFromEnv(env, "METRICS", true);
  const token = (env.STATUS_TOKEN ?? "").trim();
  if (token !== "" && token.length < MIN_STATUS_TOKEN_LENGTH) {
    throw new ConfigError("STATUS_TOKEN", `must be at least ${MIN_STATUS_TOKEN_LENGTH} characters (e.g. openssl rand -hex 24)`);
  }
  return {
    metrics,
    statusToken: token === "" ? null : token,
    notifier: notifierFromEnv(env),
  };
}

/**
 * GET /metrics (unless METRICS=false) and GET /status (only when STATUS_TOKEN is set; otherwise
 * a JSON 404 naming the variable) on the server's Express app. Read-only.
 */
export function mountVisibility(app: express.Express, settings: VisibilitySettings, context: { store: Store; config: Config; logger: Logger }): { observer: Observer | undefined } {
  let observer: Observer | undefined;
  if (settings.metrics) {
    const metrics = createMetrics();
    observer = metrics.observer;
    app.get("/metrics", (_req: express.Request, res: express.Response) => {
      metrics.text().then(
        (text) => res.status(200).set("content-type", metrics.contentType).set("cache-control", "no-store").send(text),
        (error: unknown) => {
          context.logger({ level: "error", msg: "metrics failed", error: error instanceof Error ? error.message : String(error) });
          res.status(503).type("text/plain").send("503: metrics could not be collected\n");
        },
      );
    });
  }
  if (settings.statusToken !== null) {
    const status = createStatusHandler({ ...context, token: settings.statusToken });
    app.get("/status", (req: express.Request, res: express.Response) => status(req as IncomingMessage, res as ServerResponse));
  } else {
    // Off, and says how to turn it on (it reveals nothing either way).
    app.get("/status", (req: express.Request, res: express.Response) => {
      res.status(404).json({
        status: 404,
        action: "none",
        reason: `the status page is off: set STATUS_TOKEN (at least ${MIN_STATUS_TOKEN_LENGTH} characters, e.g. openssl rand -hex 24) to serve it at GET /status`,
        delivery: null,
        run: null,
      });
    });
  }
  return { observer };
}
