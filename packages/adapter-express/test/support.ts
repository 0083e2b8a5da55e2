// Shared by the adapter's tests: start the server the way `npm start` does (a real child
// process running src/bin.ts) and talk to it over real HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
export { freePort } from "@job-rerunner/testing";
import { freePort } from "@job-rerunner/testing";

export const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
/** tsx resolved from here, so the child can run in any working directory (its ./data goes there). */
export const TSX = import.meta.resolve("tsx");


export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly process: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exited: Promise<Exit>;
  /** Parsed JSON log lines seen so far. */
  logs(): Record<string, unknown>[];
}

/** Runs src/bin.ts as `npm start` runs dist/bin.js: only the given environment, nothing inherited but PATH. */
export function spawnBin(env: Record<string, string>, cwd: string): Child {
  return spawnLogged(process.execPath, ["--conditions=source", "--import", TSX, BIN], { PATH: process.env.PATH ?? "", ...env }, cwd);
}

/** Spawns a command with exactly `env`, collecting its output; stdout lines that are JSON are its log. */
export function spawnLogged(command: string, args: readonly string[], env: Record<string, string>, cwd: string): Child {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let outBuffer = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    outBuffer += chunk;
    const lines = outBuffer.split("\n");
    outBuffer = lines.pop() ?? "";
    stdout.push(...lines.filter((l) => l.length > 0));
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const logs = (): Record<string, unknown>[] =>
    stdout.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { process: child, stdout, stderr, exited, logs };
}

export interface RunningBin extends Child {
  readonly url: string;
  /** SIGTERM, then the exit. */
  stop(): Promise<Exit>;
}

/** Waits until `url` answers GET with 200; fails with what the child printed if it exits first. */
export async function waitUntilServing(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  let exit: Exit | undefined;
  void child.exited.then((e) => (exit = e));
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (exit !== undefined) throw new Error(`exited before serving (${JSON.stringify(exit)}): ${child.stderr.join("")}${child.stdout.join("\n")}`);
    if ((await fetch(url).catch(() => undefined))?.status === 200) return;
    if (Date.now() > until) throw new Error(`${url} did not answer: ${child.stderr.join("")}${child.stdout.join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Spawns the server and waits until it answers (or fails with what it printed). */
export async function startBin(env: Record<string, string>, cwd: string): Promise<RunningBin> {
  const port = await freePort();
  const child = spawnBin({ PORT: String(port), ...env }, cwd);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url, child);
  } catch (error) {
    child.process.kill("SIGKILL");
    throw error;
  }
  return {
    ...child,
    url,
    async stop() {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGTERM");
      return await child.exited;
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: { status: number; action: string; reason: string; delivery: string | null; run: string | null };
}

/** POSTs a delivery and returns the status and the JSON body. */
export async function deliver(url: string, delivery: { headers: Record<string, string>; rawBody: string | Buffer }): Promise<Answer> {
  const response = await fetch(url, { method: "POST", headers: delivery.headers, body: delivery.rawBody });
  const text = await response.text();
  if (text === "") {
    // 204 carries no body (HTTP forbids it): the decision is in the headers.
    const reason = decodeURIComponent(response.headers.get("x-job-rerunner-reason") ?? "");
    const action = response.headers.get("x-job-rerunner-action") ?? "";
    return { status: response.status, body: { status: response.status, action, reason, delivery: null, run: null } };
  }
  return { status: response.status, body: JSON.parse(text) as Answer["body"] };
}

/** Polls until `check` holds (log lines travel through a pipe, so they may trail the HTTP answer). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
