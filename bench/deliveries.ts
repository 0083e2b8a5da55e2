import { createHmac, randomUUID } from "node:crypto";
import { workflowJobPayload } from "@job-rerunner/testing";

export interface BenchDelivery {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

// Sentinels that occur nowhere in the real example payload, replaced by each delivery's ids.
const RUN_SENTINEL = 987654321987;
const JOB_SENTINEL = 876543210876;

function hmacHeader(secret: string, body: Buffer): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * Signed `queued` workflow_job deliveries of `count` DISTINCT runs (run ids firstRunId...),
 * each with its own delivery id: exactly what workflowJobPayload produces for that run and job
 * (built from one template, checked against workflowJobPayload, because ~40,000 are needed).
 */
export function distinctRunDeliveries(secret: string, count: number, firstRunId = 1_000_000): BenchDelivery[] {
  const template = JSON.stringify(workflowJobPayload({ runId: RUN_SENTINEL, jobId: JOB_SENTINEL, action: "queued" }));
  // Literal pieces with a marker between each: true where the run id goes, false for the job id.
  const pieces: string[] = [];
  const slots: boolean[] = [];
  const pattern = new RegExp(`${RUN_SENTINEL}|${JOB_SENTINEL}`, "g");
  let last = 0;
  for (const m of template.matchAll(pattern)) {
    pieces.push(template.slice(last, m.index));
    slots.push(m[0] === String(RUN_SENTINEL));
    last = m.index + m[0].length;
  }
  pieces.push(template.slice(last));
  const build = (runId: number, jobId: number): string => {
    let out = pieces[0]!;
    for (let i = 0; i < slots.length; i++) out += (slots[i] ? runId : jobId) + pieces[i + 1]!;
    return out;
  };
  for (const [runId, jobId] of [[firstRunId, firstRunId * 10 + 1], [4242, 42420001]] as const) {
    if (build(runId, jobId) !== JSON.stringify(workflowJobPayload({ runId, jobId, action: "queued" }))) {
      throw new Error("delivery template does not reproduce workflowJobPayload");
    }
  }
  const out: BenchDelivery[] = [];
  for (let i = 0; i < count; i++) {
    const runId = firstRunId + i;
    const body = Buffer.from(build(runId, runId * 10 + 1));
    out.push({
      body,
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/bench",
        "x-github-event": "workflow_job",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": hmacHeader(secret, body),
      },
    });
  }
  return out;
}

/**
 * Every delivery of `runs` runs of `jobs` jobs each, in the order GitHub sends them for a
 * matrix: all jobs queued, then in progress, then completed (job 1 of each run fails).
 */
export function wholeRunDeliveries(secret: string, runs: number, jobs: number, firstRunId = 2_000_000): BenchDelivery[] {
  const out: BenchDelivery[] = [];
  for (let r = 0; r < runs; r++) {
    const runId = firstRunId + r;
    for (const action of ["queued", "in_progress", "completed"] as const) {
      for (let j = 1; j <= jobs; j++) {
        const payload = workflowJobPayload({ runId, jobId: runId * 1000 + j, action, conclusion: j === 1 ? "failure" : "success" });
        const body = Buffer.from(JSON.stringify(payload));
        out.push({
          body,
          headers: {
            "content-type": "application/json",
            "x-github-event": "workflow_job",
            "x-github-delivery": randomUUID(),
            "x-hub-signature-256": hmacHeader(secret, body),
          },
        });
      }
    }
  }
  return out;
}
