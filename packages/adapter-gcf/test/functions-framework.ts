// Runs the function the way `npm run start:gcf` and Cloud Functions do: the real
// functions-framework CLI in a child process, loading src/entry.ts (through tsx), over real HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { freePort } from "./emulator.js";

const require = createRequire(import.meta.url);
/** The CLI script behind `functions-framework` (its package exports no ./build path, so resolve by file). */
export const FF_MAIN = require.resolve("@google-cloud/functions-framework").replace(/index\.js$/, "main.js");
export const ENTRY = fileURLToPath(new URL("../src/entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

export interface RunningFunction {
  readonly url: string;
  readonly process: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Parsed JSON lines of stdout (the structured log). */
  logs(): Record<string, unknown>[];
  /** SIGKILL-free stop: SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** An abrupt end, as when an instance is taken away: SIGKILL. */
  kill(): Promise<void>;
}

/** Starts functions-framework on a free port with only the given environment (plus PATH) and waits until it answers. */
export async function startFunction(env: Record<string, string>, source: string = ENTRY, target = "rerunner"): Promise<RunningFunction> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", TSX, FF_MAIN, `--target=${target}`, `--source=${source}`, "--signature-type=http"],
    { env: { PATH: process.env.PATH ?? "", PORT: String(port), ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  let buffer = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    stdout.push(...lines.filter((l) => l.length > 0));
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const url = `http://127.0.0.1:${port}`;
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  // Wait for the server to answer (module loading through tsx takes a moment); give up with what it printed.
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`functions-framework exited (${child.exitCode}): ${stderr.join("")}${stdout.join("\n")}`);
    try {
      await fetch(url, { method: "GET" });
      break;
    } catch {
      if (tries > 300) {
        await end("SIGKILL");
        throw new Error(`functions-framework did not start: ${stderr.join("")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    process: child,
    stdout,
    stderr,
    logs: () =>
      stdout.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or null when there is none. */
  readonly json: Record<string, unknown> | null;
}

/** POSTs a delivery (headers + raw body) to the function. */
export async function post(url: string, delivery: { headers: Record<string, string>; rawBody: string }): Promise<Answer> {
  const response = await fetch(url, { method: "POST", headers: delivery.headers, body: delivery.rawBody });
  const text = await response.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = text === "" ? null : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}
