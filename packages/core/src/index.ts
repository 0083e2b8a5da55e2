export { verifySignature, sign } from "./signature.js";
export { configFromEnv, defineConfig, DEFAULTS, shownStore, type Config, type Env } from "./config.js";
export { ConfigError } from "./errors.js";
export { compileBranchPatterns, branchRefusal, DEFAULT_BRANCH_ONLY, type BranchMatcher } from "./branches.js";
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
export { clip, ECHO_LIMIT } from "./echo.js";
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
export {
  createOctokit,
  createReadOnlyOctokit,
  USER_AGENT,
  PROJECT_URL,
  GITHUB_API_VERSION,
  GITHUB_MEDIA_TYPE,
  type OctokitOptions,
} from "./octokit.js";
export { classifyJob, MAX_EVIDENCE_CHARS, MAX_LINE_CHARS } from "./policy/classify.js";
export { TRANSIENT_CLASSES, type TransientClass, type FactSource } from "./policy/transient-classes.js";
export {
  compilePolicy,
  policyFromEnv,
  classifies,
  needsRemoteFacts,
  PolicyError,
  POLICY_DEFAULTS,
  POLICY_VARIABLES,
  type RerunPolicy,
  type RawPolicy,
  type PolicyField,
} from "./policy/config.js";
export { createOctokitFactsClient, type FactsClient, type JobRef, type AttemptRef, type ListedJob, type Listing } from "./github-facts.js";
export { compileSafePattern, checkPatternSafety, MAX_PATTERNS, MAX_PATTERN_LENGTH, MAX_PATTERN_WEIGHT, MAX_LIST_WEIGHT, type LinePattern, type WeightedPattern } from "./policy/safe-pattern.js";
export { judgeAttempt, describeJob, type AttemptVerdict, type FailedJob } from "./policy/verdict.js";
export type { JobFacts, StepFact, Fetched, JobClass, JobClassName, EventFacts } from "./policy/facts.js";
export { toHttpResponse, HEALTH_TEXT, type HttpResponse } from "./http.js";
export { liveness, readiness, READINESS_KEY, READINESS_TIMEOUT_MS, type HealthAnswer } from "./health.js";
export { checkAppCredentials, checkCredentials, credentialProblem, warnAboutCredentials, type CredentialCheck, type Credentials } from "./credentials.js";
export { sweepConfigFromEnv, SWEEP_DEFAULTS, type SweepConfig, type SweepRepo } from "./sweep-config.js";
export { createRunLister, slowDownUntil, hasNextLink, RATE_LIMIT_RESERVE, type RunLister, type RunsPageRequest, type RunsPageResult } from "./github-runs.js";
export { readListedRun, sweepEvent, type ListedRun, type SkippedRun } from "./sweep-event.js";
export { createSweeper, formatSweepSummary, type Sweeper, type SweeperOptions, type SweepSummary } from "./sweep.js";
export { createPendingDriver, pendingEvent, type PendingDriver, type PendingDriverOptions, type PendingSummary } from "./pending-driver.js";
export { createReconciler, type Reconciler, type ReconcilerOptions, type ReconcileResult } from "./reconcile.js";
export { settingFromEnv, settingsFromFile, overlay, SETTINGS, type Settings, type SettingName } from "./settings.js";
export { parseRepoFile, REPO_CONFIG_PATH, type RepoFileResult } from "./repo-file.js";
export { createOctokitContents, type ContentsClient, type FileRef, type FileReadResult } from "./contents.js";
export { createGitHubAccess, type GitHubAccess, type EventClients } from "./auth/access.js";
export { createInstallationTokens, type InstallationTokens, type IssuedToken } from "./auth/installation-tokens.js";
export type { AppCredentials } from "./auth/app-tokens.js";
export type { TokenSource } from "./octokit.js";
