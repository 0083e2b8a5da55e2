import type { Logger } from "../ports/logger.js";
import type { Observer } from "../ports/observer.js";

/** An observer that never throws into the engine: a broken metrics sink costs no delivery its answer. */
export function safeObserver(observers: readonly (Observer | undefined)[]): Observer {
  const active = observers.filter((o): o is Observer => o !== undefined);
  return (observation) => {
    for (const observe of active) {
      try {
        observe(observation);
      } catch {
        // A metrics sink that throws is ignored; the delivery goes on.
      }
    }
  };
}

/** A logger that never throws: a full disk or a closed pipe must never cost a delivery its answer. */
export function safeLogger(logger: Logger): Logger {
  return (entry) => {
    try {
      logger(entry);
    } catch {
      // Nothing better to do with a log line that cannot be written.
    }
  };
}
