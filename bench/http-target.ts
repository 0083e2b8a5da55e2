/**
 * One HTTP server under test, run in a child process of bench/run.ts so that it never shares an
 * event loop (or, on 2 cores, a core) with autocannon in the parent. Listens on 127.0.0.1 port 0,
 * reports its port over IPC, answers "usage" with its CPU time and RSS, and exits on "stop".
 *   ours     the real server: startServer (Express 5, memory store, DRY_RUN, logs at info to stdout)
 *   floor       Express 5 app.post("/"): reads the raw body, bare HMAC verify + timingSafeEqual, JSON.parse, 202
 *   floor-http  the same handler on a bare node:http server (what Express itself costs)
 *   floor-decided   floor-http + the event, decide, one log line, the metrics (requiredWork)
 *   floor-recorded  floor-decided + the run record read and written in a MemoryStore
 *   octokit  @octokit/webhooks createNodeMiddleware on node:http, verify + receive, a workflow_job handler
 *   server   the real server (startServer) with the environment in BENCH_SERVER_ENV (JSON): the burst bench's instances
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";
import { createMetrics, startServer } from "@job-rerunner/adapter-express";
import { configFromEnv, decide, echoedHeader, jsonLogger, MemoryStore, parseEvent, recordKey } from "@job-rerunner/core";

export type TargetKind = "ours" | "floor" | "floor-http" | "floor-decided" | "floor-recorded" | "octokit";
/** Every kind this child starts: the HTTP comparison's, and the burst bench's "server". */
export type ChildKind = TargetKind | "server";

export type TargetMessage =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "usage"; readonly cpuMicros: number; readonly systemMicros: number; readonly rss: number; readonly handled: number };

const kind = process.argv[2];
const secret = process.env.BENCH_SECRET ?? "";
if (secret === "") throw new Error("BENCH_SECRET is not set");

let handled = 0;

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * What a server doing our job cannot skip, on top of the floor, with our own modules and nothing
 * around them: the event read from the payload, `decide`, one delivery log line (the default
 * `info` logger, to stdout) and the delivery metrics (the server's prom-client observer); with
 * `recorded`, the run record read and written (compare-and-set) in a MemoryStore as well. The
 * engine's plumbing (the per-run queue, scope, deadlines, visibility, the answer's body and
 * headers) is not here: `ours` minus this is what that plumbing costs.
 */
function requiredWork(recorded: boolean): (req: IncomingMessage, payload: unknown) => Promise<void> {
  const config = configFromEnv({ GITHUB_SIGN_KEY: secret, DRY_RUN: "true", STORE: "memory" });
  const logger = jsonLogger({ level: "info" });
  const { observer } = createMetrics();
  const store = new MemoryStore();
  return async (req, payload) => {
    const started = Date.now();
    // The headers read as the engine reads them for its answer and log line.
    const eventName = echoedHeader(req.headers, "x-github-event");
    const delivery = echoedHeader(req.headers, "x-github-delivery") ?? randomUUID();
    const parsed = parseEvent({ eventName, deliveryId: delivery, receivedAt: started, handlerId: randomUUID() }, payload);
    if (parsed.kind !== "event") throw new Error(parsed.reason);
    const event = parsed.event;
    const key = recordKey(event.repo.id, event.runId);
    const current = recorded ? await store.get(key) : undefined;
    const decision = decide(current?.record, event, config);
    if (recorded && decision.changed && decision.record !== undefined && !(await store.put(key, decision.record, current?.version))) throw new Error("lost write");
    observer({ type: "delivery", event: eventName, status: decision.status, durationMs: Date.now() - started });
    logger({
      level: "info",
      msg: "delivery",
      delivery,
      event: eventName,
      repo: `${event.repo.owner}/${event.repo.name}`,
      run: event.runId,
      attempt: event.attempt,
      job: event.kind === "workflow_job" ? event.job.name : null,
      status: decision.status,
      reason: decision.reason,
      action: decision.answerAction ?? "none",
      durationMs: Date.now() - started,
    });
  };
}

async function start(): Promise<{ port: number; close: () => Promise<void> }> {
  switch (kind) {
    case "ours": {
      const running = await startServer(
        { GITHUB_SIGN_KEY: secret, DRY_RUN: "true", STORE: "memory", LOG_LEVEL: "info" },
        { port: 0, host: "127.0.0.1", shutdownGraceMs: 1000 },
      );
      return { port: running.port, close: () => running.close() };
    }
    case "server": {
      const env = JSON.parse(process.env.BENCH_SERVER_ENV ?? "{}") as Record<string, string>;
      const running = await startServer(env, { port: 0, host: "127.0.0.1", shutdownGraceMs: 1000 });
      return { port: running.port, close: () => running.close() };
    }
    case "floor":
    case "floor-http":
    case "floor-decided":
    case "floor-recorded": {
      const work = kind === "floor-decided" || kind === "floor-recorded" ? requiredWork(kind === "floor-recorded") : undefined;
      // The floor's whole job: raw body, bare HMAC + timingSafeEqual, JSON.parse, 202.
      const handle = (req: IncomingMessage, res: ServerResponse): void => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
          const body = Buffer.concat(chunks);
          const header = req.headers["x-hub-signature-256"];
          const given = Buffer.from(typeof header === "string" ? header : "");
          const expected = Buffer.from("sha256=" + createHmac("sha256", secret).update(body).digest("hex"));
          if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
            res.writeHead(403).end();
            return;
          }
          let payload: unknown;
          try {
            payload = JSON.parse(body.toString("utf8"));
          } catch {
            res.writeHead(400).end();
            return;
          }
          const answer = (): void => {
            handled++;
            const text = '{"status":202}';
            res.writeHead(202, { "content-type": "application/json; charset=utf-8", "content-length": String(text.length) }).end(text);
          };
          if (work === undefined) answer();
          else work(req, payload).then(answer, () => res.writeHead(500).end());
        });
      };
      if (kind !== "floor") {
        const server = createServer(handle);
        return { port: await listen(server), close: () => closeServer(server) };
      }
      const app = express();
      app.disable("x-powered-by");
      app.post("/", handle);
      const server = createServer(app);
      return { port: await listen(server), close: () => closeServer(server) };
    }
    case "octokit": {
      const webhooks = new Webhooks({ secret });
      webhooks.on("workflow_job", () => {
        handled++;
      });
      const middleware = createNodeMiddleware(webhooks, { path: "/" });
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        void middleware(req, res);
      });
      return { port: await listen(server), close: () => closeServer(server) };
    }
    default:
      throw new Error(`unknown target "${String(kind)}": ours, floor, floor-http, floor-decided, floor-recorded, octokit or server`);
  }
}

const target = await start();
const send = (message: TargetMessage): void => {
  process.send?.(message);
};
process.on("message", (message: unknown) => {
  if (message === "usage") {
    const cpu = process.cpuUsage();
    send({ type: "usage", cpuMicros: cpu.user + cpu.system, systemMicros: cpu.system, rss: process.memoryUsage().rss, handled });
  } else if (message === "stop") {
    void target.close().then(() => process.exit(0));
  }
});
process.on("disconnect", () => process.exit(0));
send({ type: "listening", port: target.port });
