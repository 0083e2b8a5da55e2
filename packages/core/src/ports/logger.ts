export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogEntry {
  readonly level: LogLevel;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** Receives structured entries; adapters turn them into lines their host reads. */
export type Logger = (entry: LogEntry) => void;
