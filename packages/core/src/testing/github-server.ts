import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * How the stand-in answers `POST .../rerun-failed-jobs`:
 * - ok: performs the rerun (the run moves to the next attempt) and answers 201.
 * - already-running: 403 "This workflow is already running" (the run is not completed yet).
 * - forbidden: 403 "Resource not accessible by integration" (the token lacks a permission).
 * - not-found: 404.
 * - unprocessable: 422 (GitHub will not re-run this run, e.g. too old or too many reruns).
 * - server-error: 500.
 * - rate-limited: 403 with x-ratelimit-remaining: 0.
 * - secondary-rate-limit: 403 with GitHub's secondary rate limit message, no Retry-After and
 *   quota left (x-ratelimit-remaining: 4999), as GitHub may answer it.
 * - bad-credentials: 401 "Bad credentials" (a revoked or wrong token).
 * - hang: never answers (until the server closes).
 * - drop-after-perform: performs the rerun, then destroys the connection without an answer.
 * - perform-then-hang: performs the rerun, then never answers (its caller dies or times out
 *   after GitHub did the work).
 */
export type RerunBehaviour =
  | "ok"
  | "already-running"
  | "forbidden"
  | "not-found"
  | "unprocessable"
  | "server-error"
  | "rate-limited"
  | "secondary-rate-limit"
  | "bad-credentials"
  | "hang"
  | "drop-after-perform"
  | "perform-then-hang";

/**
 * How the stand-in answers `GET .../actions/runs/{id}` (a queue like RerunBehaviour's):
 * - ok: the run as `run(id)` describes it.
 * - server-error: 502 with `Retry-After: 1`.
 * - secondary-rate-limit: 403 "You have exceeded a secondary rate limit" with `Retry-After: 1`.
 */
export type ReadBehaviour = "ok" | "server-error" | "secondary-rate-limit";

/** What `GET /rate_limit` says about the token (the credential check at start). */
export interface CredentialBehaviour {
  /** "bad-credentials": 401 Bad credentials, as GitHub answers an unknown or revoked token. */
  readonly answer: "ok" | "bad-credentials";
  /** `X-OAuth-Scopes` (classic tokens only); undefined sends no such header, as for fine-grained tokens. */
  readonly scopes?: string;
}

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

/**
 * How the stand-in serves a job's log. GitHub answers `GET .../actions/jobs/{id}/logs` with a 302
 * to a short-lived URL on another host; the stand-in redirects to its second server the same way.
 * - ok: the log, honouring byte ranges (suffix and offset forms) with 206.
 * - not-ready: the API answers 404, as it does until the log is archived.
 * - fail: the download host answers 500.
 * - ignore-range: the download host ignores Range and streams LOG_FLOOD_BYTES (50 MB) with no length.
 * - hang: the download host never answers (until the server closes).
 * - offsets-only: the download host ignores a suffix range (`bytes=-N`), answering 200 with the
 *   whole log and its length, but honours `bytes=START-END` (as some storage services do).
 */
export type LogBehaviour = "ok" | "not-ready" | "fail" | "ignore-range" | "hang" | "offsets-only";

/** What the flooding download host would send in full. */
export const LOG_FLOOD_BYTES = 50 * 1024 * 1024;

export interface FakeAnnotation {
  readonly message: string;
  readonly title?: string;
  readonly annotation_level?: "notice" | "warning" | "failure";
}

/** A job as `GET .../runs/{id}/attempts/{n}/jobs` lists it. */
export interface FakeListedJob {
  readonly id: number;
  readonly name: string;
  readonly status: "queued" | "in_progress" | "completed";
  readonly conclusion: string | null;
  readonly steps?: readonly { readonly name: string; readonly conclusion: string | null; readonly number?: number }[];
}

export interface FakeGitHub {
  /** Base URL to use as GITHUB_API_URL. */
  readonly url: string;
  readonly calls: RecordedCall[];
  /** Requests the log download host (the second server) received. */
  readonly logCalls: RecordedCall[];
  /** A job's check-run annotations, or "fail" for a 500. Jobs with none set have none. */
  annotations(jobId: number, annotations: readonly FakeAnnotation[] | "fail"): void;
  /** A job's log text and how the next downloads behave (a queue, one per request; the last sticks). */
  log(jobId: number, text: string, ...behaviours: LogBehaviour[]): void;
  /** Bytes the download host wrote for a job's logs so far (all requests). */
  logBytesSent(jobId: number): number;
  /** The jobs of a run attempt as the listing endpoint answers them. */
  attemptJobs(runId: number, attempt: number, jobs: readonly FakeListedJob[] | "fail"): void;
  /** Requests to the annotation, log and job-listing endpoints (the policy's look-ups). */
  factCalls(): RecordedCall[];
  /** Behaviour of the next rerun calls; a queue is consumed one per call, the last one sticks. */
  rerun(...behaviours: RerunBehaviour[]): void;
  /** Number of POSTs to rerun-failed-jobs received (whatever was answered). */
  rerunCalls(runId?: number): number;
  /** Reruns actually performed (the run moved to a new attempt). */
  performed(runId?: number): number;
  /** The run as `GET /repos/{o}/{r}/actions/runs/{id}` reports it (created on first use). */
  run(runId: number): FakeRun;
  /** Behaviour of the next run reads; a queue is consumed one per read, the last one sticks. */
  runReads(...behaviours: ReadBehaviour[]): void;
  /** Number of GETs of a run received. */
  readCalls(runId?: number): number;
  /** What `GET /rate_limit` answers from now on. */
  credentials(behaviour: CredentialBehaviour): void;
  close(): Promise<void>;
}

const RERUN_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/rerun-failed-jobs$/;
const ANNOTATIONS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)\/annotations$/;
const JOB_LOGS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/jobs\/(\d+)\/logs$/;
const ATTEMPT_JOBS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/attempts\/(\d+)\/jobs$/;
const DOWNLOAD_PATH = /^\/logs\/(\d+)$/;
const RUN_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)$/;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A small local HTTP server standing in for the GitHub REST API in tests. */
export async function startFakeGitHub(): Promise<FakeGitHub> {
  const calls: RecordedCall[] = [];
  const runs = new Map<number, FakeRun>();
  const performedByRun = new Map<number, number>();
  let queue: RerunBehaviour[] = ["ok"];
  let readQueue: ReadBehaviour[] = ["ok"];
  let credentialBehaviour: CredentialBehaviour = { answer: "ok", scopes: "repo, workflow" };
  const sockets = new Set<Socket>();
  const logCalls: RecordedCall[] = [];
  const annotationsByJob = new Map<number, readonly FakeAnnotation[] | "fail">();
  const logs = new Map<number, { text: Buffer; queue: LogBehaviour[] }>();
  const logBytes = new Map<number, number>();
  const listings = new Map<string, readonly FakeListedJob[] | "fail">();
  const nextLogBehaviour = (jobId: number): LogBehaviour => {
    const entry = logs.get(jobId);
    if (entry === undefined) return "not-ready";
    return entry.queue.length > 1 ? entry.queue.shift()! : entry.queue[0]!;
  };
  // The log download host: another server, as GitHub's download URLs are on another host.
  const downloads: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    logCalls.push({ method: req.method ?? "GET", path, headers: req.headers, body: "" });
    const m = DOWNLOAD_PATH.exec(path);
    const jobId = Number(m?.[1] ?? 0);
    const mode = new URL(req.url ?? "/", "http://x").searchParams.get("mode");
    const entry = logs.get(jobId);
    if (m === null || entry === undefined) return json(res, 404, { message: "BlobNotFound" });
    const count = (n: number) => logBytes.set(jobId, (logBytes.get(jobId) ?? 0) + n);
    if (mode === "fail") return json(res, 500, { message: "InternalError" });
    if (mode === "hang") return;
    if (mode === "ignore-range") {
      // Streams 50 MB with no length, honouring back-pressure, until done or the client leaves.
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(64 * 1024, "2024-05-01T12:00:00.0000000Z filler line of a huge log\n");
      let sent = 0;
      const pump = (): void => {
        while (sent < LOG_FLOOD_BYTES && !res.destroyed) {
          sent += chunk.length;
          count(chunk.length);
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        if (!res.destroyed) res.end();
      };
      return pump();
    }
    const text = entry.text;
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ""));
    if (range === null || (mode === "offsets-only" && range[1] === "")) {
      count(text.length);
      res.writeHead(200, { "content-type": "text/plain", "content-length": text.length });
      return res.end(text);
    }
    let start: number;
    let end: number;
    if (range[1] === "") {
      start = Math.max(0, text.length - Number(range[2]));
      end = text.length - 1;
    } else {
      start = Number(range[1]);
      end = range[2] === "" ? text.length - 1 : Math.min(Number(range[2]), text.length - 1);
    }
    if (text.length === 0 || start > end) {
      res.writeHead(416, { "content-range": `bytes */${text.length}` });
      return res.end();
    }
    const part = text.subarray(start, end + 1);
    count(part.length);
    res.writeHead(206, { "content-type": "text/plain", "content-length": part.length, "content-range": `bytes ${start}-${end}/${text.length}` });
    res.end(part);
  });
  downloads.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => downloads.listen(0, "127.0.0.1", resolve));
  const downloadPort = (downloads.address() as AddressInfo).port;

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
          case "unprocessable":
            return json(res, 422, { message: "Unprocessable Entity", documentation_url: "https://docs.github.com/rest" });
          case "server-error":
            return json(res, 500, { message: "Server Error" });
          case "rate-limited":
            return json(res, 403, { message: "API rate limit exceeded" }, {
              "x-ratelimit-remaining": "0",
              "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 60),
            });
          case "secondary-rate-limit":
            // GitHub's wording ("Rate limits for the REST API", docs.github.com); the request id varies.
            return json(res, 403, {
              message:
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0401:2F3A:1B2C3D:4E5F60:6789ABCD.",
              documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            }, { "x-ratelimit-remaining": "4999", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600) });
          case "bad-credentials":
            return json(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
          case "hang":
            return; // never answered; closed with the server
          case "drop-after-perform":
            perform(runId);
            req.socket.destroy();
            return;
          case "perform-then-hang":
            perform(runId);
            return; // never answered; closed with the server
        }
      }
      const annotations = ANNOTATIONS_PATH.exec(path);
      if (req.method === "GET" && annotations) {
        const list = annotationsByJob.get(Number(annotations[3])) ?? [];
        if (list === "fail") return json(res, 500, { message: "Server Error" });
        return json(
          res,
          200,
          list.map((a, i) => ({ path: ".github", start_line: i + 1, end_line: i + 1, annotation_level: a.annotation_level ?? "failure", title: a.title ?? "", message: a.message, raw_details: "" })),
        );
      }
      const jobLogs = JOB_LOGS_PATH.exec(path);
      if (req.method === "GET" && jobLogs) {
        const jobId = Number(jobLogs[3]);
        const behaviour = nextLogBehaviour(jobId);
        if (behaviour === "not-ready") return json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
        const location = `http://127.0.0.1:${downloadPort}/logs/${jobId}?sig=short-lived&mode=${behaviour}`;
        res.writeHead(302, { location, "content-length": 0 });
        return res.end();
      }
      const attemptJobs = ATTEMPT_JOBS_PATH.exec(path);
      if (req.method === "GET" && attemptJobs) {
        const jobs = listings.get(`${attemptJobs[3]}/${attemptJobs[4]}`) ?? [];
        if (jobs === "fail") return json(res, 502, { message: "Server Error" });
        return json(res, 200, {
          total_count: jobs.length,
          jobs: jobs.map((j) => ({ ...j, run_id: Number(attemptJobs[3]), run_attempt: Number(attemptJobs[4]), steps: j.steps ?? [] })),
        });
      }
      const run = RUN_PATH.exec(path);
      if (req.method === "GET" && run) {
        const runId = Number(run[3]);
        const read = readQueue.length > 1 ? readQueue.shift()! : readQueue[0]!;
        if (read === "server-error") return json(res, 502, { message: "Server Error" }, { "retry-after": "1" });
        if (read === "secondary-rate-limit") {
          return json(res, 403, { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }, { "retry-after": "1" });
        }
        const state = runOf(runId);
        return json(res, 200, { id: runId, run_attempt: state.runAttempt, status: state.status, conclusion: state.conclusion });
      }
      if (req.method === "GET" && path === "/rate_limit") {
        if (credentialBehaviour.answer === "bad-credentials") {
          return json(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
        }
        const core = { limit: 5000, used: 1, remaining: 4999, reset: Math.floor(Date.now() / 1000) + 3600 };
        const scopes: Record<string, string> = credentialBehaviour.scopes === undefined ? {} : { "x-oauth-scopes": credentialBehaviour.scopes };
        return json(res, 200, { resources: { core }, rate: core }, scopes);
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
    logCalls,
    annotations(jobId, annotations) {
      annotationsByJob.set(jobId, annotations);
    },
    log(jobId, text, ...behaviours) {
      logs.set(jobId, { text: Buffer.from(text, "utf8"), queue: behaviours.length === 0 ? ["ok"] : [...behaviours] });
    },
    logBytesSent: (jobId) => logBytes.get(jobId) ?? 0,
    attemptJobs(runId, attempt, jobs) {
      listings.set(`${runId}/${attempt}`, jobs);
    },
    factCalls: () => calls.filter((c) => ANNOTATIONS_PATH.test(c.path) || JOB_LOGS_PATH.test(c.path) || ATTEMPT_JOBS_PATH.test(c.path)),
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
    runReads(...behaviours) {
      if (behaviours.length === 0) throw new Error("runReads() needs at least one behaviour");
      readQueue = [...behaviours];
    },
    readCalls(runId) {
      return calls.filter((c) => {
        if (c.method !== "GET") return false;
        const m = RUN_PATH.exec(c.path);
        return m !== null && (runId === undefined || Number(m[3]) === runId);
      }).length;
    },
    credentials(behaviour) {
      credentialBehaviour = behaviour;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => downloads.close(() => resolve()));
    },
  };
}
