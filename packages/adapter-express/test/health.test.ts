// /healthz, /readyz, HOST, and the credential check at start: the server in-process over real HTTP.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { MemoryStore, type LogEntry, type Store } from "@job-rerunner/core";
import { generateAppKeys, startFakeGitHub, type FakeGitHub } from "@job-rerunner/testing";
import { startServer, type RunningServer } from "@job-rerunner/adapter-express";
import { freePort } from "./support.js";

const BASE = { GITHUB_SIGN_KEY: "health-secret", DRY_RUN: "true", STORE: "memory", PORT: "0" };

/** A store whose reads never answer (a database that stopped responding). */
class HangingStore extends MemoryStore implements Store {
  override get(): ReturnType<Store["get"]> {
    return new Promise(() => {});
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("health endpoints", () => {
  let server: RunningServer | undefined;
  after(async () => {
    await server?.close();
  });

  it("GET /healthz and /readyz answer 200 with one line of JSON; GET / keeps its health text", async () => {
    server = await startServer(BASE, { writeLog: () => {} });
    for (const [path, body] of [["/healthz", { status: "ok" }], ["/readyz", { status: "ready", store: "ok" }]] as const) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const text = await response.text();
      assert.equal(text.trim().split("\n").length, 1);
      assert.deepEqual(JSON.parse(text), body);
    }
    const root = await fetch(`${server.url}/`);
    assert.equal(root.status, 200);
    assert.match(await root.text(), /job-rerunner/);
    await server.close();
    server = undefined;
  });

  it("/readyz answers 503 when the store does not answer within a second; /healthz stays 200", async () => {
    server = await startServer(BASE, { writeLog: () => {}, store: new HangingStore() });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 503);
    const body = JSON.parse(await ready.text()) as { status: string; store: string };
    assert.equal(body.status, "not ready");
    assert.match(body.store, /did not answer within 1000 ms/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    await server.close();
    server = undefined;
  });
});

describe("HOST chooses the bind address", () => {
  it("HOST=127.0.0.1 listens on that address only; unset listens on every interface", async () => {
    const only = await startServer({ ...BASE, HOST: "127.0.0.1" }, { writeLog: () => {} });
    try {
      assert.equal(await canConnect("127.0.0.1", only.port), true);
      // Linux routes all of 127/8 to the loopback interface: another address there is another bind.
      assert.equal(await canConnect("127.0.0.2", only.port), false);
    } finally {
      await only.close();
    }
    const all = await startServer(BASE, { writeLog: () => {} });
    try {
      assert.equal(await canConnect("127.0.0.2", all.port), true);
    } finally {
      await all.close();
    }
  });
});

describe("the credential check at start", () => {
  let gh: FakeGitHub;
  before(async () => {
    gh = await startFakeGitHub();
  });
  after(async () => {
    await gh.close();
  });

  async function startWith(env: Record<string, string>): Promise<{ server: RunningServer; logs: LogEntry[] }> {
    const logs: LogEntry[] = [];
    const server = await startServer(
      { GITHUB_SIGN_KEY: "health-secret", GITHUB_TOKEN: "ghp_check_me", STORE: "memory", PORT: "0", GITHUB_API_URL: gh.url, ...env },
      { writeLog: (line) => logs.push(JSON.parse(line) as LogEntry) },
    );
    return { server, logs };
  }

  async function warning(logs: LogEntry[]): Promise<string> {
    const until = Date.now() + 20_000;
    for (;;) {
      const found = logs.find((l) => l.level === "warn" && String(l.msg).startsWith("credential check"));
      if (found !== undefined) return String(found.msg);
      if (Date.now() > until) throw new Error(`no credential warning in ${JSON.stringify(logs)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("a token GitHub refuses: a warning naming 401 Bad credentials, and the server serves", async () => {
    gh.credentials({ answer: "bad-credentials" });
    const { server, logs } = await startWith({});
    try {
      assert.match(await warning(logs), /GITHUB_TOKEN was refused by GitHub \(401 Bad credentials\)/);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      const check = gh.calls.find((c) => c.path === "/rate_limit");
      assert.equal(check?.headers.authorization, "Bearer ghp_check_me");
      assert.ok(!JSON.stringify(logs).includes("ghp_check_me"), "the token never appears in a log line");
    } finally {
      await server.close();
    }
  });

  it("a classic token without the repo scope: a warning naming the missing scope", async () => {
    gh.credentials({ answer: "ok", scopes: "read:org, workflow" });
    const { server, logs } = await startWith({});
    try {
      assert.match(await warning(logs), /scopes \[read:org, workflow\] but re-running jobs needs "repo"/);
    } finally {
      await server.close();
    }
  });

  it("a good token: no warning", async () => {
    gh.credentials({ answer: "ok", scopes: "repo, workflow" });
    const before = gh.calls.filter((c) => c.path === "/rate_limit").length;
    const { server, logs } = await startWith({ LOG_LEVEL: "debug" });
    try {
      const until = Date.now() + 20_000;
      while (!logs.some((l) => l.msg === "GITHUB_TOKEN accepted by GitHub") && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      assert.equal(gh.calls.filter((c) => c.path === "/rate_limit").length, before + 1);
      assert.ok(!logs.some((l) => l.level === "warn"), JSON.stringify(logs));
    } finally {
      await server.close();
    }
  });

  it("GitHub unreachable: a warning, and the server starts all the same", async () => {
    const closed = await freePort();
    const { server, logs } = await startWith({ GITHUB_API_URL: `http://127.0.0.1:${closed}` });
    try {
      assert.match(await warning(logs), /could not reach GitHub at http:\/\/127\.0\.0\.1:\d+ .*starting anyway/);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it("a GitHub App without actions: write: the server logs a warning naming the App and the permission, and serves", async () => {
    const keys = generateAppKeys();
    const appGh = await startFakeGitHub({ app: { id: 5150, publicKey: keys.publicKey, permissions: { actions: "read", checks: "read", contents: "read", metadata: "read" } } });
    const logs: LogEntry[] = [];
    const server = await startServer(
      { GITHUB_SIGN_KEY: "health-secret", GITHUB_APP_ID: "5150", GITHUB_APP_PRIVATE_KEY: keys.privateKey, STORE: "memory", PORT: "0", GITHUB_API_URL: appGh.url },
      { writeLog: (line) => logs.push(JSON.parse(line) as LogEntry) },
    );
    try {
      assert.match(await warning(logs), /GitHub App job-rerunner-test \(id 5150\) has actions: read, not actions: write/);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      assert.ok(!JSON.stringify(logs).includes("PRIVATE KEY"), "the key never appears in a log line");
    } finally {
      await server.close();
      await appGh.close();
    }
  });

  it("DRY_RUN skips the check", async () => {
    const before = gh.calls.length;
    const { server } = await startWith({ DRY_RUN: "true", GITHUB_TOKEN: "" });
    await server.close();
    assert.equal(gh.calls.length, before);
  });
});
