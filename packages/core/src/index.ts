// @job-rerunner/core: the curated public API. Everything here is what an embedder or a host
// adapter uses; everything else is internal (docs/ARCHITECTURE.md: the layers).

// Composition: the engine and the reconciler with their defaults.
export {
  createRerunner,
  createReconciler,
  startReconciler,
  createRunDecider,
  notifierFromEnv,
  type RerunnerOptions,
  type ReconcilerOptions,
  type StartReconcilerOptions,
  type RunningReconciler,
  type RunDeciderOptions,
} from "./compose.js";
export type { SingleRun, SingleRunResult, RunEventRead } from "./engine/single-run.js";
export type { Rerunner } from "./engine/pipeline.js";
export type { Reconciler, ReconcileResult } from "./engine/reconcile/reconciler.js";
export type { PendingSummary } from "./engine/reconcile/pending-driver.js";
export { formatSweepSummary, type SweepSummary } from "./engine/reconcile/sweep.js";
export { formatDeliverySummary, type DeliveryRecoverySummary } from "./engine/reconcile/delivery-recovery.js";
export { liveness, readiness, type HealthAnswer } from "./engine/health.js";

// Configuration from the environment (the only reader of process.env and files).
export { configFromEnv, defineConfig, type ConfigFromEnvOptions } from "./env/config.js";
export { ConfigError } from "./env/config-error.js";
export { booleanFromEnv, type Env } from "./env/primitives.js";
export { sweepConfigFromEnv } from "./env/sweep.js";
export { parseStoreSpec, shownStore, storeSpecText } from "./env/store-spec.js";
export type { Config, DecisionConfig, SweepConfig, SweepRepo, StoreSpec, AppCredentials } from "./domain/config.js";

// The webhook wire: signature, the answer every host writes.
export { verifySignature, sign } from "./webhook/signature.js";
export { echoedHeader, type WebhookRequest, type HeaderValue } from "./webhook/delivery.js";
export { toHttpResponse, HEALTH_TEXT, type HttpResponse } from "./webhook/http-response.js";
export type { WebhookResponse, ResponseBody } from "./webhook/answer.js";

// The pure domain: events, the state machine, the rerun policy.
export { parseEvent, payloadRepository, type ParsedEvent, type Envelope } from "./domain/event.js";
export { decide, settle, type RerunOutcome, type Settlement } from "./domain/machine.js";
export { decideCompletedRun, type RunDecision, type FailedJobReport } from "./domain/run-decision.js";
export { classifyJob } from "./domain/policy/classify.js";
export { compilePolicy, PolicyError, type RerunPolicy, type RawPolicy } from "./domain/policy/policy.js";
export { compileBranchPatterns, type BranchMatcher } from "./domain/branches.js";
export { SIGNATURES, type Signature } from "./domain/policy/signatures.js";
export type { JobFacts, StepFact, Fetched, JobClass, JobClassName, EventFacts } from "./domain/policy/facts.js";
export { parseRepoFile, REPO_CONFIG_PATH } from "./domain/repo-file.js";
export { recordKey, pendingUntil } from "./domain/record.js";
export { MAX_HISTORY_PER_RUN, historyRow, type HistoryEntry, type HistoryJob, type HistoryRow, type Verdict } from "./domain/history.js";
export { flakyJobs, type FlakyJob } from "./domain/flaky.js";
export { dailyActivity, type Activity, type DayActivity } from "./domain/activity.js";
export { webUrl, runAttemptUrl } from "./domain/notification.js";
export type {
  JobStatus,
  RunStatus,
  RepoRef,
  WorkflowJobEvent,
  WorkflowRunEvent,
  RunEvent,
  JobEntry,
  RerunState,
  DeliveryMemo,
  RunRecord,
  RerunAction,
  Action,
  Decision,
  JsonValue,
} from "./domain/types.js";

// Ports: what a store, a GitHub client, a logger, an observer or a notifier must be.
export type { Store, Versioned, VersionedDoc } from "./ports/store.js";
export type {
  GitHubClient,
  RunRef,
  RerunCallResult,
  RunReadResult,
  FactsClient,
  JobRef,
  AttemptRef,
  ListedJob,
  Listing,
  RunLister,
  RunsPageRequest,
  RunsPageResult,
  DeliveryLog,
  DeliveryPageResult,
  RedeliverResult,
} from "./ports/github.js";
export type { Logger, LogEntry, LogLevel } from "./ports/logger.js";
export type { Observer, Observation, RerunMetricOutcome } from "./ports/observer.js";
export type { Notifier, SendResult } from "./ports/notifier.js";
export type { NotifyKind } from "./domain/notification.js";

// Implementations beside GitHub's: the in-process store, the JSON logger, the chat notifier.
export { MemoryStore } from "./infra/memory-store.js";
export { jsonLogger, silentLogger, parseLogLevel } from "./infra/json-logger.js";
export { logObserver } from "./infra/log-observer.js";
export { createNotifier, type NotifierOptions } from "./infra/chat-notifier.js";

// GitHub: the start-up credential check.
export { warnAboutCredentials, type CredentialCheck, type Credentials } from "./github/credentials.js";
