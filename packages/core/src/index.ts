export { verifySignature, sign } from "./signature.js";
export { configFromEnv, defineConfig, DEFAULTS, type Config, type Env } from "./config.js";
export { ConfigError } from "./errors.js";
export { compileBranchPatterns, type BranchMatcher } from "./branches.js";
export { MemoryStore, recordKey, type Store, type Versioned } from "./store.js";
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
