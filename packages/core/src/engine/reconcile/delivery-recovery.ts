import { randomUUID } from "node:crypto";
import { setTimeout as sleepFor } from "node:timers/promises";
import { DELIVERY_LOG_DAYS, judgeDeliveries, nextMark, readLoggedDelivery, redeliveryDue, type LoggedDelivery } from "../../domain/delivery-log.js";
import type { DeliveryLog } from "../../ports/github.js";
import type { Logger } from "../../ports/logger.js";
import type { Observer } from "../../ports/observer.js";
import type { Store } from "../../ports/store.js";
import { claimRedelivery, DELIVERY_LOG_LEASE_KEY, loadMark, loadMemo, loadPause, saveMark, savePause, undoClaim } from "./delivery-log-state.js";
import { keepLease, takeLease, type LeaseKeeper } from "./lease.js";
import { isoSeconds, pauseUntil, problem, type ProblemTally } from "./tally.js";

/** GitHub's largest page of the delivery log. */
const PER_PAGE = 100;
/** One pass at a time across instances; renewed after every page and while redeliveries are paced. */
const LEASE_MS = 120_000;
const DAY_MS = 86_400_000;
/** GitHub asks for at least a second between mutating requests (a POST also costs 5 points of the secondary limit). */
const REDELIVERY_GAP_MS = 1000;

export interface DeliveryRecoverySummary {
  /** Log entries read above the mark, inside the window. */
  readonly deliveriesRead: number;
  readonly pages: number;
  /** HTTP requests: log pages and redeliveries. */
  readonly requests: number;
  /** GUIDs of workflow_job and workflow_run whose every attempt went unanswered or got a 5xx, inside the window. */
  readonly lostFound: number;
  /** Redeliveries asked of GitHub (202, or no answer: it may have queued them). */
  readonly redelivered: number;
  /** DRY_RUN: lost GUIDs that would have been redelivered (GitHub not asked). */
  readonly wouldRedeliver: number;
  /** Not redelivered, by why: answered 4xx, lost before the window, already redelivered MAX_REDELIVERIES times, redelivered and not logged yet. */
  readonly skipped: { readonly refused: number; readonly tooOld: number; readonly capReached: number; readonly inFlight: number };
  readonly errors: number;
  /** One line per error and skipped entry (at most 50). */
  readonly problems: readonly string[];
  /** No request to the App's endpoints before this (epoch ms), or null. */
  readonly pauseUntil: number | null;
  /** The log could not be reached at all. */
  readonly unreachable: boolean;
  /** GitHub refused the App's JWT. */
  readonly unauthorized: boolean;
}

export interface DeliveryRecoveryOptions {
  readonly log: DeliveryLog;
  readonly store: Store;
  readonly logger: Logger;
  /** SWEEP_LOOKBACK_H: how far back the first pass looks (at most the log's 3 days). */
  readonly lookbackMs: number;
  /** DRY_RUN: the log is read and judged, nothing is redelivered, and the mark stays. */
  readonly dryRun: boolean;
  readonly observer?: Observer | undefined;
  readonly clock?: () => number;
  /** Names this instance in the pass lease (default: a random id). */
  readonly holder?: string | undefined;
  /** Waits between two redeliveries (default 1 s); the bench passes a virtual clock's. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface DeliveryRecovery {
  /** One pass over the delivery log, logged as one `sweep` line. Never throws; an aborted signal stops it between requests. */
  recover(signal?: AbortSignal): Promise<DeliveryRecoverySummary>;
}

interface Tally extends ProblemTally {
  deliveriesRead: number;
  pages: number;
  requests: number;
  lostFound: number;
  redelivered: number;
  wouldRedeliver: number;
  skipped: { refused: number; tooOld: number; capReached: number; inFlight: number };
  noAnswer: number;
  answered: number;
  unauthorized: boolean;
}

/** What became of one lost GUID: nothing more will be done ("settled"), its fate shows in a later attempt ("open"), or open and the pass stops. */
type GuidOutcome = "settled" | "open" | "stop";

async function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  await sleepFor(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * Recovers lost deliveries from the GitHub App's delivery log, one request for every installation
 * and repository: reads the log back to the last pass's mark, finds the GUIDs of workflow_job and
 * workflow_run that never got an answer (no connection, a timeout, a 5xx), and asks GitHub to
 * redeliver each, paced, at most MAX_REDELIVERIES times. A redelivery takes the normal signed
 * path, so one of something already handled is answered from the record. The mark, the pass
 * lease, a pause GitHub asked for and each GUID's redelivery memo live in the store
 * (delivery-log-state.ts): across instances each lost attempt is redelivered once. The mark moves
 * only after a pass that read down to it, and never past a lost GUID whose fate is still open.
 */
export function createDeliveryRecovery(options: DeliveryRecoveryOptions): DeliveryRecovery {
  const { log, store, logger } = options;
  const clock = options.clock ?? Date.now;
  const holder = options.holder ?? randomUUID();
  const sleep = options.sleep ?? defaultSleep;
  let lastRedeliveryAt = Number.NEGATIVE_INFINITY;

  /** Reads pages newest first down to the mark (or the floor); `complete` when it got there. */
  async function readLog(mark: number | null, floor: number, tally: Tally, lease: LeaseKeeper, signal: AbortSignal) {
    const entries: LoggedDelivery[] = [];
    let cursor: string | null = null;
    for (;;) {
      if (signal.aborted) {
        problem(tally, "stopped mid-pass (shutting down); the next pass reads on from the mark", false);
        return { entries, complete: false };
      }
      const result = await log.listPage(cursor, PER_PAGE, signal);
      tally.requests++;
      if (result.kind === "unavailable" && !result.answered) tally.noAnswer++;
      else tally.answered++;
      switch (result.kind) {
        case "unavailable":
          problem(tally, `delivery log page ${tally.pages + 1}: ${result.message}; the mark stays, the next pass reads it again`);
          return { entries, complete: false };
        case "unauthorized":
          tally.unauthorized = true;
          problem(tally, result.message);
          return { entries, complete: false };
        case "rate-limited":
          pauseUntil(tally, result.until);
          problem(tally, `${result.message}; the delivery log is read again after ${isoSeconds(result.until)}`);
          return { entries, complete: false };
        case "page":
          break;
      }
      tally.pages++;
      // The hour's budget nearly used up: this page is judged, nothing more is asked of GitHub until the reset.
      if (result.slowDownUntil !== null) pauseUntil(tally, result.slowDownUntil);
      let reached = false;
      for (const raw of result.entries) {
        const entry = readLoggedDelivery(raw);
        if (entry.kind === "skipped") {
          problem(tally, `${entry.reason}: skipped`, false);
          continue;
        }
        if (mark !== null && entry.id <= mark) {
          reached = true;
          break;
        }
        // Older than the window: kept to judge its GUID too old, and the last page read.
        if (entry.deliveredAt < floor) reached = true;
        else tally.deliveriesRead++;
        entries.push(entry);
      }
      if (reached || result.nextCursor === null) return { entries, complete: true };
      if (result.slowDownUntil !== null) {
        problem(tally, `rate limit nearly used up; the delivery log is read on after ${isoSeconds(result.slowDownUntil)}`);
        return { entries, complete: false };
      }
      if (!(await lease.keep(true))) {
        problem(tally, "the pass lease was lost to another instance mid-pass; it continues there", false);
        return { entries, complete: false };
      }
      cursor = result.nextCursor;
    }
  }

  /** Claims and redelivers one lost GUID. */
  async function recoverGuid(latest: LoggedDelivery, tally: Tally, signal: AbortSignal): Promise<GuidOutcome> {
    const { memo, version } = await loadMemo(store, latest.guid);
    const due = redeliveryDue(latest, memo, clock());
    if (due.kind === "in-flight") {
      tally.skipped.inFlight++;
      return "open";
    }
    if (due.kind === "cap-reached") {
      tally.skipped.capReached++;
      problem(tally, `${latest.event} delivery ${latest.guid}: redelivered ${memo?.count ?? 0} times and lost again: left alone`, false);
      return "settled";
    }
    if (options.dryRun) {
      tally.wouldRedeliver++;
      return "open";
    }
    // The claim comes first: an instance that loses it leaves the GUID to the one that won.
    if (!(await claimRedelivery(store, latest.guid, due.next, version, clock()))) {
      problem(tally, `${latest.event} delivery ${latest.guid}: claimed by another instance meanwhile`, false);
      return "open";
    }
    const wait = lastRedeliveryAt + REDELIVERY_GAP_MS - clock();
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) {
      await undoClaim(store, latest.guid, memo, clock());
      return "stop";
    }
    lastRedeliveryAt = clock();
    const result = await log.redeliver(latest.id, signal);
    tally.requests++;
    switch (result.kind) {
      case "accepted":
        tally.redelivered++;
        options.observer?.({ type: "redelivery", outcome: "requested" });
        if (result.slowDownUntil !== null) pauseUntil(tally, result.slowDownUntil);
        return "open";
      case "unavailable":
        // GitHub may have queued it: the claim counts, and its attempt is awaited like an accepted one's.
        tally.redelivered++;
        options.observer?.({ type: "redelivery", outcome: "failed" });
        problem(tally, `${latest.event} delivery ${latest.guid} (attempt ${latest.id}): ${result.message}; asked again if no new attempt shows`);
        return "open";
      case "refused":
        // Gone from the log, or GitHub will not redeliver it: asking again would not help; the claim counts.
        options.observer?.({ type: "redelivery", outcome: "failed" });
        problem(tally, `${latest.event} delivery ${latest.guid} (attempt ${latest.id}): redelivery refused: ${result.message}`);
        return "settled";
      case "unauthorized":
        await undoClaim(store, latest.guid, memo, clock());
        tally.unauthorized = true;
        options.observer?.({ type: "redelivery", outcome: "failed" });
        problem(tally, result.message);
        return "stop";
      case "rate-limited":
        await undoClaim(store, latest.guid, memo, clock());
        pauseUntil(tally, result.until);
        problem(tally, `${result.message}; redeliveries go on after ${isoSeconds(result.until)}`);
        return "stop";
    }
  }

  async function pass(tally: Tally, signal: AbortSignal): Promise<void> {
    const held = await takeLease(store, DELIVERY_LOG_LEASE_KEY, holder, clock(), LEASE_MS);
    if (held === null) {
      problem(tally, "another instance is reading the delivery log now", false);
      return;
    }
    const lease = keepLease(store, held, clock, LEASE_MS);
    try {
      const started = clock();
      const paused = await loadPause(store);
      if (started < paused) {
        problem(tally, `delivery log not read: GitHub asked to slow down until ${isoSeconds(paused)}`, false);
        return;
      }
      const { mark, version } = await loadMark(store);
      const oldest = started - DELIVERY_LOG_DAYS * DAY_MS;
      // Back to the mark, whatever its age (a server down for a day catches up), within the log's 3 days.
      const floor = mark === null ? Math.max(started - options.lookbackMs, oldest) : oldest;
      const { entries, complete } = await readLog(mark, floor, tally, lease, signal);
      const lost: LoggedDelivery[] = [];
      for (const state of judgeDeliveries(entries, floor).values()) {
        if (state.kind === "refused") tally.skipped.refused++;
        else if (state.kind === "too-old") tally.skipped.tooOld++;
        else if (state.kind === "lost") lost.push(state.latest);
      }
      tally.lostFound = lost.length;
      // Oldest first: the run that has waited longest is recovered first.
      lost.sort((a, b) => a.id - b.id);
      let firstOpen = Number.POSITIVE_INFINITY;
      for (const latest of lost) {
        const stop = signal.aborted || (tally.pauseUntil !== null && tally.pauseUntil > clock()) || !(await lease.keep());
        const outcome = stop ? "stop" : await recoverGuid(latest, tally, signal);
        if (outcome !== "settled") firstOpen = Math.min(firstOpen, latest.id);
        if (outcome === "stop") break;
      }
      // A dry run redelivers nothing: it leaves the mark where the real passes will need it.
      if (!complete || options.dryRun) return;
      const moved = nextMark(entries, mark, firstOpen, started);
      if (moved !== null && !(await saveMark(store, moved, version, started))) {
        problem(tally, "the delivery log's mark changed meanwhile (another instance?); kept theirs", false);
      }
    } finally {
      if (tally.pauseUntil !== null) await savePause(store, tally.pauseUntil).catch(() => undefined);
      await lease.release();
    }
  }

  return {
    async recover(signal = new AbortController().signal) {
      const tally: Tally = {
        deliveriesRead: 0, pages: 0, requests: 0, lostFound: 0, redelivered: 0, wouldRedeliver: 0,
        skipped: { refused: 0, tooOld: 0, capReached: 0, inFlight: 0 },
        errors: 0, problems: [], pauseUntil: null, noAnswer: 0, answered: 0, unauthorized: false,
      };
      try {
        await pass(tally, signal);
      } catch (error) {
        // The store failed (the log client never throws): the next pass starts from the mark again.
        problem(tally, `delivery log: ${error instanceof Error ? error.message : String(error)}`);
      }
      const { noAnswer, answered, ...rest } = tally;
      const summary: DeliveryRecoverySummary = { ...rest, unreachable: noAnswer > 0 && answered === 0 };
      logger({
        level: summary.errors > 0 ? "warn" : "info",
        msg: "sweep",
        source: "delivery-log",
        summary: formatDeliverySummary(summary),
        deliveriesRead: summary.deliveriesRead,
        pages: summary.pages,
        requests: summary.requests,
        lostFound: summary.lostFound,
        redelivered: summary.redelivered,
        wouldRedeliver: summary.wouldRedeliver,
        skipped: summary.skipped,
        errors: summary.errors,
        problems: summary.problems,
        pauseUntil: summary.pauseUntil === null ? null : isoSeconds(summary.pauseUntil),
      });
      return summary;
    },
  };
}

/** The summary as one line, for people and cron mail. */
export function formatDeliverySummary(s: DeliveryRecoverySummary): string {
  const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
  const skipped = s.skipped;
  return [
    `delivery log: ${plural(s.deliveriesRead, "delivery", "deliveries")} read (${plural(s.pages, "page")})`,
    `${s.lostFound} lost`,
    s.wouldRedeliver > 0 ? `${s.wouldRedeliver} would be redelivered (DRY_RUN)` : `${s.redelivered} redelivered`,
    `skipped ${skipped.refused} answered 4xx, ${skipped.tooOld} too old, ${skipped.capReached} at the cap, ${skipped.inFlight} awaiting their redelivery`,
    plural(s.requests, "request"),
    plural(s.errors, "error"),
  ].join(", ");
}
