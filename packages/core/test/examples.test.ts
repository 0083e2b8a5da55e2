import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRerunner, defineConfig, MemoryStore, parseEvent, silentLogger, type GitHubClient } from "@job-rerunner/core";
import { signedDelivery } from "@job-rerunner/testing";

interface Group {
  name: string;
  examples: Record<string, unknown>[];
}

// Every published set of real payloads: api.github.com and each GitHub Enterprise Server version.
const require = createRequire(import.meta.url);
const root = dirname(require.resolve("@octokit/webhooks-examples/package.json"));
const sets = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => ({ name: d.name, groups: require(join(root, d.name, "index.json")) as Group[] }));

const TRACKED = ["workflow_job", "workflow_run", "ping"];
const TABLE = new Set([200, 201, 202, 204, 404]);
const SECRET = "example-secret";

function countingGitHub(): GitHubClient & { reruns: number } {
  const client = {
    reruns: 0,
    async rerunFailedJobs() {
      client.reruns++;
      return { kind: "accepted" as const };
    },
    async getRun() {
      return { kind: "unavailable" as const, message: "not needed" };
    },
  };
  return client;
}

describe("real payloads from @octokit/webhooks-examples", () => {
  it("the package holds workflow_job, workflow_run and ping examples", () => {
    const names = new Set(sets.flatMap((s) => s.groups.map((g) => g.name)));
    for (const n of TRACKED) assert.ok(names.has(n), n);
  });

  for (const set of sets) {
    it(`${set.name}: every tracked example gets a status from the table with a reason, never a throw`, async () => {
      const config = defineConfig({ secrets: [SECRET] });
      const github = countingGitHub();
      const rerunner = createRerunner({ config, store: new MemoryStore(), github, logger: silentLogger });
      let seen = 0;
      for (const group of set.groups.filter((g) => TRACKED.includes(g.name))) {
        for (const example of group.examples) {
          seen++;
          const delivery = signedDelivery(SECRET, group.name, example);
          const response = await rerunner.handle(delivery);
          assert.ok(TABLE.has(response.status), `${group.name}.${String(example.action)} -> ${response.status} ${response.body.reason}`);
          assert.ok(response.body.reason.length > 0);
          assert.equal(response.body.status, response.status);
          if (group.name === "ping") assert.equal(response.status, 204);
        }
      }
      assert.ok(seen > 0);
    });
  }

  it("all non-workflow events are answered 204 with the event named", async () => {
    const config = defineConfig({ secrets: [SECRET] });
    const rerunner = createRerunner({ config, store: new MemoryStore(), github: countingGitHub(), logger: silentLogger });
    const others = sets[0]!.groups.filter((g) => !TRACKED.includes(g.name)).slice(0, 20);
    for (const group of others) {
      const response = await rerunner.handle(signedDelivery(SECRET, group.name, group.examples[0]));
      assert.equal(response.status, 204, group.name);
      assert.match(response.body.reason, new RegExp(group.name));
    }
  });

  it("a real workflow_job completed/failure example normalizes as expected", () => {
    const group = sets.find((s) => s.name === "api.github.com")!.groups.find((g) => g.name === "workflow_job")!;
    const failed = group.examples.find(
      (e) => e.action === "completed" && (e.workflow_job as { conclusion?: string }).conclusion === "failure",
    );
    assert.ok(failed);
    const parsed = parseEvent({ eventName: "workflow_job", deliveryId: "d", receivedAt: 1, handlerId: "h" }, failed);
    assert.equal(parsed.kind, "event");
    if (parsed.kind !== "event" || parsed.event.kind !== "workflow_job") return;
    const job = failed.workflow_job as { id: number; run_id: number; name: string };
    assert.equal(parsed.event.job.id, job.id);
    assert.equal(parsed.event.runId, job.run_id);
    assert.equal(parsed.event.job.status, "completed");
    assert.equal(parsed.event.job.conclusion, "failure");
    assert.equal(parsed.event.attempt, 1);
    assert.equal(parsed.event.headBranch, "main");
    assert.equal(parsed.event.defaultBranch, (failed.repository as { default_branch: string }).default_branch);
  });

  it("every workflow_job and workflow_run example carries the repository's default branch, and parsing keeps it", () => {
    let seen = 0;
    for (const set of sets) {
      for (const group of set.groups.filter((g) => g.name === "workflow_job" || g.name === "workflow_run")) {
        for (const example of group.examples) {
          const parsed = parseEvent({ eventName: group.name, deliveryId: "d", receivedAt: 1, handlerId: "h" }, example);
          if (parsed.kind !== "event") continue;
          const expected = (example.repository as { default_branch?: unknown }).default_branch;
          assert.equal(typeof expected, "string");
          assert.equal(parsed.event.defaultBranch, expected);
          seen++;
        }
      }
    }
    assert.ok(seen >= 10, `only ${seen} examples parsed`);
  });

  it("an example without run_attempt or head_branch is attempt 1 on an unknown branch", () => {
    const group = sets.find((s) => s.name === "api.github.com")!.groups.find((g) => g.name === "workflow_job")!;
    const old = group.examples.find((e) => (e.workflow_job as { run_attempt?: number }).run_attempt === undefined);
    assert.ok(old);
    const parsed = parseEvent({ eventName: "workflow_job", deliveryId: "d", receivedAt: 1, handlerId: "h" }, old);
    assert.equal(parsed.kind, "event");
    if (parsed.kind === "event") {
      assert.equal(parsed.event.attempt, 1);
      assert.equal(parsed.event.headBranch, null);
    }
  });
});

describe("malformed payloads", () => {
  const envelope = { eventName: "workflow_job", deliveryId: "d", receivedAt: 1, handlerId: "h" };
  const cases: [string, unknown, RegExp][] = [
    ["a JSON array", [1, 2], /not a JSON object/],
    ["a JSON string", "hello", /not a JSON object/],
    ["null", null, /not a JSON object/],
    ["a null workflow_job", { action: "queued", workflow_job: null, repository: { id: 1, name: "r", owner: { login: "o" } } }, /no workflow_job object/],
    ["no repository", { action: "queued", workflow_job: { id: 1, run_id: 2 } }, /no repository/],
    ["a repository without id", { action: "queued", workflow_job: { id: 1, run_id: 2 }, repository: { name: "r", owner: { login: "o" } } }, /no id/],
    ["no run_id", { action: "queued", workflow_job: { id: 1 }, repository: { id: 1, name: "r", owner: { login: "o" } } }, /no run_id/],
    ["a string job id", { action: "queued", workflow_job: { id: "1", run_id: 2 }, repository: { id: 1, name: "r", owner: { login: "o" } } }, /workflow_job\.id is "1": not a whole number/],
    ["an unknown action", { action: "exploded", workflow_job: { id: 1, run_id: 2 }, repository: { id: 1, name: "r", owner: { login: "o" } } }, /not tracked/],
  ];
  for (const [name, payload, reason] of cases) {
    it(`${name}: ignored with a reason`, () => {
      const parsed = parseEvent(envelope, payload);
      assert.equal(parsed.kind, "ignored");
      if (parsed.kind === "ignored") assert.match(parsed.reason, reason);
    });
  }
});
