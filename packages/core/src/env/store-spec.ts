import type { StoreSpec } from "../domain/config.js";
import { ConfigError } from "./config-error.js";
import { textFromEnv, type Env } from "./primitives.js";

/**
 * A STORE value as a message may show it: a mistyped database URL (`postgresql:/u:pw@host`,
 * `postgres:u:pw@host`) may hold a password, so everything before its last `@` is hidden.
 */
export function shownStore(raw: string): string {
  const at = raw.lastIndexOf("@");
  return at < 0 ? raw : `***${raw.slice(at)}`;
}

/** STORE's text as a spec; throws a ConfigError naming STORE (never showing a password) when it is none. */
export function parseStoreSpec(raw: string): StoreSpec {
  const text = raw.trim();
  if (text === "memory") return { kind: "memory" };
  if (text === "firestore") return { kind: "firestore" };
  if (text.startsWith("sqlite:") && text.length > "sqlite:".length) return { kind: "sqlite", path: text.slice("sqlite:".length) };
  if (/^postgres(ql)?:\/\/./.test(text)) return { kind: "postgres", url: text };
  throw new ConfigError("STORE", `must be "memory", "sqlite:PATH", "postgres://USER:PASSWORD@HOST:PORT/DB" or "firestore", got "${shownStore(text)}"`);
}

/** STORE from the environment: null when unset (the host's default). */
export function storeSpecFromEnv(env: Env): StoreSpec | null {
  const raw = textFromEnv(env, "STORE");
  return raw === undefined ? null : parseStoreSpec(raw);
}

/** The spec as STORE would be written; a message shows it through `shownStore` (a URL may hold a password). */
export function storeSpecText(spec: StoreSpec): string {
  switch (spec.kind) {
    case "memory":
    case "firestore":
      return spec.kind;
    case "sqlite":
      return `sqlite:${spec.path}`;
    case "postgres":
      return spec.url;
  }
}
