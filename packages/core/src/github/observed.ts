import type { Octokit } from "@octokit/rest";
import type { Observer } from "../ports/observer.js";
import { describe, responseHeader, type ResponseHeaders } from "./errors.js";

function remaining(headers: ResponseHeaders): number | null {
  const raw = responseHeader(headers, "x-ratelimit-remaining");
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
    const { status, headers } = describe(error);
    observer({ type: "github-call", endpoint, status, rateLimitRemaining: remaining(headers) });
    throw error;
  });
}
