import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * How the stand-in answers `POST .../rerun-failed-jobs`:
 * - ok: performs the rerun (the run moves to the next attempt) and answers 201.
 * - already-running: 403 "This workflow is already running" (the run is not completed yet).
 * - forbidden: 403 "Resource not accessible by integration" (the token lacks a permission).
 * - not-found: 404.
 * - server-error: 500.
 * - rate-limited: 403 with x-ratelimit-remaining: 0.
 * - hang: never answers (until the server closes).
 * - drop-after-perform: performs the rerun, then destroys the connection without an answer.
 */
export type RerunBehaviour =
  | "ok"
  | "already-running"
  | "forbidden"
  | "not-found"
  | "server-error"
  | "rate-limited"
  | "hang"
  | "drop-after-perform";

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export interface FakeRun {
  runAttempt: number;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
}

export interface FakeGitHub {
  /** Base URL to use as GITHUB_API_URL. */
  readonly url: string;
  readonly calls: RecordedCall[];
  /** Behaviour of the next rerun calls; a queue is consumed one per call, the last one sticks. */
  rerun(...behaviours: RerunBehaviour[]): void;
  /** Number of POSTs to rerun-failed-jobs received (whatever was answered). */
  rerunCalls(runId?: number): number;
  /** Reruns actually performed (the run moved to a new attempt). */
  performed(runId?: number): number;
  /** The run as `GET /repos/{o}/{r}/actions/runs/{id}` reports it (created on first use). */
  run(runId: number): FakeRun;
  close(): Promise<void>;
}

const RERUN_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/rerun-failed-jobs$/;
const RUN_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)$/;

/** Rate-limit budget the stand-in reports, one less per answer, as GitHub does. */
let rateLimitRemaining = 5000;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  // Never 0 here: a 403 with 0 remaining means "rate limited", which only that behaviour answers.
  rateLimitRemaining = Math.max(1, rateLimitRemaining - 1);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": String(rateLimitRemaining),
    ...headers,
  });
  res.end(text);
}

/** A small local HTTP server standing in for the GitHub REST API in tests. */
export async function startFakeGitHub(): Promise<FakeGitHub> {
  const calls: RecordedCall[] = [];
  const runs = new Map<number, FakeRun>();
  const performedByRun = new Map<number, number>();
  let queue: RerunBehaviour[] = ["ok"];
  const sockets = new Set<Socket>();

  const runOf = (runId: number): FakeRun => {
    let run = runs.get(runId);
    if (run === undefined) {
      run = { runAttempt: 1, status: "completed", conclusion: "failure" };
      runs.set(runId, run);
    }
    return run;
  };
  const nextBehaviour = (): RerunBehaviour => (queue.length > 1 ? queue.shift()! : queue[0]!);
  const perform = (runId: number): void => {
    const run = runOf(runId);
    run.runAttempt += 1;
    run.status = "queued";
    run.conclusion = null;
    performedByRun.set(runId, (performedByRun.get(runId) ?? 0) + 1);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const call = { method: req.method ?? "GET", path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      calls.push(call);
      const rerun = RERUN_PATH.exec(path);
      if (req.method === "POST" && rerun) {
        const runId = Number(rerun[3]);
        switch (nextBehaviour()) {
          case "ok":
            perform(runId);
            return json(res, 201, {});
          case "already-running":
            return json(res, 403, { message: `This workflow is already running`, documentation_url: "https://docs.github.com/rest" });
          case "forbidden":
            return json(res, 403, { message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest" });
          case "not-found":
            return json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
          case "server-error":
            return json(res, 500, { message: "Server Error" });
          case "rate-limited":
            return json(res, 403, { message: "API rate limit exceeded" }, {
              "x-ratelimit-remaining": "0",
              "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 60),
            });
          case "hang":
            return; // never answered; closed with the server
          case "drop-after-perform":
            perform(runId);
            req.socket.destroy();
            return;
        }
      }
      const run = RUN_PATH.exec(path);
      if (req.method === "GET" && run) {
        const runId = Number(run[3]);
        const state = runOf(runId);
        return json(res, 200, { id: runId, run_attempt: state.runAttempt, status: state.status, conclusion: state.conclusion });
      }
      json(res, 404, { message: "Not Found" });
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const countRerunPosts = (runId?: number): number =>
    calls.filter((c) => {
      if (c.method !== "POST") return false;
      const m = RERUN_PATH.exec(c.path);
      return m !== null && (runId === undefined || Number(m[3]) === runId);
    }).length;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    rerun(...behaviours) {
      if (behaviours.length === 0) throw new Error("rerun() needs at least one behaviour");
      queue = [...behaviours];
    },
    rerunCalls: countRerunPosts,
    performed(runId) {
      if (runId !== undefined) return performedByRun.get(runId) ?? 0;
      let total = 0;
      for (const n of performedByRun.values()) total += n;
      return total;
    },
    run: runOf,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
