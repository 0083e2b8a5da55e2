import type { FailedJobReport, WorkflowRunEvent } from "@job-rerunner/core";

/** What the step decided, in the words of its outputs and summary. */
export type Verdict = "rerun" | "dry-run" | "not-rerun" | "failed";

export interface StepReport {
  readonly verdict: Verdict;
  readonly reason: string;
  readonly event: WorkflowRunEvent;
  readonly failedJobs: readonly FailedJobReport[];
  /** The run attempt's page on GitHub. */
  readonly link: string;
}

/** The `failed-jobs` output: name, class and evidence per failed job. */
export function failedJobsOutput(jobs: readonly FailedJobReport[]): string {
  return JSON.stringify(jobs.map((j) => ({ name: j.name, class: j.class ?? "not classified", evidence: j.evidence })));
}

/** Text for a Markdown table cell or line: no HTML, no table breaks, one line. */
function cell(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\s+/g, " ")
    .trim();
}

const HEADINGS: Readonly<Record<Verdict, string>> = {
  rerun: "re-ran the failed jobs",
  "dry-run": "would re-run the failed jobs (dry run)",
  "not-rerun": "did not re-run",
  failed: "could not re-run",
};

/** The job summary: the decision, the run attempt with its link, the failed jobs with class and evidence. */
export function summaryMarkdown(report: StepReport): string {
  const { event } = report;
  const workflow = event.workflowName === null ? "" : ` · workflow **${cell(event.workflowName)}**`;
  const branch = event.headBranch === null ? "" : ` on \`${cell(event.headBranch).replace(/`/g, "'")}\``;
  const lines = [
    `### job-rerunner ${HEADINGS[report.verdict]}`,
    "",
    `**${cell(`${event.repo.owner}/${event.repo.name}`)}**${workflow}${branch} · [run ${event.runId} attempt ${event.attempt}](${report.link})`,
    "",
    `> ${cell(report.reason)}`,
    "",
  ];
  if (report.failedJobs.length === 0) {
    lines.push(event.conclusion === "success" ? "No job failed." : "No failed job was listed.");
  } else {
    lines.push("| Failed job | Class | Evidence |", "| --- | --- | --- |");
    for (const job of report.failedJobs) {
      const klass = job.class ?? "not classified";
      const vetoed = job.vetoed === undefined ? "" : ` (${job.vetoed})`;
      lines.push(`| ${cell(job.name)} | \`${klass}\`${vetoed} | ${cell(job.evidence)} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}
