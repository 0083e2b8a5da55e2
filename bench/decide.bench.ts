import { configFromEnv, decide, type RunEvent, type RunRecord } from "@job-rerunner/core";
import { fmt, opsPerSecond, ratio } from "./measure.js";

const config = configFromEnv({ GITHUB_SIGN_KEY: "bench", DRY_RUN: "true" });

/** Every event of one run attempt: each job queued, then in progress, then completed (one failure). */
function runEvents(runId: number, jobs: number): RunEvent[] {
  const out: RunEvent[] = [];
  let t = 1;
  const base = { repo: { id: 1, owner: "o", name: "r" }, runId, attempt: 1, headBranch: "master", defaultBranch: "master", workflowName: "CI", sender: "octocat" };
  for (const status of ["queued", "in_progress", "completed"] as const) {
    for (let j = 0; j < jobs; j++) {
      out.push({
        kind: "workflow_job",
        ...base,
        deliveryId: `${runId}-${status}-${j}`,
        handlerId: `h${runId}-${t}`,
        receivedAt: t++,
        job: { id: j + 1, name: `job ${j}`, status, conclusion: status === "completed" ? (j === 0 ? "failure" : "success") : null },
      });
    }
  }
  return out;
}

export interface DecideFigures {
  readonly jobs: number;
  readonly eventsPerSecond: number;
  readonly microsPerEvent: number;
}

/** decide: events per second over whole runs of 1, 16 and 256 jobs. */
export function benchDecide(ms: number): DecideFigures[] {
  const figures: DecideFigures[] = [];
  for (const jobs of [1, 16, 256]) {
    const runs = Array.from({ length: Math.max(8, Math.ceil(3000 / jobs)) }, (_, r) => runEvents(r, jobs));
    let next = 0;
    const eps = opsPerSecond(() => {
      const events = runs[next++ % runs.length]!;
      let record: RunRecord | undefined;
      for (const e of events) record = decide(record, e, config).record;
      return events.length;
    }, ms);
    figures.push({ jobs, eventsPerSecond: eps, microsPerEvent: 1e6 / eps });
  }
  return figures;
}

export function printDecide(figures: DecideFigures[]): string[] {
  const one = figures[0]!;
  const lines = ["decide (pure state machine), whole runs: queued + in_progress + completed per job"];
  for (const f of figures) {
    lines.push(
      `  ${String(f.jobs).padStart(3)} jobs/run: ${fmt(f.eventsPerSecond).padStart(10)} events/s  ${fmt(f.microsPerEvent, 2).padStart(6)} µs/event  cost per event x${ratio(f.microsPerEvent, one.microsPerEvent)} of a 1-job run (job count x${f.jobs})`,
    );
  }
  return lines;
}
