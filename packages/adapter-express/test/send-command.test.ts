// `job-rerunner send`: a newcomer's first delivery, the way they run it (src/bin.ts as the
// installed bin runs it) against the real server, and every way it can go wrong.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { BIN, freePort, spawnLogged, startBin, TSX, type RunningBin } from "./support.js";
import examples from "../src/example-deliveries.json" with { type: "json" };
import { SEND_USAGE } from "../src/send-command.js";
import { SWEEP_USAGE } from "../src/sweep-command.js";

const SECRET = "send-command-secret";

async function send(args: readonly string[], env: Record<string, string>, cwd: string) {
  const child = spawnLogged(process.execPath, ["--conditions=source", "--import", TSX, BIN, "send", ...args], { PATH: process.env.PATH ?? "", ...env }, cwd);
  const exit = await child.exited;
  return { code: exit.code, out: child.stdout.join("\n"), err: child.stderr.join("") };
}

describe("job-rerunner send", () => {
  let dir: string;
  let server: RunningBin;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "job-rerunner-send-"));
    server = await startBin({ GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", LOG_LEVEL: "error" }, dir);
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("against DRY_RUN=true npm start: a job queued (202), the job failed (201: it would re-run), the run completed (200); exit 0", async () => {
    const sent = await send([server.url + "/"], { GITHUB_SIGN_KEY: SECRET }, dir);
    assert.equal(sent.code, 0, sent.err + sent.out);
    const lines = sent.out.split("\n");
    assert.match(lines[0]!, /^Sending run \d+'s deliveries to http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(lines[1]!, /^1\. workflow_job queued "linters" +-> 202 +job "linters" is queued: waiting for the run.s jobs$/);
    assert.match(lines[2]!, /^2\. workflow_job completed \(failure\) "linters" +-> 201 .*DRY_RUN, would re-run failed jobs \(GitHub not called\)$/);
    assert.match(lines[3]!, /^3\. workflow_run completed \(failure\) +-> 200 .*already decided for a rerun \(DRY_RUN: GitHub not called\)$/);
    assert.match(lines[2]!, /Codertocat\/Hello-World run \d+ attempt 1/, "the payload's repository, on its default branch");
    // A second send is a new run: a new decision, not "already re-run".
    const again = await send([server.url + "/"], { GITHUB_SIGN_KEY: SECRET }, dir);
    assert.equal(again.code, 0);
    assert.match(again.out, /-> 201 /);
  });

  it("PORT names the default URL (http://127.0.0.1:$PORT/, 5000 without it)", async () => {
    const sent = await send([], { GITHUB_SIGN_KEY: SECRET, PORT: new URL(server.url).port }, dir);
    assert.equal(sent.code, 0, sent.err + sent.out);
    assert.match(sent.out, new RegExp(`to http://127\\.0\\.0\\.1:${new URL(server.url).port}/`));
  });

  it("a wrong secret: the 403 answers are printed, one line says what to fix, exit 1", async () => {
    const sent = await send([server.url], { GITHUB_SIGN_KEY: "not-the-server-secret" }, dir);
    assert.equal(sent.code, 1);
    assert.match(sent.out, /-> 403 +X-Hub-Signature-256 does not match the body/);
    assert.match(sent.err, /^job-rerunner send: the server refused the signature: GITHUB_SIGN_KEY must be the secret the server was started with\n$/);
    assert.doesNotMatch(sent.out + sent.err, /not-the-server-secret/, "the secret is never printed");
  });

  it("nothing listening, no secret, a bad URL or too many arguments: one clear line, no stack trace", async () => {
    const port = await freePort();
    const down = await send([`http://127.0.0.1:${port}/`], { GITHUB_SIGN_KEY: SECRET }, dir);
    assert.equal(down.code, 1);
    assert.match(down.err, new RegExp(`^job-rerunner send: nothing answered at http://127\\.0\\.0\\.1:${port}/ \\(.*ECONNREFUSED.*\\): start the server first`));
    const noSecret = await send([server.url], {}, dir);
    assert.equal(noSecret.code, 1);
    assert.match(noSecret.err, /GITHUB_SIGN_KEY is not set/);
    const badUrl = await send(["ftp://x"], { GITHUB_SIGN_KEY: SECRET }, dir);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.err, /"ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL/);
    assert.equal((await send(["http://a", "http://b"], { GITHUB_SIGN_KEY: SECRET }, dir)).code, 2);
    for (const r of [down, noSecret, badUrl]) assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it("send --help and sweep --help print their own usage (exit 0) and do nothing else", async () => {
    const help = await send(["--help"], {}, dir);
    assert.equal(help.code, 0);
    // spawnLogged keeps non-empty lines.
    const lines = (text: string) => text.split("\n").filter((l) => l !== "").join("\n");
    assert.equal(help.out, lines(SEND_USAGE));
    const child = spawnLogged(process.execPath, ["--conditions=source", "--import", TSX, BIN, "sweep", "--help"], { PATH: process.env.PATH ?? "" }, dir);
    assert.equal((await child.exited).code, 0);
    assert.equal(child.stdout.join("\n"), lines(SWEEP_USAGE));
    assert.match(SWEEP_USAGE, /Exit codes: 0 .* 2 GitHub could not be reached/s);
  });

  it("its payloads are GitHub's own, verbatim from @octokit/webhooks-examples", () => {
    const real = createRequire(import.meta.url)("@octokit/webhooks-examples") as { name: string; examples: unknown[] }[];
    for (const [event, payload] of [
      ["workflow_job", examples.workflow_job_queued],
      ["workflow_job", examples.workflow_job_completed],
      ["workflow_run", examples.workflow_run_completed],
    ] as const) {
      const group = real.find((g) => g.name === event);
      assert.ok(group?.examples.some((e) => isDeepStrictEqual(e, payload)), `${event} ${payload.action} is one of the examples`);
    }
  });
});
