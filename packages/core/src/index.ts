export { verifySignature, sign } from "./signature.js";
export { configFromEnv, defineConfig, DEFAULTS, type Config, type Env } from "./config.js";
export { ConfigError } from "./errors.js";
export { compileBranchPatterns, type BranchMatcher } from "./branches.js";
export { MemoryStore, recordKey, pendingUntil, type Store, type Versioned, type VersionedDoc, type JsonValue } from "./store.js";
export {
  historyRunKey,
  MAX_HISTORY_PER_RUN,
  MAX_HISTORY_JOBS,
  MAX_HISTORY_TEXT,
  type HistoryEntry,
  type HistoryJob,
  type Verdict,
} from "./history.js";
export { logObserver, safeObserver, type Observation, type Observer, type RerunMetricOutcome } from "./observe.js";
export { observeOctokit } from "./github-observed.js";
export { createNotifier, notifierFromEnv, notifyHost, NOTIFY_KINDS, type Notifier, type NotifierOptions, type NotifyKind, type SendResult } from "./notify.js";
export { notificationText, runAttemptUrl, webUrl } from "./visibility.js";
export { flakyJobs, type FlakyJob } from "./flaky.js";
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
