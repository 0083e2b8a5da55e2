export { verifySignature, sign } from "./webhook/signature.js";
export { configFromEnv, defineConfig, DEFAULTS, shownStore, type Config, type Env } from "./env/config.js";
export { ConfigError } from "./env/config-error.js";
export { compileBranchPatterns, branchRefusal, DEFAULT_BRANCH_ONLY, type BranchMatcher } from "./domain/branches.js";
export { MemoryStore, recordKey, pendingUntil, type Store, type Versioned, type VersionedDoc, type JsonValue } from "./ports/store.js";
export {
  historyRunKey,
  MAX_HISTORY_PER_RUN,
  MAX_HISTORY_JOBS,
  MAX_HISTORY_TEXT,
  type HistoryEntry,
  type HistoryJob,
  type Verdict,
} from "./domain/history.js";
export { logObserver, safeObserver, type Observation, type Observer, type RerunMetricOutcome } from "./ports/observer.js";
export { observeOctokit } from "./github/observed.js";
export { createNotifier, notifierFromEnv, notifyHost, NOTIFY_KINDS, type Notifier, type NotifierOptions, type NotifyKind, type SendResult } from "./ports/notifier.js";
export { notificationText, runAttemptUrl, webUrl } from "./engine/visibility.js";
export { flakyJobs, type FlakyJob } from "./domain/flaky.js";
export { jsonLogger, silentLogger, parseLogLevel, type Logger, type LogEntry, type LogLevel } from "./ports/logger.js";
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
} from "./domain/types.js";
export { clip, ECHO_LIMIT } from "./domain/text.js";
export { parseEvent, type ParsedEvent, type Ignored, type Envelope } from "./domain/event.js";
export { decide, settle, rerunHappened, MAX_DELIVERY_MEMO, MAX_JOBS, type RerunOutcome, type Settlement } from "./domain/machine.js";
export {
  createOctokitClient,
  createDryRunClient,
  classifyRerunError,
  type GitHubClient,
  type RunRef,
  type RerunCallResult,
  type RunReadResult,
} from "./github/reruns.js";
export {
  createRerunner,
  type Rerunner,
  type RerunnerOptions,
  type WebhookRequest,
  type WebhookResponse,
  type ResponseBody,
  type HeaderValue,
} from "./engine/pipeline.js";
export {
  createOctokit,
  createReadOnlyOctokit,
  USER_AGENT,
  PROJECT_URL,
  GITHUB_API_VERSION,
  GITHUB_MEDIA_TYPE,
  type OctokitOptions,
} from "./github/octokit.js";
export { classifyJob, MAX_EVIDENCE_CHARS, MAX_LINE_CHARS } from "./domain/policy/classify.js";
export { TRANSIENT_CLASSES, type TransientClass, type FactSource } from "./domain/policy/transient-classes.js";
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
} from "./domain/policy/policy.js";
export { createOctokitFactsClient, type FactsClient, type JobRef, type AttemptRef, type ListedJob, type Listing } from "./github/facts.js";
export { compileSafePattern, checkPatternSafety, MAX_PATTERNS, MAX_PATTERN_LENGTH, MAX_PATTERN_WEIGHT, MAX_LIST_WEIGHT, type LinePattern, type WeightedPattern } from "./domain/policy/safe-pattern.js";
export { judgeAttempt, describeJob, type AttemptVerdict, type FailedJob } from "./domain/policy/verdict.js";
export type { JobFacts, StepFact, Fetched, JobClass, JobClassName, EventFacts } from "./domain/policy/facts.js";
export { toHttpResponse, HEALTH_TEXT, type HttpResponse } from "./webhook/http-response.js";
export { liveness, readiness, READINESS_KEY, READINESS_TIMEOUT_MS, type HealthAnswer } from "./engine/health.js";
export { checkAppCredentials, checkCredentials, credentialProblem, warnAboutCredentials, type CredentialCheck, type Credentials } from "./github/credentials.js";
export { sweepConfigFromEnv, SWEEP_DEFAULTS, type SweepConfig, type SweepRepo } from "./env/sweep.js";
export { createRunLister, slowDownUntil, hasNextLink, RATE_LIMIT_RESERVE, type RunLister, type RunsPageRequest, type RunsPageResult } from "./github/runs.js";
export { readListedRun, sweepEvent, type ListedRun, type SkippedRun } from "./domain/listed-run.js";
export { createSweeper, formatSweepSummary, type Sweeper, type SweeperOptions, type SweepSummary } from "./engine/reconcile/sweep.js";
export { createPendingDriver, pendingEvent, type PendingDriver, type PendingDriverOptions, type PendingSummary } from "./engine/reconcile/pending-driver.js";
export { createReconciler, type Reconciler, type ReconcilerOptions, type ReconcileResult } from "./engine/reconcile/reconciler.js";
export { settingFromEnv, settingsFromFile, overlay, SETTINGS, type Settings, type SettingName } from "./domain/settings.js";
export { parseRepoFile, REPO_CONFIG_PATH, type RepoFileResult } from "./domain/repo-file.js";
export { createOctokitContents, type ContentsClient, type FileRef, type FileReadResult } from "./github/contents.js";
export { createGitHubAccess, type GitHubAccess, type EventClients } from "./github/clients.js";
export { createInstallationTokens, type InstallationTokens, type IssuedToken } from "./github/app/installation-tokens.js";
export type { AppCredentials } from "./github/app/app-auth.js";
export type { TokenSource } from "./github/octokit.js";
