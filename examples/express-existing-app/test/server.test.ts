// The example's entry point as a process: a port already in use is one clear line and exit 1.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const SERVER = fileURLToPath(new URL("../src/server.ts", import.meta.url));

describe("examples/express-existing-app server", () => {
  it("a port already in use: exit code 1, one line naming the port, no stack trace and no success line", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const address = blocker.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const child = spawn(process.execPath, ["--conditions=source", "--import", import.meta.resolve("tsx"), SERVER], {
        env: { PATH: process.env.PATH ?? "", GITHUB_SIGN_KEY: "s", DRY_RUN: "true", STORE: "memory", PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      assert.equal(code, 1);
      assert.equal(stdout, "");
      const lines = stderr.split("\n").filter((l) => l.length > 0);
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0]!, new RegExp(`^example app: could not listen on port ${port} \\(EADDRINUSE\\)`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
