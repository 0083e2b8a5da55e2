import type { LogLevel, Logger } from "../ports/logger.js";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  return v === "debug" || v === "info" || v === "warn" || v === "error" ? v : undefined;
}

/** One JSON object per line (to stdout by default), entries below `level` dropped. */
export function jsonLogger(options: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  return (entry) => {
    if (RANK[entry.level] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), ...entry }));
  };
}

export const silentLogger: Logger = () => {};
