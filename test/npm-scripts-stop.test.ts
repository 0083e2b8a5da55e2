// Every npm script that starts a long-running process ends it when npm gets SIGTERM (as from
// `docker stop`, or a terminal's Ctrl-C through npm): npm exits 0 and nothing is left listening
// on the port. `start:gcf` does not rebuild a fresh build; the example prints the port it really
// listens on; the local Firestore emulator listens on 127.0.0.1 only.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { freePort } from "@job-rerunner/testing";
import { spawnLogged, waitFor, type Child } from "../packages/adapter-express/test/support.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERVER_ENV = { GITHUB_SIGN_KEY: "stop-secret", DRY_RUN: "true", STORE: "memory" };

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function npm(args: readonly string[], env: Record<string, string>): Child {
  return spawnLogged("npm", args, { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env }, ROOT);
}

/** Waits for `find` to see the port in the output, checks it is served, then SIGTERMs npm and checks it is free. */
async function stopsCleanly(child: Child, find: (output: string) => number | undefined, what: string): Promise<{ port: number; output: string }> {
  let exited = false;
  void child.exited.then(() => (exited = true));
  const output = (): string => `${child.stdout.join("\n")}\n${child.stderr.join("")}`;
  try {
    await waitFor(() => exited || find(output()) !== undefined, `${what} to print its port`, 240_000);
    const port = find(output());
    assert.ok(port !== undefined, `${what} printed no port before exiting:\n${output()}`);
    if (!exited) {
      assert.equal(await listening("127.0.0.1", port), true, `${what} is not listening on ${port}`);
      child.process.kill("SIGTERM");
    }
    const exit = await child.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `${what}: npm's exit\n${output()}`);
    assert.equal(await listening("127.0.0.1", port), false, `${what}: something still listens on ${port} after npm exited`);
    return { port, output: output() };
  } finally {
    if (!exited) {
      child.process.kill("SIGKILL");
      await child.exited;
    }
  }
}

const fromLog = (output: string): number | undefined => {
  for (const line of output.split("\n")) {
    try {
      const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
      if (entry.msg === "listening" && typeof entry.port === "number") return entry.port;
    } catch {
      // not a log line
    }
  }
  return undefined;
};
const byPattern = (pattern: RegExp) => (output: string): number | undefined => {
  const m = pattern.exec(output);
  return m === null ? undefined : Number(m[1]);
};

describe("npm scripts stop cleanly on SIGTERM to npm", { timeout: 900_000 }, () => {
  it("npm start", { timeout: 300_000 }, async () => {
    await stopsCleanly(npm(["start"], { ...SERVER_ENV, PORT: "0" }), fromLog, "npm start");
  });

  it("npm run start:gcf, twice: the second start does not rebuild the fresh build", { timeout: 300_000 }, async () => {
    const first = await freePort();
    await stopsCleanly(npm(["run", "start:gcf"], { ...SERVER_ENV, PORT: String(first) }), byPattern(/URL: http:\/\/localhost:(\d+)\//), "start:gcf");
    const entry = `${ROOT}/packages/adapter-gcf/dist/entry.js`;
    const builtAt = statSync(entry).mtimeMs;
    const second = await freePort();
    const again = await stopsCleanly(npm(["run", "start:gcf"], { ...SERVER_ENV, PORT: String(second) }), byPattern(/URL: http:\/\/localhost:(\d+)\//), "start:gcf again");
    assert.equal(again.port, second);
    assert.doesNotMatch(again.output, /job-rerunner: building/);
    assert.equal(statSync(entry).mtimeMs, builtAt, "dist/entry.js was rewritten");
  });

  it("the example app (npm start in examples/express-existing-app), printing the port it really listens on", { timeout: 120_000 }, async () => {
    const { port } = await stopsCleanly(
      npm(["start", "-w", "@job-rerunner/example-express-existing-app"], { ...SERVER_ENV, PORT: "0" }),
      byPattern(/example app on http:\/\/localhost:(\d+) /),
      "the example app",
    );
    assert.notEqual(port, 0);
  });

  it("the local Firestore emulator, bound to 127.0.0.1 only", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const child = npm(["run", "firestore-emulator", "-w", "@job-rerunner/adapter-gcf"], { FIRESTORE_EMULATOR_PORT: String(port) });
    await waitFor(() => child.stdout.join("\n").includes(`listening on 127.0.0.1:${port}`), "the emulator to listen", 60_000);
    // Linux routes all of 127/8 to loopback: an emulator bound to every interface would answer here too.
    assert.equal(await listening("127.0.0.2", port), false, "the emulator answers on an address other than 127.0.0.1");
    await stopsCleanly(child, byPattern(/listening on 127\.0\.0\.1:(\d+)/), "firestore-emulator");
  });

  it("npm run demo, stopped while it runs (or after it finished): exit 0, nothing left listening", { timeout: 120_000 }, async () => {
    await stopsCleanly(npm(["run", "demo"], {}), byPattern(/server listening on http:\/\/127\.0\.0\.1:(\d+)/), "npm run demo");
  });
});
