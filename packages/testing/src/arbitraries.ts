/**
 * fast-check arbitraries for property tests of the core and of anything built on it: a realistic
 * Config (built by `configFromEnv` from a generated environment), generated workflow runs (jobs,
 * attempts, `workflow_job`/`workflow_run` events in any order, redeliveries) and raw webhook payloads.
 */
import * as fc from "fast-check";
import { configFromEnv, type Config, type Env } from "@job-rerunner/core";
import type { JobStatus, RepoRef, RunEvent, RunStatus, WorkflowJobEvent, WorkflowRunEvent } from "@job-rerunner/core";

export const JOB_CONCLUSIONS = ["success", "failure", "timed_out", "cancelled", "skipped"] as const;
export type JobConclusion = (typeof JOB_CONCLUSIONS)[number];
export const RUN_CONCLUSIONS = ["success", "failure", "timed_out", "cancelled", "startup_failure"] as const;
export type RunConclusion = (typeof RUN_CONCLUSIONS)[number];
/** Conclusions RERUN_CONCLUSIONS is generated from (all accepted by configFromEnv). */
export const RERUNNABLE_CONCLUSIONS = ["failure", "timed_out", "cancelled", "startup_failure"] as const;
export const BRANCH_PATTERNS = ["master", "main", "release/*", "release/**", "feature/*", "dev", "*"] as const;
export const BRANCH_NAMES = ["master", "main", "release/1.2", "release/1.2/hotfix", "feature/x", "dev", "gh-pages"] as const;
/** `repository.default_branch` values; null stands for an event source that does not say. */
export const DEFAULT_BRANCHES = ["master", "main"] as const;
export const SENDER_LOGINS = ["octocat", "alice", "Bob", "dependabot[bot]", "renovate[bot]"] as const;
/** NO_RETRY_LIST entries: some match SENDER_LOGINS only case-insensitively. */
export const NO_RETRY_LOGINS = ["dependabot[bot]", "RENOVATE[BOT]", "bob", "mallory"] as const;
export const WORKFLOW_NAMES = ["CI", "Build", "Deploy"] as const;

function joined(values: readonly string[]): fc.Arbitrary<string> {
  return fc.constantFrom(",", ", ", " , ").map((sep) => values.join(sep));
}

/** A webhook environment as an operator would write it; unset keys take configFromEnv's defaults. */
export function configEnvArbitrary(): fc.Arbitrary<Env> {
  return fc
    .record(
      {
        RUN_ATTEMPTS: fc.integer({ min: 1, max: 5 }).map(String),
        REPO_BRANCHES: fc.subarray([...BRANCH_PATTERNS], { minLength: 1 }).chain(joined),
        NO_RETRY_LIST: fc.subarray([...NO_RETRY_LOGINS]).chain(joined),
        RERUN_CONCLUSIONS: fc
          .subarray([...RERUNNABLE_CONCLUSIONS], { minLength: 1 })
          .chain(joined)
          .chain((s) => fc.constantFrom(s, s.toUpperCase())),
        RERUN_WORKFLOWS: fc.oneof(
          fc.constant("all"),
          fc.constant(""),
          fc.subarray([...WORKFLOW_NAMES], { minLength: 1 }).chain(joined),
        ),
        DRY_RUN: fc.constantFrom("true", "false"),
      },
      { requiredKeys: [], noNullPrototype: true },
    )
    .map((fields): Env => ({ GITHUB_SIGN_KEY: "test-secret", GITHUB_TOKEN: "ghp_not_a_real_token", ...fields }));
}

/** A Config built by configFromEnv from a generated environment (see configEnvArbitrary). */
export function configArbitrary(): fc.Arbitrary<Config> {
  return configEnvArbitrary().map((env) => configFromEnv(env));
}

/** The env and the Config built from it: the env is what a counterexample report should show. */
export function configCaseArbitrary(): fc.Arbitrary<{ readonly env: Env; readonly config: Config }> {
  return configEnvArbitrary().map((env) => ({ env, config: configFromEnv(env) }));
}

export interface GeneratedJob {
  readonly id: number;
  readonly name: string;
  readonly conclusion: JobConclusion;
  /** A skipped job that GitHub reports only as `completed`, with no `queued` before it. */
  readonly completedOnly: boolean;
  /** Sends a `waiting` event (environment protection) between queued and in_progress. */
  readonly waits: boolean;
}

export interface GeneratedAttempt {
  readonly attempt: number;
  readonly sender: string | null;
  /** Old payloads: `workflow_job` events without `head_branch` and `workflow_name`. */
  readonly legacyJobPayloads: boolean;
  readonly jobs: readonly GeneratedJob[];
  /** Whether the hook also sends `workflow_run` requested / in_progress / completed. */
  readonly runEvents: boolean;
  readonly runConclusion: RunConclusion;
}

export type RunOrder = "in-order" | "attempts-in-order" | "any";

export interface GeneratedRun {
  readonly repo: RepoRef;
  readonly runId: number;
  readonly headBranch: string | null;
  readonly defaultBranch: string | null;
  readonly workflowName: string | null;
  readonly attempts: readonly GeneratedAttempt[];
  readonly order: RunOrder;
  /**
   * Deliveries in arrival order: strictly increasing `receivedAt`, a unique `handlerId` each;
   * a redelivery repeats an earlier delivery's event and `deliveryId` later, with a new `handlerId`.
   */
  readonly deliveries: readonly RunEvent[];
}

export interface RunArbitraryOptions {
  /** Jobs per attempt: 1..maxJobs (default 20). */
  readonly maxJobs?: number;
  /** Relative weight (out of 20) of attempts with maxJobs..256 jobs (default 1; 0 for never). */
  readonly bigRunWeight?: number;
  /** Attempts generated: 1..maxAttempts (default 4). */
  readonly maxAttempts?: number;
  /** Arrival order; "mixed" (default) picks one of the three per run. */
  readonly order?: RunOrder | "mixed";
  /** Redeliveries of earlier deliveries, at most this many (default 12; 0 for none). */
  readonly maxRedeliveries?: number;
  /** Whether attempts send `workflow_run` events: always, never or "sometimes" (default). */
  readonly runEvents?: boolean | "sometimes";
  /** Smallest gap between two deliveries' `receivedAt` in ms (default 10). */
  readonly minGapMs?: number;
}

type EnvelopeKeys = "deliveryId" | "handlerId" | "receivedAt";
/** A run event without its delivery envelope. */
export type EventFacts = Omit<WorkflowJobEvent, EnvelopeKeys> | Omit<WorkflowRunEvent, EnvelopeKeys>;

interface RunShape {
  readonly repo: RepoRef;
  readonly runId: number;
  readonly headBranch: string | null;
  readonly defaultBranch: string | null;
  readonly workflowName: string | null;
}

const repoArbitrary: fc.Arbitrary<RepoRef> = fc.record({
  id: fc.integer({ min: 1, max: 2_000_000_000 }),
  owner: fc.constantFrom("octo-org", "acme"),
  name: fc.constantFrom("app", "lib.js"),
}, { noNullPrototype: true });

const shapeArbitrary: fc.Arbitrary<RunShape> = fc.record({
  repo: repoArbitrary,
  runId: fc.integer({ min: 1, max: 2 ** 40 }),
  headBranch: fc.oneof({ weight: 9, arbitrary: fc.constantFrom<string>(...BRANCH_NAMES) }, { weight: 1, arbitrary: fc.constant(null) }),
  defaultBranch: fc.oneof({ weight: 19, arbitrary: fc.constantFrom<string>(...DEFAULT_BRANCHES) }, { weight: 1, arbitrary: fc.constant(null) }),
  workflowName: fc.oneof({ weight: 19, arbitrary: fc.constantFrom<string>(...WORKFLOW_NAMES) }, { weight: 1, arbitrary: fc.constant(null) }),
});

const conclusionArbitrary: fc.Arbitrary<JobConclusion> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("success" as const) },
  { weight: 3, arbitrary: fc.constant("failure" as const) },
  { weight: 1, arbitrary: fc.constantFrom("timed_out" as const, "cancelled" as const, "skipped" as const) },
);

function chance(oneIn: number): fc.Arbitrary<boolean> {
  return fc.integer({ min: 1, max: oneIn }).map((n) => n === 1);
}

function jobsArbitrary(attempt: number, options: RunArbitraryOptions): fc.Arbitrary<GeneratedJob[]> {
  const maxJobs = Math.max(1, Math.min(options.maxJobs ?? 20, 256));
  const bigWeight = options.bigRunWeight ?? 1;
  const count =
    bigWeight > 0 && maxJobs < 256
      ? fc.oneof(
          { weight: 20, arbitrary: fc.integer({ min: 1, max: maxJobs }) },
          { weight: bigWeight, arbitrary: fc.integer({ min: maxJobs, max: 256 }) },
        )
      : fc.integer({ min: 1, max: maxJobs });
  const job = fc.record({ conclusion: conclusionArbitrary, completedOnly: fc.boolean(), waits: chance(8) });
  return count.chain((n) =>
    fc.array(job, { minLength: n, maxLength: n }).map((facts) =>
      facts.map(
        (f, i): GeneratedJob => ({
          // New job ids on every attempt, as GitHub does for re-run jobs.
          id: attempt * 1000 + i + 1,
          name: `job-${i + 1}`,
          conclusion: f.conclusion,
          completedOnly: f.completedOnly && f.conclusion === "skipped",
          waits: f.waits,
        }),
      ),
    ),
  );
}

/** What GitHub would report for the whole attempt given its jobs. */
function derivedRunConclusion(jobs: readonly GeneratedJob[]): RunConclusion {
  if (jobs.some((j) => j.conclusion === "failure" || j.conclusion === "timed_out")) return "failure";
  if (jobs.some((j) => j.conclusion === "cancelled")) return "cancelled";
  return "success";
}

function attemptArbitrary(attempt: number, options: RunArbitraryOptions): fc.Arbitrary<GeneratedAttempt> {
  const runEvents = options.runEvents ?? "sometimes";
  return fc
    .record({
      sender: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom<string>(...SENDER_LOGINS) },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
      legacyJobPayloads: chance(10),
      jobs: jobsArbitrary(attempt, options),
      runEvents: runEvents === "sometimes" ? fc.boolean() : fc.constant(runEvents),
      explicitConclusion: fc.option(fc.constantFrom(...RUN_CONCLUSIONS), { freq: 4, nil: null }),
    })
    .map(({ explicitConclusion, ...a }) => ({
      attempt,
      ...a,
      runConclusion: explicitConclusion ?? derivedRunConclusion(a.jobs),
    }));
}

function jobFacts(shape: RunShape, a: GeneratedAttempt, job: GeneratedJob, status: JobStatus): EventFacts {
  return {
    kind: "workflow_job",
    repo: shape.repo,
    runId: shape.runId,
    attempt: a.attempt,
    headBranch: a.legacyJobPayloads ? null : shape.headBranch,
    defaultBranch: shape.defaultBranch,
    workflowName: a.legacyJobPayloads ? null : shape.workflowName,
    sender: a.sender,
    job: { id: job.id, name: job.name, status, conclusion: status === "completed" ? job.conclusion : null },
  };
}

function runFacts(shape: RunShape, a: GeneratedAttempt, status: RunStatus): EventFacts {
  return {
    kind: "workflow_run",
    repo: shape.repo,
    runId: shape.runId,
    attempt: a.attempt,
    headBranch: shape.headBranch,
    defaultBranch: shape.defaultBranch,
    workflowName: shape.workflowName,
    sender: a.sender,
    status,
    conclusion: status === "completed" ? a.runConclusion : null,
  };
}

function permutation<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc.shuffledSubarray([...items], { minLength: items.length, maxLength: items.length });
}

/**
 * One attempt's events in a plausible order: workflow_run requested, every (non-skipped) job
 * queued, workflow_run in_progress, then the jobs' progress interleaved (each job in order) with
 * workflow_run completed somewhere after all queued events (usually last).
 */
function attemptEventsInOrder(shape: RunShape, a: GeneratedAttempt): fc.Arbitrary<EventFacts[]> {
  const queued = a.jobs.filter((j) => !j.completedOnly);
  const steps = (j: GeneratedJob): readonly JobStatus[] =>
    j.completedOnly ? ["completed"] : j.waits ? ["waiting", "in_progress", "completed"] : ["in_progress", "completed"];
  const tokens = a.jobs.flatMap((j, i) => steps(j).map(() => i));
  const where = fc.oneof({ weight: 3, arbitrary: fc.constant(1000) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 1000 }) });
  return fc.tuple(permutation(queued), permutation(tokens), where).map(([queuedOrder, tokenOrder, at]) => {
    const head: EventFacts[] = [];
    if (a.runEvents) head.push(runFacts(shape, a, "requested"));
    for (const j of queuedOrder) head.push(jobFacts(shape, a, j, "queued"));
    if (a.runEvents) head.push(runFacts(shape, a, "in_progress"));
    const next = a.jobs.map(() => 0);
    const tail: EventFacts[] = [];
    for (const i of tokenOrder) {
      const job = a.jobs[i]!;
      const step = next[i]!;
      next[i] = step + 1;
      tail.push(jobFacts(shape, a, job, steps(job)[step]!));
    }
    if (a.runEvents) tail.splice(Math.round((at / 1000) * tail.length), 0, runFacts(shape, a, "completed"));
    return [...head, ...tail];
  });
}

function withEnvelope(facts: EventFacts, deliveryId: string, handlerId: string, receivedAt: number): RunEvent {
  return facts.kind === "workflow_job"
    ? { ...facts, deliveryId, handlerId, receivedAt }
    : { ...facts, deliveryId, handlerId, receivedAt };
}

const START = 1_700_000_000_000;

/**
 * A workflow run: 1..maxAttempts attempts of 1..maxJobs jobs (occasionally up to 256), each job's
 * queued/waiting/in_progress/completed events, optional workflow_run events, delivered in the
 * chosen order with redeliveries and increasing `receivedAt`.
 */
export function runArbitrary(options: RunArbitraryOptions = {}): fc.Arbitrary<GeneratedRun> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const maxRedeliveries = Math.max(0, options.maxRedeliveries ?? 12);
  const minGap = Math.max(2, options.minGapMs ?? 10);
  const orderChoice = options.order ?? "mixed";
  const order: fc.Arbitrary<RunOrder> =
    orderChoice === "mixed" ? fc.constantFrom<RunOrder>("in-order", "attempts-in-order", "any") : fc.constant(orderChoice);
  const gap = fc.oneof(
    { weight: 9, arbitrary: fc.integer({ min: minGap, max: 5_000 }) },
    // Long enough for a rerun lease (the deadline plus a margin) to expire.
    { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 120_000 }) },
  );

  const attempts = fc
    .integer({ min: 1, max: maxAttempts })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => attemptArbitrary(i + 1, options))));

  return fc
    .record({ shape: shapeArbitrary, attempts, order, start: fc.integer({ min: 0, max: 1_000_000_000 }) })
    .chain(({ shape, attempts, order, start }) => {
      const perAttempt = fc.tuple(...attempts.map((a) => attemptEventsInOrder(shape, a)));
      const arranged: fc.Arbitrary<EventFacts[]> =
        order === "in-order"
          ? perAttempt.map((lists) => lists.flat())
          : order === "attempts-in-order"
            ? perAttempt.chain((lists) => fc.tuple(...lists.map((l) => permutation(l)))).map((lists) => lists.flat())
            : perAttempt.chain((lists) => permutation(lists.flat()));
      return arranged.chain((originals) => {
        const n = originals.length;
        const redeliveries = fc.array(fc.record({ of: fc.nat({ max: n - 1 }), after: fc.nat({ max: n }) }), {
          maxLength: maxRedeliveries,
        });
        return redeliveries.chain((copies) => {
          const total = n + copies.length;
          return fc.array(gap, { minLength: total, maxLength: total }).map((gaps): GeneratedRun => {
            const slots = [
              ...originals.map((_, i) => ({ of: i, key: i })),
              ...copies.map((c) => ({ of: c.of, key: Math.min(c.of + c.after, n) + 0.5 })),
            ].sort((x, y) => x.key - y.key);
            let at = START + start;
            const deliveries = slots.map((slot, k) => {
              at += gaps[k]!;
              return withEnvelope(originals[slot.of]!, `${shape.runId}-d${slot.of}`, `${shape.runId}-h${k}`, at);
            });
            return { ...shape, attempts, order, deliveries };
          });
        });
      });
    });
}

/** A single run event with its envelope (a small, fast alternative to runArbitrary). */
export function runEventArbitrary(): fc.Arbitrary<RunEvent> {
  const jobStatus = fc.constantFrom<JobStatus>("queued", "waiting", "in_progress", "completed");
  const runStatus = fc.constantFrom<RunStatus>("requested", "in_progress", "completed");
  const common = fc.record({
    shape: shapeArbitrary,
    attempt: fc.integer({ min: 1, max: 6 }),
    sender: fc.option(fc.constantFrom<string>(...SENDER_LOGINS), { nil: null, freq: 10 }),
    deliveryId: fc.uuid(),
    handlerId: fc.uuid(),
    receivedAt: fc.integer({ min: START, max: START + 1_000_000_000 }),
  });
  const job = fc.record({
    id: fc.integer({ min: 1, max: 2 ** 40 }),
    name: fc.constantFrom("build", "test (ubuntu-latest, 20)", "lint"),
    status: jobStatus,
    conclusion: fc.constantFrom<string>(...JOB_CONCLUSIONS),
  });
  return fc.oneof(
    fc.tuple(common, job).map(([c, j]): RunEvent => ({
      kind: "workflow_job",
      deliveryId: c.deliveryId,
      handlerId: c.handlerId,
      receivedAt: c.receivedAt,
      repo: c.shape.repo,
      runId: c.shape.runId,
      attempt: c.attempt,
      headBranch: c.shape.headBranch,
      defaultBranch: c.shape.defaultBranch,
      workflowName: c.shape.workflowName,
      sender: c.sender,
      job: { id: j.id, name: j.name, status: j.status, conclusion: j.status === "completed" ? j.conclusion : null },
    })),
    fc.tuple(common, runStatus, fc.constantFrom<string>(...RUN_CONCLUSIONS)).map(([c, status, conclusion]): RunEvent => ({
      kind: "workflow_run",
      deliveryId: c.deliveryId,
      handlerId: c.handlerId,
      receivedAt: c.receivedAt,
      repo: c.shape.repo,
      runId: c.shape.runId,
      attempt: c.attempt,
      headBranch: c.shape.headBranch,
      defaultBranch: c.shape.defaultBranch,
      workflowName: c.shape.workflowName,
      sender: c.sender,
      status,
      conclusion: status === "completed" ? conclusion : null,
    })),
  );
}

/** A raw delivery: the `X-GitHub-Event` header (or null) and the parsed JSON body. */
export interface RawDelivery {
  readonly eventName: string | null;
  readonly payload: unknown;
}

/**
 * The webhook payload GitHub would send for an event, in its minimal real shape: parsing it with
 * the delivery's envelope gives the event back.
 */
export function webhookPayloadOf(event: RunEvent): { readonly eventName: "workflow_job" | "workflow_run"; readonly payload: Record<string, unknown> } {
  const repository = {
    id: event.repo.id,
    name: event.repo.name,
    full_name: `${event.repo.owner}/${event.repo.name}`,
    owner: { login: event.repo.owner, type: "Organization" },
    ...(event.defaultBranch === null ? {} : { default_branch: event.defaultBranch }),
  };
  const sender = event.sender === null ? {} : { sender: { login: event.sender, type: "User" } };
  if (event.kind === "workflow_job") {
    return {
      eventName: "workflow_job",
      payload: {
        action: event.job.status,
        workflow_job: {
          id: event.job.id,
          run_id: event.runId,
          run_attempt: event.attempt,
          name: event.job.name,
          status: event.job.status,
          conclusion: event.job.conclusion,
          head_branch: event.headBranch,
          workflow_name: event.workflowName,
        },
        repository,
        ...sender,
      },
    };
  }
  return {
    eventName: "workflow_run",
    payload: {
      action: event.status,
      workflow_run: {
        id: event.runId,
        run_attempt: event.attempt,
        name: event.workflowName,
        head_branch: event.headBranch,
        status: event.status === "requested" ? "queued" : event.status,
        conclusion: event.conclusion,
      },
      ...(event.workflowName === null ? {} : { workflow: { name: event.workflowName } }),
      repository,
      ...sender,
    },
  };
}

function withoutKey(value: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}

/**
 * Raw deliveries: well-formed workflow_job / workflow_run payloads (most), the same with a field
 * dropped or replaced by junk, pings, other events, and arbitrary JSON.
 */
export function webhookPayloadArbitrary(): fc.Arbitrary<RawDelivery> {
  const wellFormed = runEventArbitrary().map((e): RawDelivery => webhookPayloadOf(e));
  const damaged = fc
    .tuple(runEventArbitrary(), fc.constantFrom("repository", "sender", "action", "body", "id", "run_id", "run_attempt"), fc.jsonValue(), fc.boolean())
    .map(([event, field, junk, drop]): RawDelivery => {
      const { eventName, payload } = webhookPayloadOf(event);
      const body = payload[eventName] as Record<string, unknown>;
      if (field === "body") return { eventName, payload: { ...payload, [eventName]: drop ? null : junk } };
      if (field in payload) return { eventName, payload: drop ? withoutKey(payload, field) : { ...payload, [field]: junk } };
      const nextBody = drop ? withoutKey(body, field) : { ...body, [field]: junk };
      return { eventName, payload: { ...payload, [eventName]: nextBody } };
    });
  const ping: fc.Arbitrary<RawDelivery> = fc.record({
    eventName: fc.constantFrom<string | null>("ping", null),
    payload: fc.record({ zen: fc.string(), hook_id: fc.nat() }, { noNullPrototype: true }),
  }, { noNullPrototype: true });
  const other: fc.Arbitrary<RawDelivery> = fc.record({
    eventName: fc.constantFrom<string | null>("workflow_job", "workflow_run", "push", "check_run", null),
    payload: fc.jsonValue(),
  });
  return fc.oneof({ weight: 6, arbitrary: wellFormed }, { weight: 3, arbitrary: damaged }, { weight: 1, arbitrary: ping }, { weight: 2, arbitrary: other });
}
