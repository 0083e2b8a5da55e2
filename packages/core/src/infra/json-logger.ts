import type { LogLevel, Logger } from "../ports/logger.js";
import { stdoutLines } from "./stdout-lines.js";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  return v === "debug" || v === "info" || v === "warn" || v === "error" ? v : undefined;
}

/** One default stdout writer per process, however many loggers write to it (their lines stay in order). */
let stdout: ((line: string) => void) | undefined;

/**
 * One JSON object per line (to stdout by default, once per event-loop turn: see stdout-lines.ts),
 * entries below `level` dropped. The line is `{"time":...}` followed by the entry's own fields,
 * as `JSON.stringify({ time, ...entry })` gives it, without copying the entry.
 */
export function jsonLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? (stdout ??= stdoutLines());
  return (entry) => {
    if (RANK[entry.level] < min) return;
    const time = new Date().toISOString();
    // An entry always has level and msg, so its JSON is "{" + fields + "}": the time goes in front.
    write(Object.hasOwn(entry, "time") ? JSON.stringify({ time, ...entry }) : `{"time":"${time}",${JSON.stringify(entry).slice(1)}`);
  };
}

export const silentLogger: Logger = () => {};
