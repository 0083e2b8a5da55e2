import type { LogEntry, Logger, LogLevel } from "@job-rerunner/core";

/** Cloud Logging's severity names for our levels. */
const SEVERITY: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR" };
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface CloudLoggerOptions {
  /** Entries below this level are dropped (default info). */
  readonly level?: LogLevel;
  /** Where each line goes (default stdout, which Cloud Functions forwards to Cloud Logging). */
  readonly write?: (line: string) => void;
}

/**
 * One JSON object per line in the structured form Cloud Logging parses from a function's
 * stdout: `severity` and `message` become the entry's severity and summary, the remaining
 * fields its jsonPayload. `level`/`msg` are renamed rather than duplicated.
 */
export function cloudLogger(options: CloudLoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  return (entry: LogEntry) => {
    if (RANK[entry.level] < min) return;
    const { level, msg, ...fields } = entry;
    // Our severity and message win over same-named fields, so Cloud Logging always classifies the line right.
    // The entry's time goes in `time`, the special field that takes an RFC 3339 string: the special
    // `timestamp` field wants {seconds, nanos}, and an ISO string there is kept as payload instead.
    write(JSON.stringify({ ...fields, severity: SEVERITY[level], message: msg, time: new Date().toISOString() }));
  };
}
