import { randomUUID } from "node:crypto";
import type { Config } from "../domain/config.js";
import { settle, type RerunOutcome } from "../domain/machine.js";
import { recordKey } from "../domain/record.js";
import type { Action, RerunAction, RunEvent, RunRecord } from "../domain/types.js";
import type { GitHubAccess } from "../ports/github.js";
import type { Logger } from "../ports/logger.js";
import type { Notifier } from "../ports/notifier.js";
import type { Observer } from "../ports/observer.js";
import type { Store } from "../ports/store.js";
import type { WebhookResponse } from "../webhook/answer.js";
import { echoedHeader, readDelivery, type WebhookRequest } from "../webhook/delivery.js";
import { createEnricher } from "./enrich.js";
import { createJobHistories } from "./job-history.js";
import { executeRerun } from "./execute.js";
import { createRepoConfigs } from "./repo-configs.js";
import { createRunQueue } from "./run-queue.js";
import { createEventScope } from "./scope.js";
import { backoff, withTimeout } from "./timing.js";
import { createVisibility } from "./visibility.js";

/** What the engine runs on, every part given: compose.ts fills in the defaults and wires them. */
export interface EngineParts {
  readonly config: Config;
  readonly store: Store;
  /** Which GitHub clients serve an event (a token, or the App installation the delivery names). */
  readonly access: GitHubAccess;
  /** Never throws (see guards.ts). */
  readonly logger: Logger;
  /** Never throws (see guards.ts): deliveries, rerun outcomes, store conflicts (metrics); read-only. */
  readonly observe: Observer;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** Compare-and-set attempts before answering 503. */
  readonly maxConflicts: number;
  /** Reruns are logged by a client that calls nothing: the answers say "would re-run". */
  readonly dryRun: boolean;
  /** Sends a message when a run is given up on or re-run (NOTIFY_URL). */
  readonly notifier: Notifier | undefined;
  /** Keeps a notification's sending after the answer (a server); without it the send is awaited within the deadline. */
  readonly background: ((work: Promise<unknown>) => void) | undefined;
}

export interface Rerunner {
  readonly config: Config;
  /** A webhook delivery: verified, parsed, then processed as an event. */
  handle(request: WebhookRequest): Promise<WebhookResponse>;
  /**
   * An event from another source (the sweep): the same decide -> compare-and-set -> execute ->
   * settle path as a delivery. Its `receivedAt` starts the deadline.
   */
  handleEvent(event: RunEvent): Promise<WebhookResponse>;
}

class StoreUnavailable extends Error {}

const storeLate = (): Error => new StoreUnavailable("store did not answer before the deadline");
const storeFailed = (error: unknown): Error => new StoreUnavailable(`store failed: ${error instanceof Error ? error.message : String(error)}`);

/** The engine's answer to an event: its reason, then the scope's note (a configuration file that could not be used). */
function answerOf(event: RunEvent, run: string, note: string | null, status: number, reason: string, action: Action["type"] = "none"): WebhookResponse {
  const full = note === null ? reason : `${reason}; ${note}`;
  return { status, body: { status, action, reason: full, delivery: event.deliveryId, run } };
}

function runLabel(event: RunEvent): string {
  return `${event.repo.owner}/${event.repo.name}#${event.runId}`;
}

/**
 * The imperative shell around `decide`, a short pipeline: decide and compare-and-set, execute
 * the action on GitHub, settle its outcome. `handle` and `handleEvent` never throw and answer
 * within config.deadlineMs.
 */
export function createEngine(parts: EngineParts): Rerunner {
  const { config, store, access, logger, observe, clock, maxConflicts, dryRun } = parts;
  const scopeOf = createEventScope(config, access, createRepoConfigs(config, clock));
  const histories = createJobHistories(store, clock);
  const visibility = createVisibility({ config, store, clock, observe, logger, notifier: parts.notifier, background: parts.background, recorded: histories.recorded });
  const enrich = createEnricher({
    clock,
    histories,
    readRecord: async (event, until) => (await storeCall(store.get(recordKey(event.repo.id, event.runId)), until))?.record,
  });

  function storeCall<T>(work: Promise<T>, deadline: number): Promise<T> {
    return withTimeout(work, deadline - clock(), storeLate, storeFailed);
  }

  /** get -> decide -> compare-and-set, the deliveries of one run that arrive together decided together. */
  const decideAndStore = createRunQueue({ store, clock, storeCall, observe, maxConflicts });

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
      observe({ type: "store-conflict", operation: "settle" });
      await backoff(round);
    }
    throw new StoreUnavailable("could not record the rerun outcome");
  }

  async function processEvent(event: RunEvent): Promise<WebhookResponse> {
    const run = runLabel(event);
    const deadline = event.receivedAt + config.deadlineMs;
    const scope = await scopeOf(event, deadline);
    if (scope.kind === "refused") return answerOf(event, run, null, 204, scope.reason);
    const { note } = scope;
    const key = recordKey(event.repo.id, event.runId);
    let decided;
    try {
      // The policy's facts first (no request at all under the default policy), then the pure part.
      decided = await decideAndStore(key, await enrich(event, deadline, scope), scope.config, deadline);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A write that timed out may still land later; either way a redelivery is safe (the memo
      // answers it, and a pending rerun is read back from GitHub before any second call).
      return answerOf(event, run, note, 503, `the store could not be updated (${message}); redeliver it from GitHub: nothing is lost and no rerun is made twice`);
    }
    const { decision, prior } = decided;
    if (decision.action.type === "none") {
      await visibility.decided(event, decision, prior, scope.config, deadline);
      return answerOf(event, run, note, decision.status, decision.reason, decision.answerAction);
    }
    const action = decision.action;
    const outcome = await executeRerun(scope.github, action, deadline, { config: scope.config, clock, dryRun });
    try {
      const settled = await recordOutcome(key, action, outcome, event, deadline);
      await visibility.settled(event, outcome, settled, action.attempt, scope.config, deadline);
      return answerOf(event, run, note, settled.status, settled.reason, action.type);
    } catch (error) {
      const settledAnyway = settle(decision.record as RunRecord, action, outcome, event, clock());
      logger({
        level: "error",
        msg: "rerun outcome not recorded; the pending rerun will be verified before any further call",
        error: error instanceof Error ? error.message : String(error),
        delivery: event.deliveryId,
        run,
      });
      return answerOf(event, run, note, settledAnyway.status, settledAnyway.reason, action.type);
    }
  }

  function logDelivery(source: string | null, response: WebhookResponse, event: RunEvent | undefined, started: number): void {
    observe({ type: "delivery", event: source, status: response.status, durationMs: clock() - started });
    logger({
      level: response.status >= 500 ? "error" : response.status === 403 || response.status === 400 ? "warn" : "info",
      msg: "delivery",
      delivery: response.body.delivery,
      event: source,
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
      let event: RunEvent | undefined;
      let response: WebhookResponse;
      // Never rejects: nothing should throw (a broken injected clock?), but if it does the answer is
      // still a clear 503, never a rejected promise an adapter turns into a 500.
      try {
        started = clock();
        const intake = readDelivery(request, config.secrets, started, randomUUID());
        if (intake.kind === "answer") {
          const { status, reason } = intake;
          response = { status, body: { status, action: "none", reason, delivery: echoedHeader(request.headers, "x-github-delivery"), run: null } };
        } else {
          event = intake.event;
          response = await processEvent(event);
        }
      } catch (error) {
        response = internalError(echoedHeader(request.headers, "x-github-delivery"), error);
      }
      logDelivery(echoedHeader(request.headers, "x-github-event"), response, event, started);
      return response;
    },
    async handleEvent(event) {
      let response: WebhookResponse;
      try {
        response = await processEvent(event);
      } catch (error) {
        response = internalError(event.deliveryId, error);
      }
      logDelivery(event.kind, response, event, event.receivedAt);
      return response;
    },
  };
}

function internalError(delivery: string | null, error: unknown): WebhookResponse {
  const status = 503;
  const reason = `internal error: ${error instanceof Error ? error.message : String(error)}`;
  return { status, body: { status, action: "none", reason, delivery, run: null } };
}
