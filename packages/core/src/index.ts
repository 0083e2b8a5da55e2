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
export { settingFromEnv, settingsFromFile, overlay, SETTINGS, type Settings, type SettingName } from "./settings.js";
export { parseRepoFile, REPO_CONFIG_PATH, type RepoFileResult } from "./repo-file.js";
export { createOctokitContents, type ContentsClient, type FileRef, type FileReadResult } from "./contents.js";
export { createGitHubAccess, type GitHubAccess, type EventClients } from "./auth/access.js";
export { createInstallationTokens, type InstallationTokens, type IssuedToken } from "./auth/installation-tokens.js";
export type { AppCredentials } from "./auth/app-tokens.js";
export type { TokenSource } from "./auth/octokit-auth.js";
