import { splitList } from "../domain/text.js";
import { ConfigError } from "./config-error.js";

/** Environment variables as a plain map: `process.env`, or one given in code. */
export type Env = Readonly<Record<string, string | undefined>>;

const BOOLEAN_TRUE = new Set(["1", "true", "yes", "on"]);
const BOOLEAN_FALSE = new Set(["", "0", "false", "no", "off"]);

/** A variable's text, trimmed; undefined when it is unset or blank. */
export function textFromEnv(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** A comma-separated list: trimmed items, empty ones dropped. */
export function listFromEnv(env: Env, name: string): string[] {
  return splitList(env[name] ?? "");
}

export function integerFromEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  const n = Number(raw);
  if (n < min || n > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/** true/false, 1/0, yes/no, on/off; a blank or unset variable is `fallback` (false unless given). */
export function booleanFromEnv(env: Env, name: string, fallback = false): boolean {
  const raw = (env[name] ?? "").trim().toLowerCase();
  if (raw === "") return fallback;
  if (BOOLEAN_TRUE.has(raw)) return true;
  if (BOOLEAN_FALSE.has(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

/** An http(s) URL without its trailing slashes. */
export function urlFromEnv(env: Env, name: string, fallback: string, expectation = "must be an http(s) URL"): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `${expectation}, got "${raw}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(name, `${expectation}, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}
