import type { NotifyKind } from "../domain/notification.js";
import type { Notifier } from "../ports/notifier.js";

export interface NotifierOptions {
  /** The incoming-webhook URL (Slack, Mattermost, Discord's /slack endpoint, a Teams workflow). */
  readonly url: string;
  /** Which kinds are sent (default: give-up only). */
  readonly on?: ReadonlySet<NotifyKind>;
  /** Tries per message, first included (default 3). */
  readonly tries?: number;
  /** Pause before the 2nd, 3rd, ... try (default 1 s, then 4 s; the last value repeats). */
  readonly retryDelaysMs?: readonly number[];
  /** Longest wait for one try's answer (default 5 s). */
  readonly tryTimeoutMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** The URL without its path: incoming-webhook paths are secrets, so only the host is ever logged. */
export function notifyHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid URL)";
  }
}

/** A notifier posting JSON with a `text` field, which every common chat webhook accepts. */
export function createNotifier(options: NotifierOptions): Notifier {
  const on = options.on ?? new Set<NotifyKind>(["give-up"]);
  const tries = Math.max(1, options.tries ?? 3);
  const delays = options.retryDelaysMs ?? [1000, 4000];
  const tryTimeoutMs = options.tryTimeoutMs ?? 5000;
  return {
    on,
    host: notifyHost(options.url),
    async send(text, budgetMs) {
      const until = Date.now() + budgetMs;
      let error = "no try was made: no time left";
      let made = 0;
      for (let n = 0; n < tries; n++) {
        if (n > 0) {
          const pause = delays[Math.min(n - 1, delays.length - 1)] ?? 0;
          if (Date.now() + pause >= until) break;
          await sleep(pause);
        }
        const left = until - Date.now();
        if (left <= 0) break;
        made++;
        try {
          const response = await fetch(options.url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ text }),
            signal: AbortSignal.timeout(Math.min(tryTimeoutMs, left)),
          });
          // Drain the body so the connection is released.
          await response.arrayBuffer().catch(() => undefined);
          if (response.ok) return { ok: true, tries: made };
          error = `the endpoint answered ${response.status}`;
          // A 4xx other than 408/429 will not change on a retry (a revoked webhook answers 404 or 410).
          if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
        } catch (e) {
          error = e instanceof Error && e.name === "TimeoutError" ? "the endpoint did not answer in time" : `could not reach the endpoint: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
      return { ok: false, tries: made, error };
    },
  };
}
