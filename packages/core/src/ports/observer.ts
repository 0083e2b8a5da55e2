/** How a rerun the engine drove came out, in the words the metrics use. */
export type RerunMetricOutcome = "requested" | "already_done" | "refused" | "pending" | "dry_run";

/**
 * What the engine reports as it works, for metrics and logs. Read-only: an observer sees what
 * was decided and recorded, and nothing it does can change a decision.
 */
export type Observation =
  /** A delivery (or a sweep's event) was answered. `event` is the X-GitHub-Event (or the event kind). */
  | { readonly type: "delivery"; readonly event: string | null; readonly status: number; readonly durationMs: number }
  /** A rerun call was made and its outcome recorded (or a verdict refused it). */
  | { readonly type: "rerun"; readonly outcome: RerunMetricOutcome }
  /** A compare-and-set lost to another writer; the engine read again and decided again. */
  | { readonly type: "store-conflict"; readonly operation: "decide" | "settle" | "claim" }
  /** One HTTP call to GitHub. `endpoint` is the route template; `status` null when no answer came. */
  | {
      readonly type: "github-call";
      readonly endpoint: string;
      readonly status: number | null;
      /** `x-ratelimit-remaining` of the answer, when it had one. */
      readonly rateLimitRemaining: number | null;
    }
  /** One pass of a sweep over pending reruns (reported by the sweep, wherever it runs). */
  | { readonly type: "sweep"; readonly outcome: "ok" | "error"; readonly driven?: number }
  /** A lost delivery was redelivered from the App's delivery log (GitHub answered 202), or the request failed. */
  | { readonly type: "redelivery"; readonly outcome: "requested" | "failed" }
  /** A notification was sent, failed for good, or was skipped because another delivery had claimed it. */
  | { readonly type: "notification"; readonly kind: string; readonly outcome: "sent" | "failed" | "duplicate" };

export type Observer = (observation: Observation) => void;
