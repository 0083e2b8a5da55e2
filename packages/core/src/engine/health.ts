import type { Store } from "../ports/store.js";
import { withTimeout } from "./timing.js";

/** A key no record ever has: reading it asks the store to answer without touching real data. */
export const READINESS_KEY = "job-rerunner-readiness-probe";
export const READINESS_TIMEOUT_MS = 1000;

/** A health endpoint's answer: 200 or 503 with a one-line JSON body. */
export interface HealthAnswer {
  readonly status: 200 | 503;
  readonly body: string;
}

/** `/healthz`: the process is up and answering. */
export function liveness(): HealthAnswer {
  return { status: 200, body: JSON.stringify({ status: "ok" }) };
}

/** `/readyz`: the store answers a read within the timeout (default 1 s); never throws. */
export async function readiness(store: Store, timeoutMs: number = READINESS_TIMEOUT_MS): Promise<HealthAnswer> {
  try {
    await withTimeout(store.get(READINESS_KEY), timeoutMs, () => new Error(`the store did not answer within ${timeoutMs} ms`));
    return { status: 200, body: JSON.stringify({ status: "ready", store: "ok" }) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { status: 503, body: JSON.stringify({ status: "not ready", store: reason.split("\n")[0] }) };
  }
}
