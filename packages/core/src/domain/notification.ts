import type { HistoryEntry } from "./history.js";

/** What a notification is about: the engine gave up on a failed attempt, or re-ran one. */
export type NotifyKind = "give-up" | "rerun";

/** github.com for the public API, the GHES host for `https://HOST/api/v3`; anything else (a stand-in) links to github.com. */
export function webUrl(apiUrl: string): string {
  try {
    const url = new URL(apiUrl);
    if (url.host === "api.github.com") return "https://github.com";
    if (url.pathname.replace(/\/+$/, "") === "/api/v3") return `${url.protocol}//${url.host}`;
  } catch {
    // configFromEnv validated it; fall through to the public site.
  }
  return "https://github.com";
}

export function runAttemptUrl(web: string, owner: string, repo: string, runId: number, attempt: number): string {
  return `${web}/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/actions/runs/${runId}/attempts/${attempt}`;
}

/** The message text: plain text with the link spelled out, so every chat product shows it. */
export function notificationText(kind: NotifyKind, entry: HistoryEntry, failedJobs: readonly string[], link: string): string {
  const repo = `${entry.repo.owner}/${entry.repo.name}`;
  const workflow = entry.workflow ?? "(unnamed workflow)";
  const branch = entry.branch ?? "(unknown branch)";
  const head =
    kind === "give-up"
      ? `job-rerunner gave up: ${repo} · ${workflow} on ${branch}, run ${entry.runId} attempt ${entry.attempt} failed and will not be re-run`
      : entry.verdict === "dry-run"
        ? `job-rerunner would re-run the failed jobs of ${repo} · ${workflow} on ${branch}, run ${entry.runId} attempt ${entry.attempt} (DRY_RUN: GitHub not called)`
        : `job-rerunner re-ran the failed jobs of ${repo} · ${workflow} on ${branch}, run ${entry.runId} attempt ${entry.attempt}`;
  const jobs = failedJobs.length === 0 ? "(not known)" : failedJobs.slice(0, 20).join(", ") + (failedJobs.length > 20 ? `, and ${failedJobs.length - 20} more` : "");
  return `${head}\nRun: ${link}\nFailed jobs: ${jobs}\nReason: ${entry.reason}`;
}
