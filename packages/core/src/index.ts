export { verifySignature, sign } from "./signature.js";
export { configFromEnv, defineConfig, DEFAULTS, type Config, type Env } from "./config.js";
export { ConfigError } from "./errors.js";
export { compileBranchPatterns, type BranchMatcher } from "./branches.js";
export { MemoryStore, recordKey, pendingUntil, type Store, type Versioned, type VersionedDoc, type JsonValue } from "./store.js";
export { jsonLogger, silentLogger, parseLogLevel, type Logger, type LogEntry, type LogLevel } from "./log.js";
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
} from "./types.js";
export { parseEvent, type ParsedEvent, type Ignored, type Envelope } from "./event.js";
export { decide, settle, rerunHappened, MAX_DELIVERY_MEMO, MAX_JOBS, type RerunOutcome, type Settlement } from "./machine.js";
export {
  createOctokitClient,
  createDryRunClient,
  classifyRerunError,
  type GitHubClient,
  type RunRef,
  type RerunCallResult,
  type RunReadResult,
} from "./github.js";
export {
  createRerunner,
  type Rerunner,
  type RerunnerOptions,
  type WebhookRequest,
  type WebhookResponse,
  type ResponseBody,
  type HeaderValue,
} from "./engine.js";
export { createOctokit, USER_AGENT, type OctokitOptions } from "./octokit.js";
export { toHttpResponse, HEALTH_TEXT, type HttpResponse } from "./http.js";
export { sweepConfigFromEnv, SWEEP_DEFAULTS, type SweepConfig, type SweepRepo } from "./sweep-config.js";
export { createRunLister, slowDownUntil, hasNextLink, RATE_LIMIT_RESERVE, type RunLister, type RunsPageRequest, type RunsPageResult } from "./github-runs.js";
export { readListedRun, sweepEvent, type ListedRun, type SkippedRun } from "./sweep-event.js";
export { createSweeper, formatSweepSummary, RUN_HORIZON_MS, type Sweeper, type SweeperOptions, type SweepSummary } from "./sweep.js";
export { createPendingDriver, pendingEvent, type PendingDriver, type PendingDriverOptions, type PendingSummary } from "./pending-driver.js";
export { createReconciler, type Reconciler, type ReconcilerOptions, type ReconcileResult } from "./reconcile.js";
