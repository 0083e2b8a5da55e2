import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createAppAuthority, type AppAuthority, type FakeAppOptions } from "./github-app.js";
import { createFakeContents, type FakeContents } from "./github-contents.js";
import { createFakeHookDeliveries, type FakeHookDeliveries } from "./github-deliveries.js";

export type { FakeAppOptions } from "./github-app.js";

export interface FakeGitHubOptions {
  /** Serve under a path prefix, as GitHub Enterprise Server does (`/api/v3`); other paths 404. */
  readonly prefix?: string;
  /**
   * Act as the API of a GitHub App: `POST /app/installations/{id}/access_tokens` checks the
   * App's JWT and issues installation tokens, and every other call needs a live one.
   */
  readonly app?: FakeAppOptions;
}

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
 * - perform-and-hang: performs the rerun and never answers (until the server closes).
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
  | "perform-then-hang"
  | "perform-and-hang";

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
  /** Path and query string, as sent. */
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  /** The token of the Authorization header (`token X` or `bearer X`), or null. */
  readonly token: string | null;
}

export interface FakeRun {
  runAttempt: number;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  /** While set and in the future, the run is in progress and a rerun POST answers 403 "already running". */
  completesAt?: number;
  /** What the run read also reports (defaults as the payload helpers: "master", "CI", "octocat"). */
  headBranch?: string | null;
  name?: string | null;
  actor?: string | null;
}

/** A run as `GET /repos/{o}/{r}/actions/runs` lists it; every field but `id` has a default. */
export interface FakeListedRun {
  readonly id: number;
  /** Default 186853002, the repository id of the webhook payload helpers. */
  readonly repoId?: number;
  readonly name?: string | null;
  readonly headBranch?: string | null;
  readonly runAttempt?: number;
  readonly status?: "queued" | "in_progress" | "completed";
  readonly conclusion?: string | null;
  /** ISO times; default: now. `updatedAt` is when the run finished, for a completed run. */
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly triggeringActor?: string | null;
  readonly actor?: string | null;
  /** Fields laid over the listed JSON as they are (to list malformed runs). */
  readonly raw?: Readonly<Record<string, unknown>>;
  /**
   * Fields laid over the listed JSON as JSON text, spliced into the answer unparsed: values
   * JSON.stringify cannot make, such as 200,000 nested arrays or a number beyond 2^53.
   */
  readonly rawJson?: Readonly<Record<string, string>>;
}

/** A listing answer given as it is, body and all (a 200 without `workflow_runs`, an HTML page). */
export interface FakeListingAnswer {
  readonly status?: number;
  readonly body: string;
  /** Default `application/json; charset=utf-8`. */
  readonly contentType?: string;
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
  /** Makes the run in progress for `ms` from now: until then a rerun POST answers 403 "already running". */
  runningFor(runId: number, ms: number): void;
  /** Delays every rerun answer by `ms` (0: none), so other deliveries can arrive while one waits. */
  rerunDelay(ms: number): void;
  /** Lists runs under the repository `owner/name` (created on first use; others answer 404). */
  addRuns(fullName: string, runs: readonly FakeListedRun[]): void;
  /** `GET .../actions/runs` answers `status` for page `page` of `owner/name`, the next `times` times (status 0: never answers). */
  failListing(fullName: string, page: number, status?: number, times?: number): void;
  /** `GET .../actions/runs` answers `answer` (default status 200) for page `page` of `owner/name`, the next `times` times (default 1). */
  answerListing(fullName: string, page: number, answer: FakeListingAnswer, times?: number): void;
  /** The next `times` list requests answer 429 with this Retry-After (seconds). */
  rateLimitListing(retryAfterSeconds: number, times?: number): void;
  /** The default branch `GET /repos/{o}/{r}` reports for a repository with listed runs (default "master"). */
  defaultBranch(fullName: string, branch: string): void;
  /** The list requests (`GET .../actions/runs`) received, optionally for one repository. */
  listCalls(fullName?: string): RecordedCall[];
  /** Repository files served by the contents API (ETags, 304s, 404s); null removes one. */
  readonly files: FakeContents;
  /** The App side (access tokens); null when started without `app`. */
  readonly app: AppAuthority | null;
  /** The App's webhook delivery log (`/app/hook/deliveries`) and its redeliveries; null when started without `app`. */
  readonly hooks: FakeHookDeliveries | null;
  close(): Promise<void>;
}

const LIST_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs$/;
const REPO_PATH = /^\/repos\/([^/]+)\/([^/]+)$/;
const DEFAULT_REPO_ID = 186853002;

/** `created` as GitHub's search syntax gives it: `>=T`, `>T`, `<=T`, `<T`, `T1..T2`, or a date. */
function createdFilter(raw: string | null): ((t: number) => boolean) | "invalid" {
  if (raw === null || raw === "") return () => true;
  const time = (s: string): number => Date.parse(s);
  const range = /^(.+)\.\.(.+)$/.exec(raw);
  if (range) {
    const [from, to] = [time(range[1]!), time(range[2]!)];
    return Number.isNaN(from) || Number.isNaN(to) ? "invalid" : (t) => t >= from && t <= to;
  }
  const cmp = /^(>=|<=|>|<)?(.+)$/.exec(raw)!;
  const at = time(cmp[2]!);
  if (Number.isNaN(at)) return "invalid";
  switch (cmp[1]) {
    case ">=":
      return (t) => t >= at;
    case ">":
      return (t) => t > at;
    case "<=":
      return (t) => t <= at;
    case "<":
      return (t) => t < at;
    default:
      // A bare date means that whole day.
      return (t) => t >= at && t < at + 86_400_000;
  }
}

const RERUN_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/rerun-failed-jobs$/;
const ANNOTATIONS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)\/annotations$/;
const JOB_LOGS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/jobs\/(\d+)\/logs$/;
const ATTEMPT_JOBS_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/attempts\/(\d+)\/jobs$/;
const DOWNLOAD_PATH = /^\/logs\/(\d+)$/;
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
export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const prefix = (options.prefix ?? "").replace(/\/+$/, "");
  const app = options.app === undefined ? null : createAppAuthority(options.app);
  const hooks = options.app === undefined ? null : createFakeHookDeliveries(options.app.id);
  const files = createFakeContents();
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
    logCalls.push({ method: req.method ?? "GET", path, url: req.url ?? "/", headers: req.headers, body: "", token: null });
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
  let delayMs = 0;
  const repos = new Map<string, Map<number, FakeListedRun>>();
  const listFailures: { repo: string; page: number; status: number; left: number; answer?: FakeListingAnswer }[] = [];
  let rateLimited = { retryAfter: 0, left: 0 };
  const defaultBranches = new Map<string, string>();

  const runOf = (runId: number): FakeRun => {
    let run = runs.get(runId);
    if (run === undefined) {
      run = { runAttempt: 1, status: "completed", conclusion: "failure" };
      runs.set(runId, run);
    }
    return run;
  };
  /** The run now: one made in progress by runningFor completes (failed) once its time has come. */
  const current = (runId: number): FakeRun => {
    const run = runOf(runId);
    if (run.completesAt !== undefined && Date.now() >= run.completesAt) {
      delete run.completesAt;
      run.status = "completed";
      run.conclusion = "failure";
    }
    return run;
  };
  const nextBehaviour = (): RerunBehaviour => (queue.length > 1 ? queue.shift()! : queue[0]!);
  const updatedAt = new Map<number, string>();
  const perform = (runId: number): void => {
    const run = runOf(runId);
    run.runAttempt += 1;
    run.status = "queued";
    run.conclusion = null;
    updatedAt.set(runId, new Date().toISOString());
    performedByRun.set(runId, (performedByRun.get(runId) ?? 0) + 1);
  };

  const repoKey = (owner: string, name: string): string => `${owner}/${name}`.toLowerCase();
  /** JSON text of `rawJson` fields, stood in for by these strings until the body is serialised. */
  const RAW_JSON = /"\\u0000rawJson:(\d+)"/g;
  const listedJson = (owner: string, name: string, listed: FakeListedRun, rawTexts: string[]): Record<string, unknown> => {
    const spliced = Object.fromEntries(Object.entries(listed.rawJson ?? {}).map(([key, text]) => [key, `\u0000rawJson:${rawTexts.push(text) - 1}`]));
    const state = current(listed.id);
    const created = listed.createdAt ?? new Date().toISOString();
    const actor = (login: string | null | undefined) => (login === null || login === undefined ? null : { login, id: 1, type: "User" });
    return {
      id: listed.id,
      name: listed.name === undefined ? "CI" : listed.name,
      head_branch: listed.headBranch === undefined ? "master" : listed.headBranch,
      run_attempt: state.runAttempt,
      status: state.status,
      conclusion: state.conclusion,
      event: "push",
      created_at: created,
      run_started_at: created,
      updated_at: updatedAt.get(listed.id) ?? listed.updatedAt ?? created,
      actor: actor(listed.actor === undefined ? "octocat" : listed.actor),
      triggering_actor: actor(listed.triggeringActor === undefined ? (listed.actor === undefined ? "octocat" : listed.actor) : listed.triggeringActor),
      repository: { id: listed.repoId ?? DEFAULT_REPO_ID, name, full_name: `${owner}/${name}`, owner: { login: owner } },
      ...listed.raw,
      ...spliced,
    };
  };

  /** `GET /repos/{o}/{r}/actions/runs`, as GitHub answers it (newest first, Link pagination, ETag). */
  const listRuns = (req: IncomingMessage, res: ServerResponse, owner: string, name: string, query: URLSearchParams): void => {
    const rate = { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600) };
    if (rateLimited.left > 0) {
      rateLimited.left--;
      return json(res, 429, { message: "You have exceeded a secondary rate limit." }, { ...rate, "retry-after": String(rateLimited.retryAfter) });
    }
    const listed = repos.get(repoKey(owner, name));
    if (listed === undefined) return json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/actions/workflow-runs" }, rate);
    const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
    const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
    const failure = listFailures.find((f) => f.repo === repoKey(owner, name) && f.page === page && f.left > 0);
    if (failure !== undefined) {
      failure.left--;
      if (failure.status === 0) return; // never answered; closed with the server
      if (failure.answer !== undefined) {
        const { body, contentType = "application/json; charset=utf-8" } = failure.answer;
        res.writeHead(failure.status, { ...rate, "content-type": contentType, "content-length": Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      return json(res, failure.status, { message: "Server Error" }, rate);
    }
    const created = createdFilter(query.get("created"));
    if (created === "invalid") return json(res, 422, { message: `Invalid created filter: ${query.get("created")}` }, rate);
    const status = query.get("status");
    const rawTexts: string[] = [];
    const runs = [...listed.values()]
      .map((r) => listedJson(owner, name, r, rawTexts))
      .filter((r) => status === null || r.status === status || r.conclusion === status)
      .filter((r) => created(Date.parse(String(r.created_at))))
      .sort((a, b) => Date.parse(String(b.created_at)) - Date.parse(String(a.created_at)) || Number(b.id) - Number(a.id));
    const lastPage = Math.max(1, Math.ceil(runs.length / perPage));
    const body = JSON.stringify({ total_count: runs.length, workflow_runs: runs.slice((page - 1) * perPage, page * perPage) }).replace(
      RAW_JSON,
      (_, n: string) => rawTexts[Number(n)] ?? "null",
    );
    const etag = `W/"${createHash("sha1").update(body).digest("hex")}"`;
    const link = (n: number, rel: string): string => {
      const q = new URLSearchParams(query);
      q.set("page", String(n));
      return `<http://${req.headers.host ?? "127.0.0.1"}/repos/${owner}/${name}/actions/runs?${q.toString()}>; rel="${rel}"`;
    };
    const links = [
      ...(page < lastPage ? [link(page + 1, "next"), link(lastPage, "last")] : []),
      ...(page > 1 ? [link(1, "first"), link(page - 1, "prev")] : []),
    ];
    const headers: Record<string, string> = { ...rate, etag, ...(links.length > 0 ? { link: links.join(", ") } : {}) };
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const fullPath = url.split("?")[0]!;
      const authorization = req.headers.authorization;
      const token = typeof authorization === "string" ? (/^(?:token|bearer)\s+(\S+)$/i.exec(authorization)?.[1] ?? null) : null;
      const body = Buffer.concat(chunks).toString("utf8");
      calls.push({ method: req.method ?? "GET", path: fullPath, url, headers: req.headers, body, token });
      if (prefix !== "" && !fullPath.startsWith(`${prefix}/`)) return json(res, 404, { message: `Not Found (this API is under ${prefix})` });
      const path = fullPath.slice(prefix.length);
      if (app !== null && hooks !== null && hooks.handle(req, res, path, url, app.jwtProblem(token), (status, answer, headers) => json(res, status, answer, headers))) return;
      if (app !== null) {
        const denied = app.handle(req.method ?? "GET", path, token, (status, answer) => json(res, status, answer));
        if (denied) return;
      }
      if (files.handle(req.method ?? "GET", path, req.headers["if-none-match"], res)) return;
      const list = LIST_PATH.exec(path);
      if (req.method === "GET" && list) {
        return listRuns(req, res, decodeURIComponent(list[1]!), decodeURIComponent(list[2]!), new URL(url, "http://127.0.0.1").searchParams);
      }
      const rerun = RERUN_PATH.exec(path);
      if (req.method === "POST" && rerun) {
        const runId = Number(rerun[3]);
        // Whether the run is still running is decided on arrival, as GitHub does; the answer may be delayed.
        const running = current(runId).completesAt !== undefined;
        if (delayMs > 0) {
          setTimeout(() => answerRerun(req, res, runId, running), delayMs);
          return;
        }
        return answerRerun(req, res, runId, running);
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
        const state = current(runId);
        const actor = state.actor === undefined ? "octocat" : state.actor;
        return json(res, 200, {
          id: runId,
          run_attempt: state.runAttempt,
          status: state.status,
          conclusion: state.conclusion,
          head_branch: state.headBranch === undefined ? "master" : state.headBranch,
          name: state.name === undefined ? "CI" : state.name,
          actor: actor === null ? null : { login: actor, id: 1, type: "User" },
          triggering_actor: actor === null ? null : { login: actor, id: 1, type: "User" },
        });
      }
      const repository = REPO_PATH.exec(path);
      if (req.method === "GET" && repository) {
        const [owner, name] = [decodeURIComponent(repository[1]!), decodeURIComponent(repository[2]!)];
        const key = repoKey(owner, name);
        if (!repos.has(key)) return json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/repos/repos#get-a-repository" });
        return json(res, 200, { id: DEFAULT_REPO_ID, name, full_name: `${owner}/${name}`, owner: { login: owner }, default_branch: defaultBranches.get(key) ?? "master" });
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

  function answerRerun(req: IncomingMessage, res: ServerResponse, runId: number, running: boolean): void {
    // A run made in progress by runningFor: GitHub refuses to re-run a run that has not completed.
    if (running) {
      return json(res, 403, { message: `This workflow is already running`, documentation_url: "https://docs.github.com/rest" });
    }
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
      case "secondary-rate-limit":
        // GitHub's wording ("Rate limits for the REST API", docs.github.com); the request id varies.
        return json(res, 403, {
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0401:2F3A:1B2C3D:4E5F60:6789ABCD.",
          documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        }, { "x-ratelimit-remaining": "4999", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600) });
      case "bad-credentials":
        return json(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
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
      case "perform-then-hang":
      case "perform-and-hang":
        perform(runId);
        return; // never answered; closed with the server
    }
  }
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const countRerunPosts = (runId?: number): number =>
    calls.filter((c) => {
      if (c.method !== "POST") return false;
      const m = RERUN_PATH.exec(c.path.slice(prefix.length));
      return m !== null && (runId === undefined || Number(m[3]) === runId);
    }).length;

  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    files,
    app,
    hooks,
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
    runningFor(runId, ms) {
      const run = runOf(runId);
      run.status = "in_progress";
      run.conclusion = null;
      run.completesAt = Date.now() + ms;
    },
    rerunDelay(ms) {
      delayMs = ms;
    },
    addRuns(fullName, added) {
      const [owner, name] = fullName.split("/");
      if (!owner || !name) throw new Error(`addRuns needs owner/name, got "${fullName}"`);
      const key = repoKey(owner, name);
      const listed = repos.get(key) ?? new Map<number, FakeListedRun>();
      repos.set(key, listed);
      for (const r of added) {
        listed.set(r.id, r);
        const state = runOf(r.id);
        state.runAttempt = r.runAttempt ?? 1;
        state.status = r.status ?? "completed";
        state.conclusion = r.conclusion === undefined ? (state.status === "completed" ? "failure" : null) : r.conclusion;
      }
    },
    defaultBranch(fullName, branch) {
      defaultBranches.set(fullName.toLowerCase(), branch);
    },
    failListing(fullName, page, status = 502, times = Number.POSITIVE_INFINITY) {
      listFailures.push({ repo: fullName.toLowerCase(), page, status, left: times });
    },
    answerListing(fullName, page, answer, times = 1) {
      listFailures.push({ repo: fullName.toLowerCase(), page, status: answer.status ?? 200, left: times, answer });
    },
    rateLimitListing(retryAfterSeconds, times = 1) {
      rateLimited = { retryAfter: retryAfterSeconds, left: times };
    },
    listCalls(fullName) {
      return calls.filter((c) => {
        const m = c.method === "GET" ? LIST_PATH.exec(c.path) : null;
        return m !== null && (fullName === undefined || `${m[1]}/${m[2]}`.toLowerCase() === fullName.toLowerCase());
      });
    },
    async close() {
      hooks?.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => downloads.close(() => resolve()));
    },
  };
}
