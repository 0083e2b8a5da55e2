// `npm run demo` must keep working: it is how a newcomer first sees the service.
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TSX, waitFor } from "./support.js";

it("the demo replays a failing run over HTTP, ends with the one rerun it would have made, then serves the status page until interrupted", async () => {
  const demo = fileURLToPath(new URL("../src/demo.ts", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=source", "--import", TSX, demo], { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    await waitFor(() => /Serving until Ctrl-C/.test(out) || child.exitCode !== null, "the demo to serve", 120_000);
    assert.match(out, /Serving until Ctrl-C/, err + out);
    assert.match(out, /-> 204 {2}ping/);
    assert.match(out, /-> 403 /);
    assert.match(out, /-> 201 /);
    assert.match(out, /POST \/repos\/octo-org\/octo-repo\/actions\/runs\/4711\/rerun-failed-jobs/);
    const url = /Status page \(decisions and the flaky-job table\): (\S+)/.exec(out)?.[1];
    const token = /password \(STATUS_TOKEN\): (\S+)/.exec(out)?.[1];
    assert.ok(url !== undefined && token !== undefined, out);
    assert.equal((await fetch(url)).status, 401);
    const page = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`me:${token}`).toString("base64")}` } });
    assert.equal(page.status, 200);
    const html = await page.text();
    // The flaky job: failed once, re-run once, passed on its rerun.
    assert.match(html, /<td>octo-org\/octo-repo<\/td><td>CI<\/td><td>test \(ubuntu\)<\/td><td>1<\/td><td>1<\/td><td>1<\/td>/);
  } finally {
    child.kill("SIGINT");
  }
  assert.equal(await exited, 0, err + out);
  assert.match(out, /SIGINT: stopping/);
});
