// The deploy folder as Cloud Functions runs it: build.mjs bundles the function, and the real
// functions-framework CLI loads the folder (package.json "main") with plain Node: no tsx, no
// workspace sources. State in the Firestore emulator, GitHub stood in for by a local server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, signedDelivery, startFakeGitHub, workflowJobPayload, type FakeGitHub } from "@job-rerunner/testing";
// The adapter's emulator harness, which enforces update-time preconditions as real Firestore does.
import { startEmulator, type Emulator } from "../../../packages/adapter-gcf/test/emulator.js";

const require = createRequire(import.meta.url);
const FF_MAIN = require.resolve("@google-cloud/functions-framework").replace(/index\.js$/, "main.js");
const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));
const ROOT_NODE_MODULES = fileURLToPath(new URL("../../../node_modules", import.meta.url));
const SECRET = "bundle-test-secret";


let folder: string;
let emulator: Emulator;
let github: FakeGitHub;
let child: ChildProcess | undefined;
let url: string;
const stdout: string[] = [];

before(async () => {
  // A copy of the deploy folder: package.json + dist/index.js, with node_modules standing in for
  // what Cloud Build installs from package.json (the registry packages only).
  folder = mkdtempSync(join(tmpdir(), "job-rerunner-gcf-"));
  copyFileSync(join(EXAMPLE, "package.json"), join(folder, "package.json"));
  symlinkSync(ROOT_NODE_MODULES, join(folder, "node_modules"), "dir");
  const bundled = spawnSync(process.execPath, [join(EXAMPLE, "build.mjs"), "--outfile", join(folder, "dist", "index.js")], { encoding: "utf8" });
  assert.equal(bundled.status, 0, bundled.stderr);

  emulator = await startEmulator("bundle-test");
  github = await startFakeGitHub();

  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [FF_MAIN, "--target=rerunner", `--source=${folder}`, "--signature-type=http"], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      NODE_ENV: "production",
      GITHUB_SIGN_KEY: SECRET,
      GITHUB_TOKEN: "ghs_bundle",
      GITHUB_API_URL: github.url,
      FIRESTORE_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: emulator.projectId,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  child.stdout!.setEncoding("utf8").on("data", (c: string) => stdout.push(c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => stderr.push(c));
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) assert.fail(`functions-framework exited: ${stderr.join("")}`);
    try {
      await fetch(url);
      break;
    } catch {
      if (tries > 200) assert.fail(`functions-framework did not start: ${stderr.join("")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  await github?.close();
  await emulator?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("examples/gcf bundle", () => {
  it("loads under functions-framework and registers `rerunner` (GET answers the health text)", async () => {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /job-rerunner is running/);
    assert.match(stdout.join(""), /"message":"configured"/);
  });

  it("re-runs a failing run once, with its state in Firestore", async () => {
    const send = (body: Record<string, unknown>) => {
      const d = signedDelivery(SECRET, "workflow_job", body);
      return fetch(url, { method: "POST", headers: d.headers, body: d.rawBody });
    };
    assert.equal((await send(workflowJobPayload({ runId: 42, jobId: 1, action: "queued" }))).status, 202);
    const done = await send(workflowJobPayload({ runId: 42, jobId: 1, action: "completed", conclusion: "failure" }));
    assert.equal(done.status, 201, await done.clone().text());
    assert.equal(github.performed(42), 1);
  });
});
