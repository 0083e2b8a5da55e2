import { branchRefusal } from "../domain/branches.js";
import type { Config } from "../domain/config.js";
import { foldFinalAttempt, isFinalAttemptEvent, readFinalAttempt } from "../domain/final-attempt.js";
import { MAX_HISTORY_JOBS, MAX_HISTORY_TEXT, type HistoryEntry, type HistoryJob, type Verdict } from "../domain/history.js";
import { failedConclusion } from "../domain/attempts.js";
import { allJobsCompleted, attemptFailed, isFailedJob } from "../domain/jobs.js";
import type { RerunOutcome, Settlement } from "../domain/machine.js";
import { notificationText, runAttemptUrl, webUrl, type NotifyKind } from "../domain/notification.js";
import { finalAttemptKey, findingClaimKey, lateEntriesKey, recordKey } from "../domain/record.js";
import { clip } from "../domain/text.js";
import type { Decision, JobEntry, JsonValue, RunEvent, RunRecord } from "../domain/types.js";
import type { Logger } from "../ports/logger.js";
import type { Notifier } from "../ports/notifier.js";
import type { Observer, RerunMetricOutcome } from "../ports/observer.js";
import type { Store } from "../ports/store.js";
import { withTimeout } from "./timing.js";

export interface VisibilityOptions {
  readonly config: Config;
  readonly store: Store;
  readonly clock: () => number;
  readonly observe: Observer;
  readonly logger: Logger;
  readonly notifier?: Notifier | undefined;
  /**
   * Where a notification's sending goes once it is recorded. A long-running server passes a
   * function that keeps the promise (shutdown waits for it) and answers the webhook at once;
   * without one the send is awaited, bounded by what is left of the delivery's deadline.
   */
  readonly background?: ((work: Promise<unknown>) => void) | undefined;
  /** Called once a decision was appended to the history (the flaky-job look-ups count it). */
  readonly recorded?: ((entry: HistoryEntry) => void) | undefined;
  /** Total time a background notification may take, retries included (default 60 s). */
  readonly notifyBudgetMs?: number;
}

/** A verdict on one attempt, with what the history and a notification need to say. */
interface Finding {
  readonly verdict: Verdict;
  readonly attempt: number;
  readonly status: number;
  readonly reason: string;
  readonly jobs: readonly JobEntry[];
  /** The attempt's workflow_run conclusion, when its completion is known (null: not known). */
  readonly runConclusion: string | null;
  /** Recorded at most once per attempt and verdict (a claim in the store comes first). */
  readonly once: boolean;
  /** A rerun metric to count once the claim is won (so a verdict seen again is not counted again). */
  readonly metric?: RerunMetricOutcome;
}

/**
 * Entries for failed jobs that came after their attempt's verdict, per run at most (whatever its
 * attempts): a run keeps MAX_HISTORY_PER_RUN entries, oldest dropped first, and its verdicts must
 * stay among them. Each lists every failed job of its attempt known then, so the last one of an
 * attempt holds those before it.
 */
const MAX_LATE_ENTRIES = 16;

// A dry run notifies as a rerun would, in words that say nothing was called (notificationText).
const NOTIFY_KIND: Partial<Record<Verdict, NotifyKind>> = { "gave-up": "give-up", refused: "give-up", rerun: "rerun", "dry-run": "rerun" };

const RERUN_OUTCOME: Record<RerunOutcome["kind"], RerunMetricOutcome> = {
  accepted: "requested",
  "already-done": "already_done",
  refused: "refused",
  rejected: "refused",
  "in-progress": "pending",
  transient: "pending",
};

/** History text is cut like every echoed text (domain/text.ts), at the history's own limit. */
const historyText = (text: string): string => clip(text, MAX_HISTORY_TEXT);

/** The attempt's workflow_run conclusion once its completion is known, else null. */
function runConclusionOf(record: Pick<RunRecord, "runCompleted" | "runConclusion">): string | null {
  return record.runCompleted ? record.runConclusion : null;
}

function historyJobs(jobs: readonly JobEntry[]): HistoryJob[] {
  const done = jobs.filter((j) => j.status === "completed");
  // A failed job the rerun policy classified keeps its class's evidence (the line that decided).
  return done.slice(0, MAX_HISTORY_JOBS).map((j) =>
    j.verdict === undefined ? { name: j.name, conclusion: j.conclusion } : { name: j.name, conclusion: j.conclusion, evidence: historyText(j.verdict.evidence) },
  );
}

/**
 * The read-only visibility stage after a decision: the decision history, the final attempt's
 * watch, notifications and rerun metrics. It reads what the engine decided and recorded and
 * writes only its own data (history entries, claims, the final-attempt watch), so it can never
 * change a decision or an answer; every failure here is logged and dropped, within the
 * delivery's deadline.
 */
export function createVisibility(options: VisibilityOptions) {
  // The server's configuration only says where GitHub is and how long records live; what was
  // selected, failed or allowed is the event's own configuration (a repository's file).
  const { config: server, store, clock, observe, logger, notifier } = options;
  const web = webUrl(server.githubApiUrl);

  async function claim(key: string, value: JsonValue, expiresAt: number): Promise<boolean> {
    const won = await store.putDoc(key, value, undefined, expiresAt);
    if (!won) observe({ type: "store-conflict", operation: "claim" });
    return won;
  }

  async function notify(kind: NotifyKind, entry: HistoryEntry, failedJobs: readonly string[], deadline: number): Promise<void> {
    if (notifier === undefined) return;
    const text = notificationText(kind, entry, failedJobs, runAttemptUrl(web, entry.repo.owner, entry.repo.name, entry.runId, entry.attempt));
    const sending = (budget: number) =>
      notifier.send(text, budget).then((result) => {
        observe({ type: "notification", kind, outcome: result.ok ? "sent" : "failed" });
        logger({
          level: result.ok ? "info" : "warn",
          msg: result.ok ? "notification sent" : "notification not sent",
          kind,
          host: notifier.host,
          run: `${entry.repo.owner}/${entry.repo.name}#${entry.runId}`,
          attempt: entry.attempt,
          tries: result.tries,
          ...(result.error === undefined ? {} : { error: result.error }),
        });
      });
    if (options.background !== undefined) options.background(sending(options.notifyBudgetMs ?? 60_000));
    else await sending(Math.max(0, deadline - clock() - 100));
  }

  async function recordFinding(
    event: RunEvent,
    facts: Pick<RunRecord, "repo" | "runId" | "workflowName" | "headBranch">,
    finding: Finding,
    config: Config,
    deadline: number,
  ): Promise<boolean> {
    const now = clock();
    const expiresAt = now + server.recordTtlMs;
    const key = recordKey(facts.repo.id, facts.runId);
    // Claimed per notification kind where there is one: a refusal for good seen again later as
    // "gave up" is the same give-up, sent once.
    const claimed = NOTIFY_KIND[finding.verdict] ?? finding.verdict;
    if (finding.once && !(await claim(findingClaimKey(key, finding.attempt, claimed), { at: now, delivery: event.deliveryId }, expiresAt))) {
      // Another delivery (or instance) recorded this verdict first: it also notifies.
      const kind = NOTIFY_KIND[finding.verdict];
      if (kind !== undefined && notifier?.on.has(kind) === true) observe({ type: "notification", kind, outcome: "duplicate" });
      return false;
    }
    if (finding.metric !== undefined) observe({ type: "rerun", outcome: finding.metric });
    const entry: HistoryEntry = {
      at: now,
      repo: facts.repo,
      runId: facts.runId,
      attempt: finding.attempt,
      workflow: facts.workflowName ?? event.workflowName,
      branch: facts.headBranch ?? event.headBranch,
      status: finding.status,
      reason: historyText(finding.reason),
      verdict: finding.verdict,
      jobs: historyJobs(finding.jobs),
      ...(finding.runConclusion === null ? {} : { runConclusion: historyText(finding.runConclusion) }),
      expiresAt,
    };
    const kind = NOTIFY_KIND[finding.verdict];
    // The claim is in the store now: the notification goes out at most once, whatever the history write does.
    const notifying =
      kind !== undefined && notifier?.on.has(kind) === true
        ? notify(kind, entry, finding.jobs.filter((j) => isFailedJob(j, config.rerunConclusions)).map((j) => j.name), deadline)
        : Promise.resolve();
    await Promise.all([store.appendHistory(entry).then(() => options.recorded?.(entry)), notifying]);
    return true;
  }

  /** Runs one visibility step within the deadline; a failure is logged, never passed on. */
  async function bounded(what: string, event: RunEvent, deadline: number, work: () => Promise<unknown>): Promise<void> {
    const left = deadline - clock();
    if (left <= 0) return;
    try {
      await withTimeout(work(), left, () => new Error("no time left before the deadline"));
    } catch (error) {
      logger({ level: "warn", msg: `${what} not recorded`, delivery: event.deliveryId, error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** The final attempt, which the machine does not track: watched apart, for its verdict. */
  async function watchFinal(event: RunEvent, config: Config, deadline: number): Promise<void> {
    const key = finalAttemptKey(recordKey(event.repo.id, event.runId), event.attempt);
    for (let round = 0; round < 16; round++) {
      const current = await store.getDoc(key);
      const prior = readFinalAttempt(current?.value);
      const { next, decided } = foldFinalAttempt(prior, event, config);
      if (prior !== undefined && JSON.stringify(next) === JSON.stringify(prior)) return;
      const written = await store.putDoc(key, next as unknown as JsonValue, current?.version, clock() + server.recordTtlMs);
      if (!written) {
        observe({ type: "store-conflict", operation: "claim" });
        continue;
      }
      const facts = { repo: event.repo, runId: event.runId, workflowName: event.workflowName, headBranch: event.headBranch };
      if (!decided) {
        // The verdict was recorded before this job's completion arrived.
        const late = prior?.verdict == null ? undefined : lateFailedJob(event, next.jobs, `run attempt ${event.attempt} was already decided (${prior.verdict})`, 204, runConclusionOf(next));
        if (late !== undefined) await recordLate(event, facts, late, config, deadline);
        return;
      }
      const failed = next.verdict === "failed";
      const reason = failed
        ? `run attempt ${event.attempt} failed and RUN_ATTEMPTS=${config.runAttempts} allows no further rerun`
        : `run attempt ${event.attempt} passed`;
      await recordFinding(event, facts, { verdict: failed ? "gave-up" : "passed", attempt: event.attempt, status: 204, reason, jobs: Object.values(next.jobs), runConclusion: runConclusionOf(next), once: true }, config, deadline);
      return;
    }
  }

  /**
   * A failed job whose completion arrived after its attempt's verdict was recorded: GitHub does
   * not order webhooks, and a workflow_run completed often comes first. Recorded apart (verdict
   * `other`, with every failed job known now), so the decision history and the flaky-job table
   * still count the failure.
   */
  function lateFailedJob(event: RunEvent, jobs: Readonly<Record<string, JobEntry>>, reason: string, status: number, runConclusion: string | null): Finding | undefined {
    if (event.kind !== "workflow_job" || event.job.status !== "completed") return undefined;
    const job = jobs[String(event.job.id)];
    if (job === undefined || job.status !== "completed" || !failedConclusion(job.conclusion)) return undefined;
    const failed = Object.values(jobs).filter((j) => j.status === "completed" && failedConclusion(j.conclusion));
    return { verdict: "other", attempt: event.attempt, status, reason, jobs: failed, runConclusion, once: false };
  }

  /**
   * A late failed job's entry, at most MAX_LATE_ENTRIES per run across deliveries and instances:
   * a count in the store is the claim. A write lost on the count is read again, not counted as a
   * conflict: nobody recorded this entry first.
   */
  async function recordLate(event: RunEvent, facts: Pick<RunRecord, "repo" | "runId" | "workflowName" | "headBranch">, finding: Finding, config: Config, deadline: number): Promise<void> {
    const key = lateEntriesKey(recordKey(facts.repo.id, facts.runId));
    for (let round = 0; round <= MAX_LATE_ENTRIES; round++) {
      const current = await store.getDoc(key);
      const count = typeof current?.value === "number" ? current.value : 0;
      if (count >= MAX_LATE_ENTRIES) return;
      if (await store.putDoc(key, count + 1, current?.version, clock() + server.recordTtlMs)) {
        await recordFinding(event, facts, finding, config, deadline);
        return;
      }
    }
  }

  function finished(record: RunRecord): boolean {
    return record.runCompleted || allJobsCompleted(record.jobs);
  }

  /** What a no-action decision says about its attempt, if anything worth recording. */
  function findingOf(decision: Decision, record: RunRecord, config: Config): Finding | undefined {
    // GitHub refused the rerun for good earlier (a `refused` rerun state): later events say so again.
    const refused = record.rerun.state === "refused";
    // Most decisions (a job queued or still running) record nothing: said before anything is built.
    if (!refused && (decision.status !== 200 || record.rerun.state !== "none" || !finished(record))) return undefined;
    const base = {
      attempt: record.attempt,
      status: decision.status,
      reason: decision.reason,
      jobs: Object.values(record.jobs),
      runConclusion: runConclusionOf(record),
      once: true,
    };
    if (refused) return { ...base, verdict: "gave-up", metric: "refused" };
    if (!attemptFailed(record, config.rerunConclusions)) return { ...base, verdict: "passed" };
    // Failed on a selected branch and still not re-run: the rerun policy judged it genuine (or
    // too widespread), which is giving up; a branch not selected is only "not re-run".
    const selected = branchRefusal(config.branches, record.headBranch, record.defaultBranch ?? null) === null;
    return selected ? { ...base, verdict: "gave-up", metric: "refused" } : { ...base, verdict: "not-rerun" };
  }

  return {
    /** After decide and compare-and-set, for a decision with no rerun to make. */
    async decided(event: RunEvent, decision: Decision, prior: RunRecord | undefined, config: Config, deadline: number): Promise<void> {
      if (!decision.changed) {
        if (decision.status === 204 && isFinalAttemptEvent(event, config)) await bounded("final attempt", event, deadline, () => watchFinal(event, config, deadline));
        return;
      }
      const record = decision.record;
      if (record === undefined) return;
      const finding = findingOf(decision, record, config);
      // A workflow_job event never completes the run: a run already completed was decided on
      // without this job, unless an earlier delivery had brought its failure. (Also while a rerun
      // is pending: its outcome's entry may list no job, if the next attempt starts first.)
      const known = prior?.attempt === event.attempt && event.kind === "workflow_job" ? prior.jobs[String(event.job.id)] : undefined;
      const late =
        record.runCompleted && record.attempt === event.attempt && known?.status !== "completed"
          ? lateFailedJob(event, record.jobs, decision.reason, decision.status, runConclusionOf(record))
          : undefined;
      if (finding === undefined && late === undefined) return;
      await bounded("decision history", event, deadline, async () => {
        // A verdict recorded now lists this job; one recorded before did not.
        if (finding !== undefined && (await recordFinding(event, record, finding, config, deadline))) return;
        if (late !== undefined) await recordLate(event, record, late, config, deadline);
      });
    },
    /** After a rerun call's outcome was recorded. */
    async settled(event: RunEvent, outcome: RerunOutcome, settlement: Settlement, attempt: number, config: Config, deadline: number): Promise<void> {
      const dryRun = outcome.kind === "accepted" && outcome.dryRun === true;
      observe({ type: "rerun", outcome: dryRun ? "dry_run" : RERUN_OUTCOME[outcome.kind] });
      // Only a refusal for good gives up; a refusal that may pass later (a bad token) stays pending.
      const verdict: Verdict = dryRun
        ? "dry-run"
        : outcome.kind === "accepted" || outcome.kind === "already-done"
          ? "rerun"
          : outcome.kind === "rejected"
            ? "refused"
            : "pending";
      const record = settlement.record;
      const finding: Finding = {
        verdict,
        attempt,
        status: settlement.status,
        reason: settlement.reason,
        jobs: record.attempt === attempt ? Object.values(record.jobs) : [],
        runConclusion: record.attempt === attempt ? runConclusionOf(record) : null,
        once: verdict !== "pending",
      };
      await bounded("rerun history", event, deadline, () => recordFinding(event, record, finding, config, deadline));
    },
  };
}

export type Visibility = ReturnType<typeof createVisibility>;
