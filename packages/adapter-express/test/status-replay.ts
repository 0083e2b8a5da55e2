// Recorded runs replayed as signed deliveries (payloads from @octokit/webhooks-examples), for
// the status page's tests: flaky jobs, a give-up at the attempt limit, a refused and a pending rerun.
import { configFromEnv, createRerunner } from "@job-rerunner/core";
import { signedDelivery, workflowJobPayload, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";
import { SqliteStore } from "../src/sqlite-store.js";
import { deliver, type Answer } from "./support.js";

const BASE = { owner: "octo-org", repo: "octo-repo", branch: "master", workflow: "CI" } as const;

interface JobOutcome {
  readonly id: number;
  readonly name: string;
  readonly conclusion: "success" | "failure";
}

/** One attempt: every job queued, then completed, then the run completed. Returns the answers, in order. */
export async function replayAttempt(url: string, secret: string, runId: number, attempt: number, jobs: readonly JobOutcome[], workflow: string = BASE.workflow): Promise<Answer[]> {
  const shape = { ...BASE, workflow, runId, attempt };
  const answers: Answer[] = [];
  for (const j of jobs) answers.push(await deliver(url, signedDelivery(secret, "workflow_job", workflowJobPayload({ ...shape, jobId: j.id, jobName: j.name, action: "queued" }))));
  for (const j of jobs) {
    answers.push(await deliver(url, signedDelivery(secret, "workflow_job", workflowJobPayload({ ...shape, jobId: j.id, jobName: j.name, action: "completed", conclusion: j.conclusion }))));
  }
  const failed = jobs.some((j) => j.conclusion === "failure");
  answers.push(await deliver(url, signedDelivery(secret, "workflow_run", workflowRunPayload({ ...shape, action: "completed", conclusion: failed ? "failure" : "success" }))));
  return answers;
}

/**
 * The replay (RUN_ATTEMPTS=3). Expected flaky table over 7 days:
 * - CI / "test (ubuntu)": failed 4 (run 801 attempt 1; run 802 attempts 1, 2, 3), re-run 3, re-run passed 1 (run 801).
 * - CI / "lint": failed 1, re-run 1, re-run passed 1 (run 803).
 * - Deploy / "deploy": failed 1, re-run 0 (run 804: GitHub refused), passed 0.
 * - Deploy / "smoke": failed 1, re-run 0 (run 805: GitHub answered 500, pending), passed 0.
 */
export async function replayRecordedRuns(url: string, secret: string, gh: FakeGitHub): Promise<void> {
  const build = (id: number): JobOutcome => ({ id, name: "build", conclusion: "success" });
  const ubuntu = (id: number, conclusion: JobOutcome["conclusion"]): JobOutcome => ({ id, name: "test (ubuntu)", conclusion });
  gh.rerun("ok");
  for (const runId of [801, 802, 803, 804, 805]) gh.run(runId).status = "completed";
  // 801: flaky, passes on its rerun.
  await replayAttempt(url, secret, 801, 1, [build(8011), ubuntu(8012, "failure")]);
  await replayAttempt(url, secret, 801, 2, [ubuntu(8013, "success")]);
  // 802: fails three times: re-run twice, then given up at RUN_ATTEMPTS=3.
  await replayAttempt(url, secret, 802, 1, [build(8021), ubuntu(8022, "failure")]);
  await replayAttempt(url, secret, 802, 2, [ubuntu(8023, "failure")]);
  await replayAttempt(url, secret, 802, 3, [ubuntu(8024, "failure")]);
  // 803: lint is flaky.
  await replayAttempt(url, secret, 803, 1, [{ id: 8031, name: "lint", conclusion: "failure" }]);
  await replayAttempt(url, secret, 803, 2, [{ id: 8032, name: "lint", conclusion: "success" }]);
  // 804: GitHub refuses the rerun (the token lacks a permission).
  gh.rerun("forbidden");
  await replayAttempt(url, secret, 804, 1, [{ id: 8041, name: "deploy", conclusion: "failure" }], "Deploy");
  // 805: GitHub fails: the rerun stays pending, with its last error.
  gh.rerun("server-error");
  await replayAttempt(url, secret, 805, 1, [{ id: 8051, name: "smoke", conclusion: "failure" }], "Deploy");
  gh.rerun("ok");
}

const DAY = 86_400_000;

/**
 * Earlier weeks of the decision history, made by the real engine on the server's SQLite file
 * with its clock set back (GitHub = the stand-in): per day given, a run whose "test (ubuntu)"
 * fails, is re-run and passes on its rerun. Returns the reruns made.
 */
export async function recordPastDays(file: string, secret: string, gh: FakeGitHub, daysAgo: readonly number[], firstRunId: number): Promise<number> {
  const store = new SqliteStore(file);
  let made = 0;
  try {
    for (const [i, days] of daysAgo.entries()) {
      const at = Date.now() - days * DAY;
      const rerunner = createRerunner({
        config: configFromEnv({ GITHUB_SIGN_KEY: secret, GITHUB_TOKEN: "ghp_past_days", GITHUB_API_URL: gh.url }),
        store,
        clock: () => at,
        logger: () => {},
        reconciledElsewhere: true,
      });
      const runId = firstRunId + i;
      gh.run(runId).status = "completed";
      const shape = { ...BASE, runId };
      const handle = (event: "workflow_job" | "workflow_run", payload: Record<string, unknown>) => {
        const d = signedDelivery(secret, event, payload);
        return rerunner.handle({ headers: d.headers, rawBody: d.rawBody });
      };
      await handle("workflow_job", workflowJobPayload({ ...shape, jobId: runId * 10, jobName: "test (ubuntu)", action: "queued" }));
      const failed = await handle("workflow_job", workflowJobPayload({ ...shape, jobId: runId * 10, jobName: "test (ubuntu)", action: "completed", conclusion: "failure" }));
      if (failed.status === 201) made++;
      await handle("workflow_job", workflowJobPayload({ ...shape, attempt: 2, jobId: runId * 10 + 1, jobName: "test (ubuntu)", action: "completed", conclusion: "success" }));
      await handle("workflow_run", workflowRunPayload({ ...shape, attempt: 2, action: "completed", conclusion: "success" }));
    }
  } finally {
    await store.close();
  }
  return made;
}
