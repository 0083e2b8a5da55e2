import { describe } from "./errors.js";
import { createOctokit, type OctokitOptions } from "./octokit.js";
import { MAX_ANNOTATIONS } from "../domain/policy/lines.js";
import type { Fetched } from "../domain/policy/facts.js";
import type { FactsClient } from "../ports/github.js";
import { stepsOf } from "../domain/policy/steps.js";
import { JOB_STATUSES } from "../domain/event.js";

/** Jobs listed per attempt: one page (GitHub's maximum); more than that is a widespread failure anyway. */
export const LISTED_JOBS_PER_PAGE = 100;

function why(error: unknown): string {
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return "no answer before the deadline";
  const { status, message } = describe(error);
  return status === null ? `no answer from GitHub: ${message}` : `GitHub answered ${status}: ${message}`;
}

/**
 * Reads at most `maxBytes` of a body, keeping the last bytes read, and stops (cancelling the
 * stream) as soon as the limit is passed: a server that ignores the byte range cannot make us read
 * its whole file.
 */
async function readBounded(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (body === null) return { bytes: new Uint8Array(0), truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - total;
      if (value.byteLength >= room) {
        chunks.push(value.subarray(0, room));
        total += room;
        truncated = value.byteLength > room;
        if (truncated || total >= maxBytes) break;
        continue;
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    // Stops the download: the connection is closed, not drained.
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { bytes, truncated };
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** A tail that starts mid-file starts mid-line: drop that first partial line. */
function fromLineStart(text: string): string {
  const newline = text.indexOf("\n");
  return newline === -1 ? text : text.slice(newline + 1);
}

/**
 * Follows the short-lived download URL of a job's log (another host: no token is sent there) and
 * reads its last `maxBytes`: a suffix range first; a server that answers 200 with a known length
 * gets one explicit range; one that ignores that too is read up to the limit and no further.
 */
async function downloadTail(location: string, maxBytes: number, signal: AbortSignal): Promise<Fetched<string>> {
  let range = `bytes=-${maxBytes}`;
  for (let round = 0; round < 2; round++) {
    const response = await fetch(location, { headers: { range, "accept-encoding": "identity" }, signal, redirect: "follow" });
    if (response.status === 416) {
      await response.body?.cancel().catch(() => {});
      return { state: "read", value: "" };
    }
    if (response.status === 206) {
      const { bytes } = await readBounded(response.body, maxBytes);
      const start = Number(/^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1] ?? "0");
      const text = decoder.decode(bytes);
      return { state: "read", value: start > 0 ? fromLineStart(text) : text };
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return { state: "unknown", why: `the log download answered ${response.status}` };
    }
    const length = Number(response.headers.get("content-length") ?? Number.NaN);
    if (round === 0 && Number.isSafeInteger(length) && length > maxBytes) {
      // The suffix form was ignored but the size is known: ask for the tail by offsets instead.
      await response.body?.cancel().catch(() => {});
      range = `bytes=${length - maxBytes}-${length - 1}`;
      continue;
    }
    const { bytes } = await readBounded(response.body, maxBytes);
    return { state: "read", value: decoder.decode(bytes) };
  }
  return { state: "unknown", why: "the log download ignored the byte range" };
}

/** The policy's look-ups on Octokit (built by createOctokit, like every GitHub call module). */
export function createOctokitFactsClient(options: OctokitOptions): FactsClient {
  const octokit = createOctokit(options);
  return {
    async annotations(job, signal) {
      try {
        const { data } = await octokit.rest.checks.listAnnotations({
          owner: job.owner,
          repo: job.repo,
          check_run_id: job.jobId,
          per_page: MAX_ANNOTATIONS,
          request: { signal },
        });
        // A warning or notice is written as the runner writes it in the log (`##[warning]...`): context, not the step's error.
        const level = (a: { annotation_level?: string | null }): string => (a.annotation_level === "failure" || a.annotation_level == null ? "" : `##[${a.annotation_level === "warning" ? "warning" : "notice"}]`);
        const messages = data.flatMap((a) => [a.title ?? "", a.message ?? ""].filter((m) => m.length > 0).map((m) => `${level(a)}${m}`));
        return { state: "read", value: messages };
      } catch (error) {
        return { state: "unknown", why: why(error) };
      }
    },
    async logTail(job, maxBytes, signal) {
      try {
        // GitHub answers 302 to a short-lived URL on another host; follow it by hand so the body
        // is never read here in full and the token stays on api.github.com.
        const response = await octokit.request("GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs", {
          owner: job.owner,
          repo: job.repo,
          job_id: job.jobId,
          request: { signal, redirect: "manual", parseSuccessResponseBody: false },
        });
        const location = (response.headers as Record<string, string | undefined>).location;
        const body = response.data as unknown as ReadableStream<Uint8Array> | null;
        if (location !== undefined && response.status >= 300 && response.status < 400) {
          await body?.cancel().catch(() => {});
          return await downloadTail(new URL(location, options.baseUrl).toString(), maxBytes, signal);
        }
        // A server that sends the log itself: read its first bytes only.
        const { bytes } = await readBounded(body, maxBytes);
        return { state: "read", value: decoder.decode(bytes) };
      } catch (error) {
        return { state: "unknown", why: why(error) };
      }
    },
    async attemptJobs(attempt, signal) {
      try {
        const { data } = await octokit.rest.actions.listJobsForWorkflowRunAttempt({
          owner: attempt.owner,
          repo: attempt.repo,
          run_id: attempt.runId,
          attempt_number: attempt.attempt,
          per_page: LISTED_JOBS_PER_PAGE,
          request: { signal },
        });
        const jobs = data.jobs.map((j) => ({
          id: j.id,
          name: j.name,
          status: JOB_STATUSES.get(j.status) ?? "queued",
          conclusion: j.conclusion ?? null,
          steps: stepsOf(j.steps),
        }));
        return { state: "read", jobs };
      } catch (error) {
        return { state: "unknown", why: why(error) };
      }
    },
  };
}
