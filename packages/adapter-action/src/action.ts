import { randomUUID } from "node:crypto";
import * as core from "@actions/core";
import { createRunDecider, runAttemptUrl, webUrl, type Config, type Logger, type SingleRunResult, type WorkflowRunEvent } from "@job-rerunner/core";
import { readStepEvent } from "./event.js";
import { configFromInputs, runIdFromInput, type InputReader } from "./inputs.js";
import { failedJobsOutput, summaryMarkdown, type Verdict } from "./report.js";

/** The core's log entries as the runner's log lines: messages only (no entry carries a token). */
const stepLogger: Logger = (entry) => {
  const fields = Object.entries(entry)
    .filter(([key]) => key !== "level" && key !== "msg")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  const line = fields === "" ? entry.msg : `${entry.msg} (${fields})`;
  if (entry.level === "error") core.error(line);
  else if (entry.level === "warn") core.warning(line);
  else if (entry.level === "info") core.info(line);
  else core.debug(line);
};

function outputs(rerun: boolean, reason: string, failedJobs: string): void {
  core.setOutput("rerun", rerun ? "true" : "false");
  core.setOutput("reason", reason);
  core.setOutput("failed-jobs", failedJobs);
}

/** Nothing to decide (another event, a run still in progress): a notice, never a failure. */
function skip(notice: string): void {
  outputs(false, notice, "[]");
  core.notice(`job-rerunner: ${notice}`);
}

function verdictOf(result: SingleRunResult): Verdict {
  if (result.rerun) return "rerun";
  const outcome = result.outcome;
  if (outcome === undefined) return "not-rerun";
  if (outcome.kind === "accepted") return outcome.dryRun === true ? "dry-run" : "rerun";
  return outcome.kind === "rejected" || outcome.kind === "refused" || outcome.kind === "transient" ? "failed" : "not-rerun";
}

/** Why the step fails, naming what to change. */
function failureMessage(result: SingleRunResult, event: WorkflowRunEvent): string {
  const outcome = result.outcome;
  const what = `${event.repo.owner}/${event.repo.name} run ${event.runId} attempt ${event.attempt}`;
  if (outcome?.kind === "rejected" && outcome.missingPermission === true) {
    return `GitHub refused to re-run the failed jobs of ${what}: the token lacks the actions: write permission (${outcome.message}). Give the job "permissions: actions: write" (with checks: read and contents: read), or set github-token to a token that has it.`;
  }
  return `GitHub did not re-run the failed jobs: ${result.reason}`;
}

async function writeSummary(markdown: string): Promise<void> {
  try {
    await core.summary.addRaw(markdown).write();
  } catch (error) {
    core.warning(`job-rerunner: the job summary could not be written (${error instanceof Error ? error.message : String(error)})`);
  }
}

async function decideStep(read: InputReader): Promise<void> {
  // Masked in every later line, even when the token came from an unmasked step output.
  const token = read("github-token");
  if (token !== "") core.setSecret(token);
  const config: Config = configFromInputs(read, process.env.GITHUB_API_URL);
  const runId = runIdFromInput(read);
  const flaky = read("rerun-flaky-after");
  if (flaky !== "" && flaky !== "0") {
    core.warning("job-rerunner: rerun-flaky-after reads the decision history a server keeps; the action keeps none, so no job counts as flaky");
  }
  const step = readStepEvent(
    {
      eventName: process.env.GITHUB_EVENT_NAME,
      eventPath: process.env.GITHUB_EVENT_PATH,
      deliveryId: `action:${process.env.GITHUB_RUN_ID ?? "local"}:${process.env.GITHUB_RUN_ATTEMPT ?? "1"}`,
      receivedAt: Date.now(),
      handlerId: randomUUID(),
    },
    runId,
  );
  if (step.kind === "skip") return skip(step.notice);
  const decider = createRunDecider({ config, logger: stepLogger });
  let event: WorkflowRunEvent;
  if (step.kind === "dispatch") {
    const found = await decider.readRunEvent(
      { repo: step.repo, runId: step.runId, defaultBranch: step.defaultBranch },
      { deliveryId: `action:dispatch:${step.runId}`, receivedAt: Date.now(), handlerId: randomUUID() },
    );
    if (found.kind === "unreadable") throw new Error(`run ${step.runId} of ${step.repo.owner}/${step.repo.name} could not be read: ${found.message}`);
    if (found.kind === "not-completed") return skip(`run ${step.runId} attempt ${found.attempt} is ${found.status}: decide it once it has completed`);
    event = found.event;
  } else {
    event = step.event;
  }

  const result = await decider.decide(event);
  const verdict = verdictOf(result);
  const link = runAttemptUrl(process.env.GITHUB_SERVER_URL || webUrl(config.githubApiUrl), event.repo.owner, event.repo.name, event.runId, event.attempt);
  outputs(verdict === "rerun", result.reason, failedJobsOutput(result.failedJobs));
  await writeSummary(summaryMarkdown({ verdict, reason: result.reason, event, failedJobs: result.failedJobs, link }));
  for (const job of result.failedJobs) core.info(`failed job "${job.name}": ${job.class ?? "not classified"} (${job.evidence})`);
  if (verdict === "rerun") core.notice(`job-rerunner re-ran the failed jobs: ${result.reason}`);
  else if (verdict === "dry-run") core.notice(`job-rerunner (dry run): ${result.reason}`);
  else if (verdict === "failed") core.setFailed(failureMessage(result, event));
  else core.info(`job-rerunner: ${result.reason}`);
}

/**
 * The action's entry: inputs, the event, the decision, the rerun, the outputs and summary. Never
 * throws and never prints a stack trace: every failure is one `::error::` line saying what to fix.
 */
export async function runAction(read: InputReader = (name) => core.getInput(name)): Promise<void> {
  try {
    await decideStep(read);
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
