// The two embedding examples README shows (examples/node-http: the core in Node's own http server;
// examples/express-existing-app: the handler mounted into an Express app) as processes, the way a
// user runs them: a rerun GitHub answers "already running" is re-run by the reconciler they
// start beside the rerunner, with no further delivery, and SIGTERM stops them cleanly.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { signedDelivery, startFakeGitHub, workflowRunPayload, type FakeGitHub } from "@job-rerunner/testing";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECRET = "embedding-examples-secret";
const EXAMPLES = [
  { name: "node-http", entry: "examples/node-http/src/server.ts", path: "/" },
  { name: "express-existing-app", entry: "examples/express-existing-app/src/server.ts", path: "/github/webhook" },
];

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("embedding examples keep every guarantee", () => {
  let gh: FakeGitHub;
  before(async () => {
    gh = await startFakeGitHub();
  });
  after(() => gh.close());

  for (const [index, example] of EXAMPLES.entries()) {
    it(`${example.name}: a rerun answered "already running" is driven by its reconciler, with no further delivery; SIGTERM exits 0`, { timeout: 90_000 }, async () => {
      const runId = 7_100_000 + index;
      const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--conditions=source", "--import", "tsx", example.entry], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_embedding", GITHUB_API_URL: gh.url, STORE: "memory", PORT: "0", PENDING_INTERVAL_S: "1" },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      try {
        await waitFor(() => /http:\/\/localhost:\d+/.test(stdout), `${example.name} listening (stderr: ${stderr})`);
        const port = /http:\/\/localhost:(\d+)/.exec(stdout)![1];
        assert.doesNotMatch(stdout, /no reconciler started/, "the example starts its reconciler");
        gh.rerun("already-running", "ok");
        const delivery = signedDelivery(SECRET, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" }));
        const answer = await fetch(`http://127.0.0.1:${port}${example.path}`, { method: "POST", headers: delivery.headers, body: delivery.rawBody });
        const body = (await answer.json()) as { reason: string };
        assert.equal(answer.status, 202, body.reason);
        assert.match(body.reason, /already running/);
        assert.equal(gh.performed(runId), 0);
        // No delivery from here on: only the reconciler can get the rerun through.
        await waitFor(() => gh.performed(runId) === 1, `the reconciler's rerun (stdout: ${stdout})`);
        assert.equal(gh.rerunCalls(runId), 2, "one 403, one accepted");
        child.kill("SIGTERM");
        assert.equal(await exited, 0, stderr);
        assert.equal(gh.performed(runId), 1);
      } finally {
        child.kill("SIGKILL");
      }
    });
  }
});
