import type { ServerResponse } from "node:http";
import { echoedHeader, HEALTH_TEXT, toHttpResponse, type Logger, type Rerunner, type ResponseBody } from "@job-rerunner/core";
import { DEFAULT_BODY_LIMIT, readRawBody, type WebhookIncomingMessage } from "./raw-body.js";

export interface WebhookHandlerOptions {
  readonly rerunner: Rerunner;
  /** Largest accepted body in bytes (default 25 MB, GitHub's maximum); larger ones get 413. */
  readonly limit?: number;
  /** Text answered to GET and HEAD on the webhook path. */
  readonly healthText?: string;
  /** Logs the deliveries answered here, before the engine (413, 500, aborted); the engine logs the rest. */
  readonly logger?: Logger;
}

/** Connect-style `next`, as Express 4 and 5 pass it. */
export type NextFunction = (error?: unknown) => void;

/**
 * Typed on Node's own request and response so the same function is an Express 4 and an
 * Express 5 handler (their Request/Response extend these) and a plain `http` handler.
 */
export type WebhookHandler = (req: WebhookIncomingMessage, res: ServerResponse, next?: NextFunction) => void;

export const DEFAULT_HEALTH_TEXT = HEALTH_TEXT;

function isSigned(req: WebhookIncomingMessage): boolean {
  return echoedHeader(req.headers, "x-hub-signature-256") !== null;
}

function sendJson(res: ServerResponse, status: number, body: ResponseBody, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const http = toHttpResponse({ status, body }, extraHeaders);
  res.writeHead(http.status, http.headers);
  res.end(http.body);
}

/** An answer given here, before the engine: same body shape as the engine's. */
function adapterAnswer(req: WebhookIncomingMessage, status: number, reason: string): ResponseBody {
  return { status, action: "none", reason, delivery: echoedHeader(req.headers, "x-github-delivery"), run: null };
}

/**
 * The webhook as a request handler: POST reads the raw body, hands it to the engine and sends
 * its `{ status, body }`; GET/HEAD answer a short health text; other methods get 405.
 * Mount it before any body parser (`app.use("/github/webhook", handler)` then
 * `app.use(express.json())`), or keep the raw bytes with `keepRawBody`.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const { rerunner } = options;
  const limit = options.limit ?? DEFAULT_BODY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive whole number of bytes, got ${limit}`);
  const healthText = options.healthText ?? DEFAULT_HEALTH_TEXT;
  const log = (req: WebhookIncomingMessage, level: "warn" | "error", status: number | null, reason: string): void =>
    options.logger?.({ level, msg: "delivery", delivery: echoedHeader(req.headers, "x-github-delivery"), event: echoedHeader(req.headers, "x-github-event"), status, reason, action: "none" });

  async function post(req: WebhookIncomingMessage, res: ServerResponse): Promise<void> {
    if (!isSigned(req)) {
      // No signature header: the answer is 403 whatever the body holds, so it is never read.
      // The engine gives that answer (and its log line) from the headers alone; the connection
      // closes after it, and what arrives until then is discarded unread, so a flood of
      // unsigned uploads costs no memory.
      const { status, body } = await rerunner.handle({ headers: req.headers, rawBody: Buffer.alloc(0) });
      sendJson(res, status, body, { connection: "close" });
      req.resume();
      return;
    }
    const read = await readRawBody(req, limit);
    switch (read.kind) {
      case "aborted":
        // Nobody is left to answer; the engine never saw the delivery, so nothing was recorded.
        log(req, "warn", null, `request aborted: ${read.message}`);
        return;
      case "too-large": {
        const answer = adapterAnswer(req, 413, `body larger than the ${read.limit}-byte limit`);
        log(req, "warn", 413, answer.reason);
        // Close the connection: reading the rest of an oversized body would only cost us memory and time.
        sendJson(res, 413, answer, { connection: "close" });
        req.resume();
        return;
      }
      case "consumed": {
        const answer = adapterAnswer(
          req,
          500,
          "the request body was read by a body parser (e.g. express.json()) before the webhook handler, so its signature cannot be checked: mount the handler before the body parser, or use express.json({ verify: keepRawBody })",
        );
        log(req, "error", 500, answer.reason);
        sendJson(res, 500, answer);
        return;
      }
      case "ok": {
        const { status, body } = await rerunner.handle({ headers: req.headers, rawBody: read.body });
        sendJson(res, status, body);
      }
    }
  }

  return (req, res) => {
    if (req.method === "POST") {
      post(req, res).catch((error: unknown) => {
        // The engine never throws; this guards the adapter itself, answering JSON instead of a stack trace.
        sendJson(res, 503, adapterAnswer(req, 503, `internal error: ${error instanceof Error ? error.message : String(error)}`));
      });
      return;
    }
    if (req.method === "GET" || req.method === "HEAD") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(healthText)) });
      res.end(req.method === "HEAD" ? undefined : healthText);
      return;
    }
    res.writeHead(405, { allow: "GET, HEAD, POST", "content-type": "text/plain; charset=utf-8" });
    res.end("method not allowed: POST GitHub webhook deliveries here\n");
  };
}
