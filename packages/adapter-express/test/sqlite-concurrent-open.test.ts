// Several instances opening the same new SQLite file at the same moment (a deploy that starts
// replicas together, a restart loop): every one must open it and listen, none may exit with
// "database is locked" because another one was still creating the file.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { spawnBin, waitFor, type Child } from "./support.js";

/** The port a child logged in its "listening" line, once it has. */
function listeningPort(child: Child): number | undefined {
  const line = child.logs().find((l) => l.msg === "listening");
  return typeof line?.port === "number" ? line.port : undefined;
}

/** Whether process `pid` has `path` open (Linux /proc): it is inside the store's open. */
function hasOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

describe("SQLite: instances opening one new file at the same moment", () => {
  it(
    "10 servers started together on a fresh file, which another instance holds locked while it creates it: all listen",
    { timeout: 300_000, skip: process.platform !== "linux" && "needs /proc to see when each server has the file open" },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "jr-open-race-"));
      const path = join(dir, "state.sqlite");
      const children: Child[] = [];
      // Stands for the instance that got there first and is still creating the file (its WAL
      // switch and schema writes fsync, which takes long on a busy disk): it holds the lock
      // until every server is inside its own open, and some time more than the 1 s a write
      // waits for a lock at run time.
      const first = new Database(path);
      first.exec("BEGIN EXCLUSIVE");
      try {
        const env = { PORT: "0", GITHUB_SIGN_KEY: "s", DRY_RUN: "true", STORE: `sqlite:${path}` };
        for (let i = 0; i < 10; i++) children.push(spawnBin(env, dir));
        const exits: (string | undefined)[] = children.map(() => undefined);
        children.forEach((c, i) => void c.exited.then((e) => (exits[i] = `exited ${JSON.stringify(e)}: ${c.stderr.join("")}`)));
        await waitFor(
          () => children.every((c, i) => hasOpen(c.process.pid!, path) || exits[i] !== undefined),
          "every server to open the file",
          240_000,
        );
        await new Promise((r) => setTimeout(r, 3000));
        first.exec("COMMIT");
        await waitFor(() => children.every((c, i) => listeningPort(c) !== undefined || exits[i] !== undefined), "every server to listen or exit", 240_000);
        assert.deepEqual(exits.filter((e) => e !== undefined), [], "no server may fail to open the store");
        for (const child of children) {
          const answer = await fetch(`http://127.0.0.1:${listeningPort(child)!}/`);
          assert.equal(answer.status, 200);
        }
      } finally {
        if (first.inTransaction) first.exec("ROLLBACK");
        first.close();
        for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill("SIGTERM");
        await Promise.all(children.map((c) => c.exited));
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
