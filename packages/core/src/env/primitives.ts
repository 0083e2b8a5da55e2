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

/**
 * The ports fetch refuses to connect to ("bad ports", https://fetch.spec.whatwg.org/#port-blocking):
 * Node's fetch, which Octokit uses, fails on them with only "bad port".
 */
const FETCH_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123,
  135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995,
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** An http(s) URL without its trailing slashes; ConfigError on anything else or on a port fetch refuses. */
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
  if (parsed.port !== "" && FETCH_BAD_PORTS.has(Number(parsed.port))) {
    throw new ConfigError(name, `port ${parsed.port} is one that fetch refuses to connect to (a "bad port": https://fetch.spec.whatwg.org/#port-blocking); use another port, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}
