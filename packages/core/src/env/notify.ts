import type { NotifyKind } from "../domain/notification.js";
import { ConfigError } from "./config-error.js";
import { textFromEnv, type Env } from "./primitives.js";
import { splitList } from "../domain/text.js";

const NOTIFY_KINDS: readonly NotifyKind[] = ["give-up", "rerun"];

/**
 * NOTIFY_URL and NOTIFY_ON from the environment: undefined when NOTIFY_URL is unset. Throws a
 * ConfigError naming the variable on a bad value.
 */
export function notifierOptionsFromEnv(env: Env): { readonly url: string; readonly on: ReadonlySet<NotifyKind> } | undefined {
  const raw = textFromEnv(env, "NOTIFY_URL");
  if (raw === undefined) {
    if (textFromEnv(env, "NOTIFY_ON") !== undefined) throw new ConfigError("NOTIFY_ON", "is set but NOTIFY_URL is not: set the incoming-webhook URL to notify");
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("NOTIFY_URL", "must be an http(s) URL (an incoming-webhook URL)");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ConfigError("NOTIFY_URL", "must be an http(s) URL (an incoming-webhook URL)");
  const kinds = splitList(env.NOTIFY_ON ?? "give-up").map((k) => k.toLowerCase());
  for (const k of kinds) {
    if (!(NOTIFY_KINDS as readonly string[]).includes(k)) throw new ConfigError("NOTIFY_ON", `must be a comma-separated list of ${NOTIFY_KINDS.join(", ")}; got "${k}"`);
  }
  if (kinds.length === 0) throw new ConfigError("NOTIFY_ON", `must name at least one of ${NOTIFY_KINDS.join(", ")}`);
  return { url: raw, on: new Set(kinds as NotifyKind[]) };
}
