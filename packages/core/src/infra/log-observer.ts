import type { Logger } from "../ports/logger.js";
import type { Observer } from "../ports/observer.js";

/**
 * Observations as structured log lines (`msg: "metric"`), for hosts without a /metrics endpoint
 * (Cloud Functions): a Cloud Logging log-based metric counts them by `jsonPayload.metric` and
 * takes labels from the other fields. Deliveries are left out: the `delivery` line already has
 * `event`, `status` and `durationMs`.
 */
export function logObserver(logger: Logger): Observer {
  return (observation) => {
    if (observation.type === "delivery") return;
    const { type, ...fields } = observation;
    logger({ level: "info", msg: "metric", metric: type, ...fields });
  };
}
