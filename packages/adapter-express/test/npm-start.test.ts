// `npm start` for real, from the repository root: npm from PATH, scripts/start.mjs building
// dist when it is missing or stale, dist/bin.js serving. SIGTERM goes to npm, as `docker stop`
// sends it to `CMD npm start`: the server must receive it, finish the delivery in flight, and
// the whole command exit 0. The first run builds dist, so the test allows minutes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { signedDelivery, workflowJobPayload } from "@job-rerunner/testing";
import { spawnLogged, waitFor, waitUntilServing } from "./support.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SECRET = "npm-start-secret";

/**
 * A POST held in flight: its headers ask for "100 Continue", whose arrival proves the server has
 * taken the request; the body goes out only when `send` is called.
 */
function heldPost(url: string, delivery: { headers: Record<string, string>; rawBody: string }) {
  const req = request(url, { method: "POST", headers: { ...delivery.headers, expect: "100-continue" } });
  const taken = new Promise<void>((resolve) => req.once("continue", resolve));
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
  });
  req.flushHeaders();
  return { taken, answer, send: () => req.end(delivery.rawBody) };
}

/**
 * `npm start` with DRY_RUN and the memory store on PORT=0: the port is picked when the server
 * listens, after a build that may take minutes, so no other test can take it meanwhile; the
 * "listening" line says which it is.
 */
async function npmStart() {
  const npm = spawnLogged(
    "npm",
    ["start"],
    { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", PORT: "0" },
    ROOT,
  );
  let exited = false;
  void npm.exited.then(() => (exited = true));
  try {
    // The first run builds dist, which takes a while.
    await waitFor(() => exited || npm.logs().some((l) => l.msg === "listening"), "the server to listen", 240_000);
  } catch (error) {
    npm.process.kill("SIGTERM");
    throw error;
  }
  const port = npm.logs().find((l) => l.msg === "listening")?.port;
  assert.equal(typeof port, "number", `no "listening" line: ${npm.stderr.join("")}${npm.stdout.join("\n")}`);
  return { npm, port: Number(port), exited: () => exited };
}

describe("npm start", () => {
  it("builds if needed, serves, and on SIGTERM to npm finishes the delivery in flight and exits 0", { timeout: 300_000 }, async () => {
    const { npm, port, exited } = await npmStart();
    try {
      const url = `http://127.0.0.1:${String(port)}`;
      await waitUntilServing(url, npm);

      const inFlight = heldPost(url, signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId: 64_001, jobId: 1, action: "queued" })));
      await inFlight.taken;
      npm.process.kill("SIGTERM");
      await waitFor(() => npm.logs().some((l) => l.msg === "signal received" && l.signal === "SIGTERM"), "the server to receive npm's SIGTERM");
      inFlight.send();
      const answer = await inFlight.answer;
      assert.equal(answer.status, 202, answer.body);

      const exit = await npm.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, npm.stderr.join(""));
      assert.ok(npm.logs().some((l) => l.msg === "stopped"), npm.stdout.join("\n"));
      await assert.rejects(fetch(url));
    } finally {
      if (!exited()) {
        npm.process.kill("SIGTERM");
        await npm.exited;
      }
    }
  });

  it("with a PostgreSQL store it cannot reach: one line naming the host, never the password, and a non-zero exit", { timeout: 300_000 }, async () => {
    const password = "npm-Start-Pg-Secret-31337";
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const npm = spawnLogged(
      "npm",
      ["start"],
      {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        GITHUB_SIGN_KEY: SECRET,
        DRY_RUN: "true",
        PORT: "0",
        STORE: `postgres://jobs:${password}@127.0.0.1:${closedPort}/rerunner`,
      },
      ROOT,
    );
    const exit = await npm.exited;
    const stderr = npm.stderr.join("");
    assert.notEqual(exit.code, 0, stderr);
    assert.match(stderr, new RegExp(`^job-rerunner: STORE could not be opened: PostgreSQL at jobs@127\\.0\\.0\\.1:${closedPort}/rerunner: could not connect or prepare the tables: .*ECONNREFUSED.*$`, "m"));
    assert.ok(!stderr.includes(password) && !npm.stdout.join("\n").includes(password), "the password is never printed");
    assert.ok(!npm.logs().some((l) => l.msg === "listening"), "it never listened");
  });

  it("README's first delivery: DRY_RUN=true npm start, then npm run send ends in 201 'would re-run' (exit 0)", { timeout: 300_000 }, async () => {
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), GITHUB_SIGN_KEY: SECRET };
    const { npm, port, exited } = await npmStart();
    try {
      const send = spawnLogged("npm", ["run", "--silent", "send", "--", `http://127.0.0.1:${String(port)}/`], env, ROOT);
      const sent = await send.exited;
      const out = send.stdout.join("\n");
      assert.equal(sent.code, 0, send.stderr.join("") + out);
      assert.match(out, /-> 201 +.*DRY_RUN, would re-run failed jobs \(GitHub not called\)/);
      assert.match(out, /-> 200 +.*already decided for a rerun \(DRY_RUN: GitHub not called\)$/);
    } finally {
      if (!exited()) {
        npm.process.kill("SIGTERM");
        await npm.exited;
      }
    }
  });
});
