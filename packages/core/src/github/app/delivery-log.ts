import type { DeliveryLog } from "../../ports/github.js";
import type { Observer } from "../../ports/observer.js";
import { boundSignal } from "../bounded-signal.js";
import { DEFAULT_RETRY_MS, describe, isRateLimited, responseHeader, slowDownUntil, type ResponseHeaders } from "../errors.js";
import { nextLinkParam } from "../links.js";
import { createOctokit, type TokenSource } from "../octokit.js";
import { LIST_REQUEST_TIMEOUT_MS } from "../runs.js";

export interface DeliveryLogOptions {
  /** The App's JWT (GitHubApp.jwt): the log is the App's own, across every installation. */
  readonly jwt: TokenSource;
  readonly baseUrl: string;
  readonly clock?: () => number;
  /** Sees every request (metrics). */
  readonly observer?: Observer | undefined;
  readonly requestTimeoutMs?: number;
}

/**
 * `GET /app/hook/deliveries` (cursor pagination through the Link header) and
 * `POST /app/hook/deliveries/{id}/attempts`, as the App, on the client every call module shares
 * (createOctokit: no automatic retries, so a redelivery is never sent twice by the client).
 */
export function createDeliveryLog(options: DeliveryLogOptions): DeliveryLog {
  const octokit = createOctokit({ token: options.jwt, baseUrl: options.baseUrl, observer: options.observer });
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.requestTimeoutMs ?? LIST_REQUEST_TIMEOUT_MS;
  const rateLimited = (status: number, message: string, headers: ResponseHeaders) =>
    isRateLimited(status, message, headers)
      ? { kind: "rate-limited" as const, message: `rate limited (${status}): ${message}`, until: slowDownUntil(headers, clock(), 1) ?? clock() + DEFAULT_RETRY_MS }
      : null;
  return {
    async listPage(cursor, perPage, stop) {
      const { signal, done } = boundSignal(stop, timeoutMs);
      try {
        const response = await octokit.request("GET /app/hook/deliveries", {
          per_page: perPage,
          ...(cursor === null ? {} : { cursor }),
          request: { signal },
        });
        const data: unknown = response.data;
        if (!Array.isArray(data)) {
          return { kind: "unavailable", message: `GitHub answered ${response.status} without a list of deliveries`, answered: true };
        }
        const headers: ResponseHeaders = response.headers;
        const next = nextLinkParam(responseHeader(headers, "link"), "cursor");
        if (next.kind === "missing") {
          // Read as the last page, the pages after it would never be judged and the mark would pass them.
          return { kind: "unavailable", message: `GitHub's Link header names a next page without a cursor`, answered: true };
        }
        if (next.kind === "value" && next.value === cursor) {
          return { kind: "unavailable", message: `GitHub's Link header names this same page (cursor ${next.value.slice(0, 40)}) as the next one`, answered: true };
        }
        return { kind: "page", entries: data, nextCursor: next.kind === "value" ? next.value : null, slowDownUntil: slowDownUntil(headers, clock()) };
      } catch (error) {
        const { status, message, headers } = describe(error);
        if (status === null) return { kind: "unavailable", message: `no answer from GitHub: ${message}`, answered: false };
        const limited = rateLimited(status, message, headers);
        if (limited !== null) return limited;
        if (status === 401 || status === 403 || status === 404) {
          return { kind: "unauthorized", message: `${status}: ${message} — GitHub refused the App's JWT on its delivery log: check GITHUB_APP_ID and the key` };
        }
        return { kind: "unavailable", message: `GitHub answered ${status}: ${message}`, answered: true };
      } finally {
        done();
      }
    },
    async redeliver(attemptId, stop) {
      const { signal, done } = boundSignal(stop, timeoutMs);
      try {
        const response = await octokit.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: attemptId, request: { signal } });
        return { kind: "accepted", slowDownUntil: slowDownUntil(response.headers, clock()) };
      } catch (error) {
        const { status, message, headers } = describe(error);
        if (status === null) return { kind: "unavailable", message: `no answer from GitHub: ${message}` };
        const limited = rateLimited(status, message, headers);
        if (limited !== null) return limited;
        if (status >= 500) return { kind: "unavailable", message: `GitHub answered ${status}: ${message}` };
        if (status === 401 || status === 403) {
          return { kind: "unauthorized", message: `${status}: ${message} — GitHub refused the App's JWT on a redelivery: check GITHUB_APP_ID and the key` };
        }
        return { kind: "refused", message: `${status}: ${message}` };
      } finally {
        done();
      }
    },
  };
}
