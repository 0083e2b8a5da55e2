import { randomUUID } from "node:crypto";
import type { Rerunner } from "../pipeline.js";
import type { RunLister } from "../../ports/github.js";
import type { Logger } from "../../ports/logger.js";
import { KNOWN_CONCLUSIONS } from "../../domain/settings.js";
import type { Store } from "../../ports/store.js";
import type { SweepConfig, SweepRepo } from "../../domain/config.js";
import { readListedRun, sweepEvent, type ListedRun } from "../../domain/listed-run.js";
import { keepLease, releaseLease, takeLease, type Held } from "./lease.js";
import { loadCursor, repoLeaseKey, saveCursor, type SweepCursor } from "./sweep-state.js";
import { isoSeconds, pauseUntil, problem, type ProblemTally } from "./tally.js";

/** GitHub re-runs nothing older than 30 days: never list further back. */
const MAX_AGE_MS = 30 * 86_400_000;
/** The query's `created` bound moves in steps of at least this, so its ETag stays valid in between. */
const CREATED_STEP_MS = 3_600_000;
/** Our clock and GitHub's may differ: runs finishing this close before `since` are examined again (the memo answers them). */
const CLOCK_SKEW_MS = 120_000;
const FAILED_CONCLUSIONS: ReadonlySet<string> = new Set(KNOWN_CONCLUSIONS);
/** GitHub's maximum page size. */
const PER_PAGE = 100;
/** A repository's sweep lease, renewed after every page and every half of it while runs are fed. */
const LEASE_MS = 120_000;

export interface SweepSummary {
  readonly repositories: number;
  /** HTTP requests the sweep made to GitHub: list pages, and the repository read for its default branch. */
  readonly requests: number;
  /** Of the list requests, answered 304 Not Modified (not counted against the rate limit). */
  readonly notModified: number;
  /** Completed runs that finished inside the window. */
  readonly runsExamined: number;
  /** Runs whose failed jobs this sweep got re-run (201). */
  readonly rerunsMade: number;
  readonly errors: number;
  /** One line per error, skipped repository and skipped run. */
  readonly problems: readonly string[];
  /** Listed runs skipped because a field was malformed. */
  readonly skippedRuns: number;
  /** Rate limit: no GitHub listing before this (epoch ms), or null. */
  readonly pauseUntil: number | null;
  /** Every listing failed without an answer from GitHub. */
  readonly unreachable: boolean;
  /** GitHub rejected the token (401). */
  readonly unauthorized: boolean;
}

export interface SweeperOptions {
  readonly rerunner: Rerunner;
  readonly store: Store;
  readonly lister: RunLister;
  readonly sweep: SweepConfig;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Names this sweeper in its leases (default: a random id). */
  readonly holder?: string | undefined;
}

export interface Sweeper {
  /** One sweep of every repository in SWEEP_REPOS. Never throws; an aborted signal stops it between runs. */
  sweep(signal?: AbortSignal): Promise<SweepSummary>;
}

interface Tally extends ProblemTally {
  requests: number;
  notModified: number;
  runsExamined: number;
  rerunsMade: number;
  skippedRuns: number;
  noAnswer: number;
  answered: number;
  unauthorized: boolean;
}


/**
 * The sweep: for each repository, lists the completed runs created since the cursor's bound
 * (conditional on the last ETag, page by page) and feeds each failed run that finished since the
 * last sweep to the engine as the `workflow_run` completed event a delivery would have carried.
 * The cursor moves only after a complete listing whose runs were all recorded, so a 5xx, a
 * timeout or a store failure mid-way leaves it where it was and the next sweep covers the gap.
 */
export function createSweeper(options: SweeperOptions): Sweeper {
  const { rerunner, store, lister, logger } = options;
  const clock = options.clock ?? Date.now;
  const holder = options.holder ?? randomUUID();
  let pausedUntil = 0;

  /** Lists and feeds one repository; returns whether the listing was complete and every run recorded. */
  async function sweepRepo(repo: SweepRepo, held: Held, tally: Tally, signal: AbortSignal): Promise<void> {
    const name = `${repo.owner}/${repo.name}`;
    const started = clock();
    const { cursor, version } = await loadCursor(store, repo);
    const since = cursor?.since ?? started - options.sweep.lookbackMs;
    const floor = started - MAX_AGE_MS;
    // A stored bound wins (its ETag stays valid), unless SWEEP_HORIZON_H was raised since: then it reaches back at once.
    const createdFrom = Math.max(Math.min(cursor?.createdFrom ?? Number.POSITIVE_INFINITY, since - options.sweep.horizonMs), floor);
    // Kept while runs are fed (each may take up to a delivery's deadline).
    const lease = keepLease(store, held, clock, LEASE_MS);
    const leaseLost = (): void => problem(tally, `${name}: sweep lease lost to another instance mid-sweep; it continues there`, false);
    // Read once per repository and sweep, only when a failed run needs them.
    let defaultBranch: Promise<string | null> | undefined;
    let installation: Promise<number | null> | undefined;
    const completed = async (run: ListedRun): Promise<ListedRun> => {
      let known = run;
      if (known.defaultBranch === null && lister.defaultBranch !== undefined) {
        if (defaultBranch === undefined) {
          // GET /repos/{owner}/{repo}: a request of this sweep like the list pages.
          tally.requests++;
          defaultBranch = lister.defaultBranch(repo.owner, repo.name, signal);
        }
        known = { ...known, defaultBranch: await defaultBranch };
      }
      if (lister.installationOf !== undefined) {
        installation ??= lister.installationOf(repo.owner, repo.name);
        const id = await installation;
        if (id !== null) known = { ...known, installationId: id };
      }
      return known;
    };
    let firstEtag: string | null = null;
    let recorded = true;
    for (let page = 1; ; page++) {
      if (signal.aborted) return problem(tally, `${name}: stopped mid-sweep (shutting down); the next sweep covers it`, false);
      const result = await lister.listRuns(
        { owner: repo.owner, repo: repo.name, created: `>=${isoSeconds(createdFrom)}`, page, perPage: PER_PAGE, etag: page === 1 ? (cursor?.etag ?? null) : null },
        signal,
      );
      tally.requests++;
      if (result.kind === "unavailable" && !result.answered) tally.noAnswer++;
      else tally.answered++;
      switch (result.kind) {
        case "not-modified":
          // Nothing completed in the window since page 1 was last read: the cursor stays as it is.
          tally.notModified++;
          if (result.slowDownUntil !== null) pauseUntil(tally, result.slowDownUntil);
          return;
        case "unreadable":
          return problem(tally, `${name}: skipped: ${result.message}`);
        case "unauthorized":
          tally.unauthorized = true;
          return problem(tally, `${name}: ${result.message}`);
        case "rate-limited":
          pauseUntil(tally, result.until);
          return problem(tally, `${name}: ${result.message}; sweeping resumes after ${isoSeconds(result.until)}`);
        case "unavailable":
          return problem(tally, `${name}: page ${page}: ${result.message}; the cursor stays, the next sweep covers it`);
        case "page":
          break;
      }
      if (page === 1) {
        firstEtag = result.etag;
        // GitHub answers at most 1,000 runs for a filtered listing.
        if (result.totalCount > 1000) problem(tally, `${name}: ${result.totalCount} completed runs since ${isoSeconds(createdFrom)}: GitHub lists only the first 1000`, false);
      }
      for (const raw of result.runs) {
        if (signal.aborted) return problem(tally, `${name}: stopped mid-sweep (shutting down); the next sweep covers it`, false);
        const run = readListedRun(raw, repo);
        if (run.kind === "skipped") {
          tally.skippedRuns++;
          problem(tally, `${name}: ${run.reason}: skipped`, false);
          logger({ level: "warn", msg: "sweep: run skipped", repo: name, reason: run.reason });
          continue;
        }
        if (run.status !== "completed" || run.updatedAt < since - CLOCK_SKEW_MS) continue;
        tally.runsExamined++;
        // Any conclusion a repository's file may count as failed: the engine decides per repository.
        if (!FAILED_CONCLUSIONS.has(run.conclusion ?? "")) continue;
        if (!(await lease.keep())) return leaseLost();
        const response = await rerunner.handleEvent(sweepEvent(await completed(run), clock(), randomUUID()));
        if (response.status === 201 && response.body.action === "rerun-failed-jobs") tally.rerunsMade++;
        if (response.status === 503) {
          recorded = false;
          problem(tally, `${name}: run ${run.id}: ${response.body.reason}`);
        }
      }
      if (result.slowDownUntil !== null) {
        pauseUntil(tally, result.slowDownUntil);
        if (result.hasNext) return problem(tally, `${name}: rate limit nearly used up; sweeping resumes after ${isoSeconds(result.slowDownUntil)}`);
      }
      if (!result.hasNext) break;
      if (!(await lease.keep(true))) return leaseLost();
    }
    if (!recorded) return;
    const wanted = Math.max(started - options.sweep.horizonMs, floor);
    // The first cursor's bound is a lookback older than needed: the bound moves only once it lags by more than that and a step.
    const moved = wanted - createdFrom > options.sweep.lookbackMs + CREATED_STEP_MS;
    const next: SweepCursor = { since: started, createdFrom: moved ? wanted : createdFrom, etag: moved ? null : firstEtag };
    if (!(await saveCursor(store, repo, next, version, clock()))) {
      problem(tally, `${name}: the cursor changed meanwhile (another sweeper?); kept theirs`, false);
    }
  }

  return {
    async sweep(signal = new AbortController().signal) {
      const tally: Tally = {
        requests: 0, notModified: 0, runsExamined: 0, rerunsMade: 0, errors: 0, skippedRuns: 0,
        problems: [], pauseUntil: null, noAnswer: 0, answered: 0, unauthorized: false,
      };
      for (const repo of options.sweep.repos) {
        const name = `${repo.owner}/${repo.name}`;
        if (signal.aborted) break;
        if (clock() < pausedUntil || (tally.pauseUntil !== null && clock() < tally.pauseUntil)) {
          problem(tally, `${name}: not listed: GitHub asked to slow down until ${isoSeconds(Math.max(pausedUntil, tally.pauseUntil ?? 0))}`, false);
          continue;
        }
        let held: Held | null = null;
        try {
          held = await takeLease(store, repoLeaseKey(repo), holder, clock(), LEASE_MS);
          if (held === null) {
            problem(tally, `${name}: another instance is sweeping it now`, false);
            continue;
          }
          await sweepRepo(repo, held, tally, signal);
        } catch (error) {
          // The store failed (the lister and the engine never throw): this repository waits for the next sweep.
          problem(tally, `${name}: ${error instanceof Error ? error.message : String(error)}`);
        } finally {
          if (held !== null) await releaseLease(store, held, clock()).catch(() => undefined);
        }
      }
      if (tally.pauseUntil !== null) pausedUntil = Math.max(pausedUntil, tally.pauseUntil);
      const { noAnswer, answered, ...rest } = tally;
      return { ...rest, repositories: options.sweep.repos.length, unreachable: noAnswer > 0 && answered === 0 };
    },
  };
}

/** The summary as one line, for people and cron mail. */
export function formatSweepSummary(s: SweepSummary): string {
  const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
  return [
    plural(s.repositories, "repository", "repositories"),
    `${plural(s.requests, "request")} (${s.notModified} answered 304)`,
    `${plural(s.runsExamined, "run")} examined`,
    `${plural(s.rerunsMade, "rerun")} made`,
    plural(s.errors, "error"),
  ].join(", ");
}
