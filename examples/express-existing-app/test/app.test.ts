// The existing app with the re-runner mounted, over real HTTP, against a stand-in GitHub:
// the webhook verifies and re-runs, and the app's own JSON routes keep working.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { configFromEnv, createRerunner, MemoryStore, silentLogger } from "@job-rerunner/core";
import { signedDelivery, startFakeGitHub, workflowJobPayload, type FakeGitHub } from "@job-rerunner/testing";
import { createApp } from "../src/app.js";

const SECRET = "example-app-secret";

describe("examples/express-existing-app", () => {
  let gh: FakeGitHub;
  let server: Server;
  let base: string;

  before(async () => {
    gh = await startFakeGitHub();
    const config = configFromEnv({ GITHUB_SIGN_KEY: SECRET, GITHUB_TOKEN: "ghp_example", GITHUB_API_URL: gh.url });
    const app = createApp({ rerunner: createRerunner({ config, store: new MemoryStore(), logger: silentLogger }) });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gh.close();
  });

  async function post(runId: number, jobId: number, action: "queued" | "completed", conclusion?: string) {
    const d = signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion: conclusion ?? null }));
    const response = await fetch(`${base}/github/webhook`, { method: "POST", headers: d.headers, body: d.rawBody });
    return { status: response.status, body: (await response.json()) as { reason: string } };
  }

  it("re-runs a failed run delivered to /github/webhook despite the app's global express.json()", async () => {
    assert.equal((await post(501, 1, "queued")).status, 202);
    assert.equal((await post(501, 2, "queued")).status, 202);
    assert.equal((await post(501, 1, "completed", "success")).status, 202);
    const last = await post(501, 2, "completed", "failure");
    assert.equal(last.status, 201, last.body.reason);
    assert.equal(gh.performed(501), 1);
  });

  it("refuses a delivery signed with another secret", async () => {
    const d = signedDelivery("wrong", "workflow_job", workflowJobPayload({ runId: 502, jobId: 1, action: "queued" }));
    const response = await fetch(`${base}/github/webhook`, { method: "POST", headers: d.headers, body: d.rawBody });
    assert.equal(response.status, 403);
  });

  it("GET /github/webhook answers the health text", async () => {
    const response = await fetch(`${base}/github/webhook`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /job-rerunner is running/);
  });

  it("the app's own routes still get parsed JSON bodies", async () => {
    const created = await fetch(`${base}/api/todos`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ title: "ship it" }) });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { id: 1, title: "ship it" });
    const list = await fetch(`${base}/api/todos`);
    assert.deepEqual(await list.json(), [{ id: 1, title: "ship it" }]);
    const bad = await fetch(`${base}/api/todos`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(bad.status, 400);
    assert.deepEqual(await (await fetch(`${base}/api/health`)).json(), { ok: true });
  });
});
