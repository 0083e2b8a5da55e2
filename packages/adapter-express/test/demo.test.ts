// `npm run demo` must keep working: it is how a newcomer first sees the service.
import { it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TSX } from "./support.js";

it("the demo replays a failing run over HTTP and ends with the one rerun it would have made", async () => {
  const demo = fileURLToPath(new URL("../src/demo.ts", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=source", "--import", TSX, demo], { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, err + out);
  assert.match(out, /-> 204 {2}ping/);
  assert.match(out, /-> 403 /);
  assert.match(out, /-> 201 /);
  assert.match(out, /POST \/repos\/octo-org\/octo-repo\/actions\/runs\/4711\/rerun-failed-jobs/);
});
