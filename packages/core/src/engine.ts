import { randomUUID } from "node:crypto";
import type { Config } from "./config.js";
import { parseEvent } from "./event.js";
import { createDryRunClient, createOctokitClient, type GitHubClient } from "./github.js";
import { jsonLogger, type Logger } from "./log.js";
import { decide, settle, type RerunOutcome } from "./machine.js";
import { verifySignature } from "./signature.js";
import { recordKey, type Store } from "./store.js";
import type { Action, RerunAction, RunEvent, RunRecord } from "./types.js";

export interface RerunnerOptions {
  readonly config: Config;
  readonly store: Store;
  /** Defaults to Octokit on config.githubApiUrl with config.githubToken, or a dry run. */
  readonly github?: GitHubClient;
  readonly logger?: Logger;
  /** Epoch milliseconds; injectable for tests. */
  readonly clock?: () => number;
  /** Compare-and-set attempts before answering 503 (default 64; a 256-job matrix contends hard). */
  readonly maxConflicts?: number;
}

export type HeaderValue = string | readonly string[] | undefined;

export interface WebhookRequest {
  /** Header names in lower case, as Node's http module gives them. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** The body exactly as received: the signature is computed over these bytes. */
  readonly rawBody: Buffer | Uint8Array | string;
}

export interface ResponseBody {
  readonly status: number;
  readonly action: Action["type"];
  readonly reason: string;
  readonly delivery: string | null;
  readonly run: string | null;
}

export interface WebhookResponse {
  readonly status: number;
  readonly body: ResponseBody;
}

export interface Rerunner {
  readonly config: Config;
  handle(request: WebhookRequest): Promise<WebhookResponse>;
}

class StoreUnavailable extends Error {}

function header(headers: Readonly<Record<string, HeaderValue>>, name: string): string | null {
  // An embedder's bug (no headers object at all) must still get a clear answer, not a throw.
  if (typeof headers !== "object" || headers === null) return null;
  const value = headers[name];
  const first = typeof value === "string" ? value : value?.[0];
  return first === undefined || first === "" ? null : first;
}

function toText(rawBody: Buffer | Uint8Array | string): string {
  return typeof rawBody === "string" ? rawBody : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString("utf8");
}

function runLabel(event: RunEvent): string {
  return `${event.repo.owner}/${event.repo.name}#${event.runId}`;
}

/** Jittered, growing pause after a lost compare-and-set, so contending writers spread out. */
function backoff(round: number): Promise<void> {
  const ceiling = Math.min(50, 2 ** Math.min(round, 6));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/** Rejects after `ms` with the given error, so a hung store or GitHub cannot hold a delivery. */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  // One promise and one timer per call (not race + finally): this runs for every store call.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The imperative shell around `decide`: verify, parse, read, decide, compare-and-set, call GitHub,
 * record the outcome. `handle` never throws and answers within config.deadlineMs.
 */
export function createRerunner(options: RerunnerOptions): Rerunner {
  const { config, store } = options;
  const clock = options.clock ?? Date.now;
  const given = options.logger ?? jsonLogger();
  // A logger that throws (a full disk, a closed pipe) must never cost a delivery its answer.
  const logger: Logger = (entry) => {
    try {
      given(entry);
    } catch {
      // Nothing better to do with a log line that cannot be written.
    }
  };
  const maxConflicts = options.maxConflicts ?? 64;
  const github =
    options.github ??
    (config.dryRun ? createDryRunClient(logger) : createOctokitClient({ token: config.githubToken, baseUrl: config.githubApiUrl }));

  async function storeCall<T>(work: Promise<T>, deadline: number): Promise<T> {
    try {
      return await withTimeout(work, deadline - clock(), () => new StoreUnavailable("store did not answer before the deadline"));
    } catch (error) {
      if (error instanceof StoreUnavailable) throw error;
      throw new StoreUnavailable(`store failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** get -> decide -> compare-and-set; on conflict re-read and decide again. */
  async function decideAndStore(key: string, event: RunEvent, deadline: number) {
    for (let round = 0; round < maxConflicts; round++) {
      const current = await storeCall(store.get(key), deadline);
      const decision = decide(current?.record, event, config);
      if (!decision.changed || decision.record === undefined) return decision;
      if (await storeCall(store.put(key, decision.record, current?.version), deadline)) return decision;
      await backoff(round);
    }
    throw new StoreUnavailable(`gave up after ${maxConflicts} conflicting writes`);
  }

  async function execute(action: RerunAction, deadline: number): Promise<RerunOutcome> {
    const run = { owner: action.owner, repo: action.repo, runId: action.runId };
    // Leave time to record the outcome before the deadline.
    const callDeadline = deadline - Math.min(1000, config.deadlineMs / 4);
    const signal = AbortSignal.timeout(Math.max(0, callDeadline - clock()));
    // Both calls share one budget; the timeout also covers a client that ignores the signal.
    const bounded = <T>(p: Promise<T>, fallback: T): Promise<T> =>
      withTimeout(p, callDeadline - clock(), () => new Error("timeout")).catch(() => fallback);
    const timedOut = { kind: "transient", message: "GitHub did not answer before the deadline" } as const;
    if (action.verifyFirst) {
      // An earlier call may have reached GitHub and lost its answer: look before calling again.
      const read = await bounded(github.getRun(run, signal), { kind: "unavailable", message: timedOut.message } as const);
      if (read.kind === "unavailable") return { kind: "transient", message: `could not read the run first: ${read.message}` };
      if (read.kind === "not-found") return { kind: "refused", message: read.message };
      if (read.runAttempt > action.attempt) return { kind: "already-done", runAttempt: read.runAttempt };
      if (read.status !== "completed") return { kind: "in-progress", message: `the run is ${read.status}` };
    }
    const result = await bounded(github.rerunFailedJobs(run, signal), timedOut);
    switch (result.kind) {
      case "accepted":
        return options.github === undefined && config.dryRun ? { kind: "accepted", dryRun: true } : { kind: "accepted" };
      case "in-progress":
        return { kind: "in-progress", message: result.message };
      case "forbidden":
      case "not-found":
        return { kind: "refused", message: result.message };
      case "transient":
        return { kind: "transient", message: signal.aborted ? timedOut.message : result.message };
    }
  }

  /**
   * Records the call's outcome within the same deadline (execute left time for it); if the store
   * fails now, the lease expires and a later driver reads the run before calling again.
   */
  async function recordOutcome(key: string, action: RerunAction, outcome: RerunOutcome, event: RunEvent, deadline: number) {
    for (let round = 0; round < maxConflicts; round++) {
      const current = await storeCall(store.get(key), deadline);
      if (current === undefined) break;
      const settled = settle(current.record, action, outcome, event, clock());
      if (await storeCall(store.put(key, settled.record, current.version), deadline)) return settled;
      await backoff(round);
    }
    throw new StoreUnavailable("could not record the rerun outcome");
  }

  async function processDelivery(request: WebhookRequest, started: number, handlerId: string): Promise<{ response: WebhookResponse; event?: RunEvent }> {
    const deliveryId = header(request.headers, "x-github-delivery");
    const answer = (status: number, reason: string, extra: Partial<ResponseBody> = {}): WebhookResponse => ({
      status,
      body: { status, action: "none", reason, delivery: deliveryId, run: null, ...extra },
    });
    if (!verifySignature(config.secrets, request.rawBody, header(request.headers, "x-hub-signature-256"))) {
      const present = header(request.headers, "x-hub-signature-256") !== null;
      return { response: answer(403, present ? "X-Hub-Signature-256 does not match the body" : "X-Hub-Signature-256 header is missing") };
    }
    let payload: unknown;
    try {
      payload = JSON.parse(toText(request.rawBody));
    } catch {
      return { response: answer(400, "body is not valid JSON (set the webhook content type to application/json)") };
    }
    const parsed = parseEvent(
      { eventName: header(request.headers, "x-github-event"), deliveryId: deliveryId ?? handlerId, receivedAt: started, handlerId },
      payload,
    );
    if (parsed.kind === "ignored") return { response: answer(204, parsed.reason) };
    const event = parsed.event;
    const run = runLabel(event);
    const deadline = started + config.deadlineMs;
    const key = recordKey(event.repo.id, event.runId);
    let decision;
    try {
      decision = await decideAndStore(key, event, deadline);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A write that timed out may still land later; either way a redelivery is safe (the memo
      // answers it, and a pending rerun is read back from GitHub before any second call).
      return { response: answer(503, `the store could not be updated (${message}); redeliver it from GitHub: nothing is lost and no rerun is made twice`, { run }), event };
    }
    if (decision.action.type === "none") {
      return { response: answer(decision.status, decision.reason, { run }), event };
    }
    const action = decision.action;
    const outcome = await execute(action, deadline);
    try {
      const settled = await recordOutcome(key, action, outcome, event, deadline);
      return { response: answer(settled.status, settled.reason, { run, action: action.type }), event };
    } catch (error) {
      const settledAnyway = settle(decision.record as RunRecord, action, outcome, event, clock());
      logger({
        level: "error",
        msg: "rerun outcome not recorded; the pending rerun will be verified before any further call",
        error: error instanceof Error ? error.message : String(error),
        delivery: deliveryId,
        run,
      });
      return { response: answer(settledAnyway.status, settledAnyway.reason, { run, action: action.type }), event };
    }
  }

  function logDelivery(request: WebhookRequest, response: WebhookResponse, event: RunEvent | undefined, started: number): void {
    logger({
      level: response.status >= 500 ? "error" : response.status === 403 || response.status === 400 ? "warn" : "info",
      msg: "delivery",
      delivery: response.body.delivery,
      event: header(request.headers, "x-github-event"),
      repo: event ? `${event.repo.owner}/${event.repo.name}` : null,
      run: event?.runId ?? null,
      attempt: event?.attempt ?? null,
      job: event?.kind === "workflow_job" ? event.job.name : null,
      status: response.status,
      reason: response.body.reason,
      action: response.body.action,
      durationMs: clock() - started,
    });
  }

  return {
    config,
    async handle(request) {
      let started = Number.NaN;
      let outcome: { response: WebhookResponse; event?: RunEvent };
      try {
        started = clock();
        outcome = await processDelivery(request, started, randomUUID());
      } catch (error) {
        // Nothing above should throw (a broken injected clock?); if it does, the answer is still a clear 503, never a rejected promise an adapter turns into a 500.
        outcome = { response: internalError(request, error) };
      }
      logDelivery(request, outcome.response, outcome.event, started);
      return outcome.response;
    },
  };
}

function internalError(request: WebhookRequest, error: unknown): WebhookResponse {
  const status = 503;
  const delivery = header(request.headers, "x-github-delivery");
  const reason = `internal error: ${error instanceof Error ? error.message : String(error)}`;
  return { status, body: { status, action: "none", reason, delivery, run: null } };
}
