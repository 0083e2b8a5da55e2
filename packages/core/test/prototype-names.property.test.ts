// Payload text that names an Object.prototype member ("constructor", "__proto__", "toString", ...)
// must be read as the plain text it is: every lookup keyed by payload text is own-property only.
// Every such name is put in every string field of real payloads (@octokit/webhooks-examples).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import { createRerunner, decide, defineConfig, MemoryStore, parseEvent, recordKey, silentLogger, type GitHubClient, type JobEntry, type ParsedEvent, type RunEvent, type WorkflowJobEvent } from "@job-rerunner/core";
import { createOctokitFactsClient } from "../src/github/facts.js";
import { signedDelivery, startFakeGitHub, webhookExamples, type FakeListedJob } from "@job-rerunner/testing";

const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);
const EVENTS = ["workflow_job", "workflow_run"] as const;
const JOB_STATUSES = new Set(["queued", "waiting", "in_progress", "completed"]);
const TABLE = new Set([200, 201, 202, 204, 404]);
const SECRET = "prototype-secret";
const ENVELOPE = { deliveryId: "d-1", receivedAt: 1_700_000_000_000, handlerId: "h-1" };

type Path = readonly string[];
type Json = Record<string, unknown>;

interface Case {
  readonly eventName: (typeof EVENTS)[number];
  readonly example: Json;
  readonly path: Path;
}

/** Every path to a string value in a payload. */
function stringPaths(value: unknown, prefix: Path = []): Path[] {
  if (typeof value === "string") return [prefix];
  if (typeof value !== "object" || value === null) return [];
  return Object.keys(value).flatMap((key) => stringPaths((value as Json)[key], [...prefix, key]));
}

function withValue(payload: Json, path: Path, text: string): Json {
  const copy = structuredClone(payload);
  let at: Json = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Json;
  // defineProperty: a plain assignment to "__proto__" would not create a field.
  Object.defineProperty(at, path.at(-1)!, { value: text, enumerable: true, writable: true, configurable: true });
  return copy;
}

const CASES: readonly Case[] = EVENTS.flatMap((eventName) =>
  webhookExamples(eventName).flatMap((example) => stringPaths(example).map((path) => ({ eventName, example, path }))),
);

/**
 * What parsing the payload with `text` at `path` must give, from what the unchanged payload
 * gives: the action is not one we track (204); a name field reads back exactly as the text; a
 * conclusion reads back in lower case; any other field changes nothing.
 */
function expected(c: Case, text: string): ParsedEvent | "not tracked" {
  const original = parseEvent({ eventName: c.eventName, ...ENVELOPE }, c.example);
  const where = c.path.join(".");
  if (where === "action") return "not tracked";
  assert.equal(original.kind, "event", `every real ${c.eventName} example is tracked`);
  if (original.kind !== "event") throw new Error("unreachable");
  const e: RunEvent = original.event;
  const body = c.eventName;
  const set = (patch: Partial<RunEvent>): ParsedEvent => ({ kind: "event", event: { ...e, ...patch } as RunEvent });
  const setJob = (patch: Partial<WorkflowJobEvent["job"]>): ParsedEvent =>
    e.kind === "workflow_job" ? { kind: "event", event: { ...e, job: { ...e.job, ...patch } } } : original;
  const step = /^workflow_job\.steps\.(\d+)\.(name|conclusion)$/.exec(where);
  if (step !== null && e.kind === "workflow_job" && e.job.steps !== undefined) {
    // Steps are read for the rerun policy: a name reads back exactly, a conclusion in lower case.
    const index = Number(step[1]);
    const steps = e.job.steps.map((s, i) => (i !== index ? s : step[2] === "name" ? { ...s, name: text } : { ...s, conclusion: text.toLowerCase() }));
    return setJob({ steps });
  }
  switch (where) {
    case "repository.name":
      return set({ repo: { ...e.repo, name: text } });
    case "repository.owner.login":
      return set({ repo: { ...e.repo, owner: text } });
    case "sender.login":
      return set({ sender: text });
    case "repository.default_branch":
      return set({ defaultBranch: text });
    case `${body}.head_branch`:
      return set({ headBranch: text });
    case "workflow_job.workflow_name":
    case "workflow_run.name":
      return set({ workflowName: text });
    case "workflow.name":
      // The workflow object names the run only when workflow_run itself has no name.
      const own = (c.example.workflow_run as Json).name;
      return typeof own === "string" && own !== "" ? original : set({ workflowName: text });
    case "workflow_job.name":
      return setJob({ name: text });
    case "workflow_job.conclusion":
      return e.kind === "workflow_job" && e.job.status === "completed" ? setJob({ conclusion: text.toLowerCase() }) : original;
    case "workflow_run.conclusion":
      return e.kind === "workflow_run" && e.status === "completed" ? set({ conclusion: text.toLowerCase() }) : original;
    default:
      return original;
  }
}

function countingGitHub(): GitHubClient {
  return {
    async rerunFailedJobs() {
      return { kind: "accepted" };
    },
    async getRun() {
      return { kind: "unavailable", message: "not needed" };
    },
  };
}

describe("Object.prototype names as payload text", () => {
  it("the real examples give many string fields to try", () => {
    assert.ok(CASES.length > 1000, String(CASES.length));
    assert.ok(PROTOTYPE_NAMES.includes("__proto__") && PROTOTYPE_NAMES.includes("constructor"));
  });

  it("every name in every string field of every real example parses as plain text", () => {
    for (const c of CASES) {
      for (const text of PROTOTYPE_NAMES) {
        const label = `${c.eventName} ${c.path.join(".")} = ${text}`;
        const parsed = parseEvent({ eventName: c.eventName, ...ENVELOPE }, withValue(c.example, c.path, text));
        const want = expected(c, text);
        if (want === "not tracked") {
          assert.equal(parsed.kind, "ignored", label);
          if (parsed.kind === "ignored") assert.match(parsed.reason, new RegExp(`action "${text}" is not tracked`), label);
          continue;
        }
        assert.deepEqual(parsed, want, label);
        if (parsed.kind === "event" && parsed.event.kind === "workflow_job") assert.ok(JOB_STATUSES.has(parsed.event.job.status), label);
      }
    }
  });

  it("every name as the action, or as the X-GitHub-Event header, is answered 204", async () => {
    const rerunner = createRerunner({ config: defineConfig({ secrets: [SECRET] }), store: new MemoryStore(), github: countingGitHub(), logger: silentLogger });
    for (const eventName of EVENTS) {
      for (const example of webhookExamples(eventName)) {
        for (const text of PROTOTYPE_NAMES) {
          const asAction = await rerunner.handle(signedDelivery(SECRET, eventName, withValue(example, ["action"], text)));
          assert.equal(asAction.status, 204, `${eventName} action ${text}: ${asAction.body.reason}`);
          assert.match(asAction.body.reason, /is not tracked/);
          const asEvent = await rerunner.handle(signedDelivery(SECRET, text, example));
          assert.equal(asEvent.status, 204, `event ${text}: ${asEvent.body.reason}`);
          assert.equal(asEvent.body.reason, `event "${text}" is not tracked`);
        }
      }
    }
  });

  it("property: a delivery with any name in any string field gets a status from the table, and what it stores is sane", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CASES), fc.constantFrom(...PROTOTYPE_NAMES), async (c, text) => {
        const store = new MemoryStore();
        const rerunner = createRerunner({ config: defineConfig({ secrets: [SECRET] }), store, github: countingGitHub(), logger: silentLogger });
        const payload = withValue(c.example, c.path, text);
        const response = await rerunner.handle(signedDelivery(SECRET, c.eventName, payload));
        assert.ok(TABLE.has(response.status), `${response.status} ${response.body.reason}`);
        assert.ok(response.body.reason.length > 0);
        if (c.path.join(".") === "action") assert.equal(response.status, 204);
        const parsed = parseEvent({ eventName: c.eventName, ...ENVELOPE }, payload);
        if (parsed.kind !== "event") return;
        const stored = await store.get(recordKey(parsed.event.repo.id, parsed.event.runId));
        for (const job of Object.values(stored?.record.jobs ?? {})) {
          assert.ok(JOB_STATUSES.has(job.status), `stored job status ${String(job.status)}`);
          assert.ok(typeof job.name === "string");
        }
      }),
      { numRuns: 400 },
    );
  });

  it("a job stored with no status (by a version that read \"constructor\" as a status) is healed by the job's next real event", () => {
    const config = defineConfig({ secrets: [SECRET] });
    const example = webhookExamples("workflow_job").find((e) => e.action === "completed")!;
    const completed = parseEvent({ eventName: "workflow_job", ...ENVELOPE }, example);
    assert.equal(completed.kind, "event");
    if (completed.kind !== "event" || completed.event.kind !== "workflow_job") return;
    const event = completed.event;
    const queued = { ...event, deliveryId: "d-0", receivedAt: event.receivedAt - 1000, job: { ...event.job, status: "queued" as const, conclusion: null } };
    const first = decide(undefined, queued, config).record!;
    // What JSON keeps of an entry whose status was a function: no status at all.
    const broken = { name: event.job.name, conclusion: null } as unknown as JobEntry;
    const prior = { ...first, jobs: { [String(event.job.id)]: broken } };
    const after = decide(prior, event, config);
    assert.equal(after.record?.jobs[String(event.job.id)]?.status, "completed");
    assert.notEqual(after.status, 202, after.reason);
  });

  it("a job status in GitHub's job listing that names an Object.prototype member is read as an open job", async () => {
    const gh = await startFakeGitHub();
    try {
      const facts = createOctokitFactsClient({ token: "t", baseUrl: gh.url });
      const jobs = PROTOTYPE_NAMES.map((name, i) => ({ id: 7000 + i, name: `job ${i}`, status: name, conclusion: null }) as unknown as FakeListedJob);
      gh.attemptJobs(4242, 1, jobs);
      const listing = await facts.attemptJobs({ owner: "o", repo: "r", runId: 4242, attempt: 1 }, AbortSignal.timeout(5000));
      assert.equal(listing.state, "read", listing.state === "unknown" ? listing.why : "");
      if (listing.state !== "read") return;
      assert.equal(listing.jobs.length, PROTOTYPE_NAMES.length);
      for (const job of listing.jobs) assert.equal(job.status, "queued", `${job.name}: ${String(job.status)}`);
    } finally {
      await gh.close();
    }
  });
});
