import { clip } from "./text.js";

/** A JSON object as parsed (a payload, a listed run, a log entry): its fields are read and checked one by one. */
export type JsonObject = Record<string, unknown>;

export const isJsonObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** Text from GitHub's JSON as it enters: cut to ECHO_LIMIT, since it is echoed in answers, logs and records; null when absent or empty. */
export const jsonText = (value: unknown): string | null => (typeof value === "string" && value.length > 0 ? clip(value) : null);
