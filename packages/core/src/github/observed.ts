import type { Octokit } from "@octokit/rest";
import type { Observer } from "../ports/observer.js";

function remaining(headers: Record<string, string | number | undefined> | undefined): number | null {
  const raw = headers?.["x-ratelimit-remaining"];
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/**
 * Reports every request an Octokit makes (route template, status, rate-limit remaining) to the
 * observer, from Octokit's own request hooks: the call sites stay as they are, and a new call
 * module built on the same Octokit is measured too. The template (not the expanded URL) keeps
 * the metric's label set small.
 */
export function observeOctokit(octokit: Octokit, given: Observer): void {
  // A metrics sink that throws must cost no request its answer.
  const observer: Observer = (observation) => {
    try {
      given(observation);
    } catch {
      // Ignored: observing is read-only.
    }
  };
  octokit.hook.after("request", (response, options) => {
    const endpoint = `${options.method} ${options.url}`;
    observer({ type: "github-call", endpoint, status: response.status, rateLimitRemaining: remaining(response.headers) });
  });
  octokit.hook.error("request", (error, options) => {
    const endpoint = `${options.method} ${options.url}`;
    const e = error as { status?: unknown; response?: { headers?: Record<string, string | number | undefined> } };
    // Octokit reports a failed fetch (no answer) as status 500 without a response.
    const status = typeof e.status === "number" && e.response !== undefined ? e.status : null;
    observer({ type: "github-call", endpoint, status, rateLimitRemaining: remaining(e.response?.headers) });
    throw error;
  });
}
