// `npm run demo`: the server working with no GitHub account. It starts the real server
// (DRY_RUN, a generated secret, the memory store, a free port), replays a recorded failing
// run as signed webhook deliveries over HTTP, and prints each decision, ending with the
// rerun it would have made. Development only: it uses the core's testing helpers, which
// build the deliveries from real payloads of @octokit/webhooks-examples. It then replays the
// rerun's attempt (the flaky job passes), prints the status page's URL and token, and keeps
// serving until Ctrl-C.
import { randomBytes, randomUUID } from "node:crypto";
import { signedDelivery, webhookExamples, workflowJobPayload, workflowRunPayload, type SignedDelivery } from "@job-rerunner/testing";
import { postDelivery } from "./post-delivery.js";
import { startServer } from "./server.js";

interface Step {
  readonly label: string;
  readonly delivery: SignedDelivery;
}

const RUN = { owner: "octo-org", repo: "octo-repo", runId: 4711, branch: "master", workflow: "CI" } as const;

function jobEvent(jobId: number, jobName: string, action: "queued" | "in_progress" | "completed", conclusion: string | null, secret: string, attempt = 1): Step {
  const payload = workflowJobPayload({ ...RUN, attempt, jobId, jobName, action, conclusion });
  const label = `${attempt > 1 ? `attempt ${attempt}: ` : ""}workflow_job ${action}${conclusion === null ? "" : ` (${conclusion})`} "${jobName}"`;
  return { label, delivery: signedDelivery(secret, "workflow_job", payload) };
}

async function send(url: string, steps: readonly Step[], from: number): Promise<number[]> {
  const statuses: number[] = [];
  for (const [i, step] of steps.entries()) {
    const { status, reason } = await postDelivery(url, { headers: step.delivery.headers, body: step.delivery.rawBody });
    statuses.push(status);
    console.log(`${String(from + i).padStart(2)}. ${step.label.padEnd(52)} -> ${status}  ${reason}`);
  }
  return statuses;
}

/** Resolves on the first Ctrl-C (SIGINT) or SIGTERM. */
function interrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}

async function main(): Promise<number> {
  const secret = randomBytes(24).toString("hex");
  const statusToken = randomBytes(18).toString("base64url");
  const logs: Record<string, unknown>[] = [];
  const server = await startServer(
    { GITHUB_SIGN_KEY: secret, DRY_RUN: "true", STORE: "memory", LOG_LEVEL: "info", STATUS_TOKEN: statusToken },
    { port: 0, host: "127.0.0.1", writeLog: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  // SIGTERM or Ctrl-C (npm forwards it) stops the demo cleanly: the server closes, nothing is left listening.
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  try {
    console.log(`job-rerunner demo: server listening on ${server.url} (DRY_RUN, memory store, generated secret)`);
    console.log(`Replaying run ${RUN.runId} of ${RUN.owner}/${RUN.repo} ("${RUN.workflow}" on ${RUN.branch}): 3 jobs, one fails.\n`);

    const ping = webhookExamples("ping")[0] ?? { zen: "Keep it logically awesome." };
    const failed = jobEvent(2, "test (ubuntu)", "completed", "failure", secret);
    const forged = signedDelivery("not-the-secret", "workflow_job", workflowJobPayload({ ...RUN, jobId: 2, jobName: "test (ubuntu)", action: "completed", conclusion: "success" }));
    const steps: Step[] = [
      { label: "ping (the hook was just created)", delivery: signedDelivery(secret, "ping", ping) },
      { label: "workflow_run requested", delivery: signedDelivery(secret, "workflow_run", workflowRunPayload({ ...RUN, action: "requested" })) },
      jobEvent(1, "build", "queued", null, secret),
      jobEvent(2, "test (ubuntu)", "queued", null, secret),
      jobEvent(3, "test (windows)", "queued", null, secret),
      jobEvent(1, "build", "in_progress", null, secret),
      jobEvent(1, "build", "completed", "success", secret),
      failed,
      { label: "the same delivery again (GitHub redelivers)", delivery: failed.delivery },
      { label: "a forged delivery (wrong secret)", delivery: { ...forged, headers: { ...forged.headers, "x-github-delivery": randomUUID() } } },
      jobEvent(3, "test (windows)", "completed", "success", secret),
      { label: "workflow_run completed (failure)", delivery: signedDelivery(secret, "workflow_run", workflowRunPayload({ ...RUN, action: "completed", conclusion: "failure" })) },
    ];

    const statuses = await send(server.url, steps, 1);
    const rerunStatus = statuses.includes(201) ? 201 : null;

    const wouldRerun = logs.filter((l) => l.msg === "dry run: would re-run failed jobs");
    console.log("");
    if (rerunStatus === null || wouldRerun.length !== 1) {
      console.log("Unexpected: the run was not decided for a rerun exactly once.");
      return 1;
    }
    const r = wouldRerun[0]!;
    console.log(`It would re-run the failed jobs once (despite the redelivery and the run's completion), with:`);
    console.log(`  POST /repos/${String(r.owner)}/${String(r.repo)}/actions/runs/${String(r.run)}/rerun-failed-jobs`);
    console.log(`(DRY_RUN: GitHub was not called. Set GITHUB_TOKEN and leave DRY_RUN unset to re-run for real.)`);

    console.log(`\nAttempt 2 as GitHub would send it after a real rerun: the flaky job passes this time.`);
    await send(
      server.url,
      [
        jobEvent(12, "test (ubuntu)", "queued", null, secret, 2),
        jobEvent(12, "test (ubuntu)", "completed", "success", secret, 2),
        { label: "attempt 2: workflow_run completed (success)", delivery: signedDelivery(secret, "workflow_run", workflowRunPayload({ ...RUN, attempt: 2, action: "completed", conclusion: "success" })) },
      ],
      steps.length + 1,
    );
    const { port } = new URL(server.url);
    console.log(`\nStatus page (decisions and the flaky-job table): ${server.url}/status`);
    console.log(`  user: anything, password (STATUS_TOKEN): ${statusToken}`);
    console.log(`  or: curl -H "Authorization: Bearer ${statusToken}" http://127.0.0.1:${port}/status`);
    console.log(`Metrics: ${server.url}/metrics`);
    console.log(`Serving until Ctrl-C.`);
    const signal = await interrupted();
    console.log(`\n${signal}: stopping.`);
    return 0;
  } finally {
    await server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
