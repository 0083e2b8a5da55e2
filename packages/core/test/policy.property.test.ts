// Properties of decide under the rerun policy: any completion order, redeliveries, facts that are
// transient, genuine or unreadable. Pure: the engine's loop is simulated with decide and settle.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { classifyJob, configFromEnv, decide, settle, type Config, type JobFacts, type RunEvent, type RunRecord } from "@job-rerunner/core";

const LOGS = {
  transient: "2024-05-01T12:00:00.0000000Z npm ERR! code ECONNRESET\n",
  genuine: "2024-05-01T12:00:00.0000000Z AssertionError: expected 1 to equal 2\n",
  plain: "2024-05-01T12:00:00.0000000Z ##[error]Process completed with exit code 1.\n",
} as const;
type LogKind = keyof typeof LOGS | "unknown";

interface JobSpec {
  readonly conclusion: "success" | "failure";
  readonly log: LogKind;
  readonly step: "Set up job" | "Run tests" | "Install";
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[key]);
  }
  return value;
}

const envArb = fc.record({
  RERUN_WHEN: fc.constantFrom("failure", "transient"),
  RERUN_UNKNOWN: fc.constantFrom("true", "false"),
  MAX_FAILED_JOBS: fc.constantFrom("0", "1", "2", "3"),
  NO_RERUN_PATTERNS: fc.constantFrom("", '["AssertionError"]'),
  NO_RERUN_STEPS: fc.constantFrom("", "Run tests"),
});
const jobArb: fc.Arbitrary<JobSpec> = fc.record({
  conclusion: fc.constantFrom("success", "failure"),
  log: fc.constantFrom<LogKind>("transient", "genuine", "plain", "unknown"),
  step: fc.constantFrom("Set up job", "Run tests", "Install"),
});
const scenarioArb = fc.record({
  env: envArb,
  jobs: fc.array(jobArb, { minLength: 1, maxLength: 5 }),
  order: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
  redeliver: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
});

function factsOf(id: number, spec: JobSpec): JobFacts {
  return {
    id,
    name: `job ${id}`,
    status: "completed",
    conclusion: spec.conclusion,
    steps: [{ name: spec.step, conclusion: spec.conclusion === "failure" ? "failure" : "success" }],
    annotations: { state: "read", value: [] },
    log: spec.log === "unknown" ? { state: "unknown", why: "404" } : { state: "read", value: LOGS[spec.log] },
  };
}

function events(jobs: readonly JobSpec[], order: readonly number[]): RunEvent[] {
  let n = 0;
  const base = () => ({
    deliveryId: `d${++n}`,
    handlerId: `h${n}`,
    receivedAt: 1_700_000_000_000 + n * 1000,
    repo: { id: 1, owner: "o", name: "r" },
    runId: 5,
    attempt: 1,
    headBranch: "master",
    defaultBranch: "master",
    workflowName: "CI",
    sender: "octocat",
  });
  const out: RunEvent[] = jobs.map((_, i) => ({ ...base(), kind: "workflow_job", job: { id: i + 1, name: `job ${i + 1}`, status: "queued", conclusion: null } }));
  const ids = jobs.map((_, i) => i);
  // A permutation of the completions from the generated order keys.
  const completions = ids.map((i) => ({ i, key: order[i % order.length]! * 10 + i })).sort((a, b) => a.key - b.key);
  for (const { i } of completions) {
    const facts = factsOf(i + 1, jobs[i]!);
    out.push({
      ...base(),
      kind: "workflow_job",
      job: { id: i + 1, name: facts.name, status: "completed", conclusion: facts.conclusion, steps: facts.steps },
      facts: { jobs: { [String(i + 1)]: facts } },
    });
  }
  const failed = jobs.some((j) => j.conclusion === "failure");
  out.push({ ...base(), kind: "workflow_run", status: "completed", conclusion: failed ? "failure" : "success" });
  return out;
}

function simulate(config: Config, list: readonly RunEvent[], redeliver: readonly boolean[]) {
  let record: RunRecord | undefined;
  let reruns = 0;
  const answers = new Map<string, { status: number; action: string }>();
  const mismatches: string[] = [];
  const deliver = (event: RunEvent): void => {
    deepFreeze(event);
    deepFreeze(record);
    const d = decide(record, event, config);
    let status = d.status;
    let action = d.action.type === "none" ? (d.answerAction ?? "none") : d.action.type;
    record = d.record;
    if (d.action.type === "rerun-failed-jobs") {
      reruns++;
      const s = settle(record!, d.action, { kind: "accepted" }, event, event.receivedAt + 10);
      record = s.record;
      status = s.status;
      action = "rerun-failed-jobs";
    }
    const first = answers.get(event.deliveryId);
    if (first === undefined) answers.set(event.deliveryId, { status, action });
    else if (first.status !== status || first.action !== action) mismatches.push(`${event.deliveryId}: ${first.status}/${first.action} then ${status}/${action}`);
  };
  list.forEach((event, i) => {
    deliver(event);
    if (redeliver[i % redeliver.length] === true) deliver({ ...event, handlerId: `${event.handlerId}-again`, receivedAt: event.receivedAt + 1 });
  });
  return { record: record!, reruns, mismatches };
}

describe("decide under the rerun policy: properties", () => {
  it("re-runs exactly when the policy's verdict on the classified failed jobs says so, once, and a redelivery repeats its answer", () => {
    fc.assert(
      fc.property(scenarioArb, ({ env, jobs, order, redeliver }) => {
        const config = configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", ...env });
        const { record, reruns, mismatches } = simulate(config, events(jobs, order), redeliver);
        const failed = jobs
          .map((spec, i) => ({ spec, i }))
          .filter(({ spec }) => spec.conclusion === "failure")
          .map(({ spec, i }) => ({ name: `job ${i + 1}`, verdict: classifyJob(factsOf(i + 1, spec), config.policy) }));
        // The rule, written out independently of judgeAttempt (issue 11).
        const max = Number(env.MAX_FAILED_JOBS);
        // MAX_FAILED_JOBS needs the failed jobs known too, so they are classified under it as well.
        const classified = config.policy.when === "transient" || env.NO_RERUN_PATTERNS !== "" || env.NO_RERUN_STEPS !== "" || max > 0;
        const counts = (v: (typeof failed)[number]["verdict"]): boolean =>
          v.vetoed === undefined &&
          (env.RERUN_WHEN === "failure" || v.class.startsWith("transient:") || (v.class === "unknown" && env.RERUN_UNKNOWN === "true"));
        const expected = failed.length > 0 && (max === 0 || failed.length <= max) && (!classified || failed.every((f) => counts(f.verdict)));
        assert.equal(reruns, expected ? 1 : 0, JSON.stringify({ failed, expected }));
        assert.deepEqual(mismatches, []);
        // The record holds each failed job's class exactly as classifyJob gives it (or none under the default policy).
        for (const f of failed) {
          const id = f.name.slice("job ".length);
          assert.deepEqual(record.jobs[id]?.verdict, classified ? f.verdict : undefined);
        }
      }),
      { numRuns: 400 },
    );
  });
});
