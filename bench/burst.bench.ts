/**
 * Bursts: a 256-job matrix whose jobs all complete at the same instant, its queued and in-progress
 * deliveries already answered: 256 `completed` deliveries for ONE run record sent at once (a new
 * connection each, as GitHub sends them) to 1 or 3 server processes (`startServer` in children of
 * this process, as bench/http-target.ts starts them) on one SQLite file or one PostgreSQL
 * database, against the stand-in for GitHub (packages/testing's, in this process: it counts the
 * rerun calls). Printed: p50/p99/max answer time over every burst, 5xx answers, the
 * compare-and-set conflicts the servers' metrics counted, and the rerun calls of each run.
 */
import { fork, type ChildProcess } from "node:child_process";
import { builtExecArgv } from "./built-server.js";
import { request, Agent } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { signedDelivery, startFakeGitHub, workflowJobPayload, type FakeGitHub, type SignedDelivery } from "@job-rerunner/testing";
import type { TargetMessage } from "./http-target.js";
import { fmt } from "./measure.js";

export interface BurstSetup {
  readonly label: string;
  readonly store: "sqlite" | "postgres";
  readonly instances: number;
}

export interface BurstFigures {
  readonly setup: BurstSetup;
  /** Answer times of every completed delivery of every burst (ms), sorted. */
  readonly latencies: number[];
  readonly bursts: number;
  readonly fiveHundreds: number;
  readonly conflicts: number;
  /** Rerun calls GitHub received for each burst's run. */
  readonly reruns: number[];
  /** Set when the setup could not run (no PostgreSQL). */
  readonly skipped?: string;
}

const TARGET = fileURLToPath(new URL("./http-target.ts", import.meta.url));
const JOBS = 256;
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

interface Instance {
  readonly url: URL;
  stop(): Promise<void>;
}

function startInstance(secret: string, env: Record<string, string>): Promise<Instance> {
  // The server as `npm start` runs it (built dist).
  const child: ChildProcess = fork(TARGET, ["server"], {
    execArgv: builtExecArgv(),
    env: { ...process.env, BENCH_SECRET: secret, BENCH_SERVER_ENV: JSON.stringify(env), NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`server exited (code ${code}) before listening`));
    child.once("exit", onExit);
    child.once("message", (message: TargetMessage) => {
      child.off("exit", onExit);
      if (message.type !== "listening") return reject(new Error("unexpected message from a server"));
      resolve({
        url: new URL(`http://127.0.0.1:${message.port}/`),
        stop: async () => {
          child.send("stop");
          const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(timer);
        },
      });
    });
  });
}

/** POSTs one delivery on a connection of its own; the status and the time to the whole answer (ms). */
function post(url: URL, delivery: SignedDelivery, agent: Agent): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: delivery.headers, agent }, (res) => {
      res.resume();
      res.once("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.once("error", reject);
    req.end(delivery.rawBody);
  });
}

/** The store's conflicts counter (job_rerunner_store_conflicts_total), summed over operations. */
async function conflicts(url: URL): Promise<number> {
  const text = await (await fetch(new URL("/metrics", url))).text();
  let total = 0;
  for (const m of text.matchAll(/^job_rerunner_store_conflicts_total\{[^}]*\} (\d+)/gm)) total += Number(m[1]);
  return total;
}

function job(secret: string, runId: number, jobId: number, action: "queued" | "in_progress" | "completed"): SignedDelivery {
  const conclusion = action === "completed" ? (jobId === 1 ? "failure" : "success") : null;
  return signedDelivery(secret, "workflow_job", workflowJobPayload({ runId, jobId, action, conclusion, jobName: `job ${jobId}` }));
}

async function postgresSchema(label: string): Promise<{ url: string; drop: () => Promise<void> } | string> {
  const schema = `jr_burst_${process.pid}_${label}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } catch (error) {
    await admin.end().catch(() => {});
    return error instanceof Error ? error.message : String(error);
  }
  const url = new URL(DATABASE_URL);
  url.searchParams.set("schema", schema);
  return {
    url: url.toString(),
    drop: async () => {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

async function benchSetup(secret: string, gh: FakeGitHub, setup: BurstSetup, bursts: number, firstRunId: number): Promise<BurstFigures> {
  const dir = mkdtempSync(join(tmpdir(), "job-rerunner-burst-"));
  const database = setup.store === "postgres" ? await postgresSchema(`${setup.instances}`) : undefined;
  const empty = { setup, latencies: [], bursts: 0, fiveHundreds: 0, conflicts: 0, reruns: [] };
  if (typeof database === "string") {
    rmSync(dir, { recursive: true, force: true });
    return { ...empty, skipped: `no PostgreSQL at ${new URL(DATABASE_URL).host} (${database})` };
  }
  const store = database === undefined ? `sqlite:${join(dir, "burst.db")}` : database.url;
  const env = { GITHUB_SIGN_KEY: secret, GITHUB_TOKEN: "ghp_bench_token", GITHUB_API_URL: gh.url, STORE: store, LOG_LEVEL: "info" };
  const instances: Instance[] = [];
  try {
    // One after the other: the first creates the tables.
    for (let i = 0; i < setup.instances; i++) instances.push(await startInstance(secret, env));
    const latencies: number[] = [];
    const reruns: number[] = [];
    let fiveHundreds = 0;
    const conflictsBefore = (await Promise.all(instances.map((s) => conflicts(s.url)))).reduce((a, b) => a + b, 0);
    for (let b = 0; b < bursts; b++) {
      const runId = firstRunId + b;
      // Not timed: every job queued, then in progress (32 at a time), spread over the instances.
      const setupAgent = new Agent({ keepAlive: true, maxSockets: 32 });
      for (const step of ["queued", "in_progress"] as const) {
        const answers = await Promise.all(Array.from({ length: JOBS }, (_, i) => post(instances[i % instances.length]!.url, job(secret, runId, i + 1, step), setupAgent)));
        const bad = answers.find((a) => a.status !== 202);
        if (bad !== undefined) throw new Error(`${step} answered ${bad.status}`);
      }
      setupAgent.destroy();
      // The burst: every completion built and signed first, then all sent at once, each on a new connection.
      const completed = Array.from({ length: JOBS }, (_, i) => job(secret, runId, i + 1, "completed"));
      const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
      const answers = await Promise.all(completed.map((d, i) => post(instances[i % instances.length]!.url, d, agent)));
      agent.destroy();
      for (const a of answers) {
        latencies.push(a.ms);
        if (a.status >= 500) fiveHundreds++;
      }
      reruns.push(gh.rerunCalls(runId));
    }
    const conflictsAfter = (await Promise.all(instances.map((s) => conflicts(s.url)))).reduce((a, b) => a + b, 0);
    return { setup, latencies: latencies.sort((a, b) => a - b), bursts, fiveHundreds, conflicts: conflictsAfter - conflictsBefore, reruns };
  } finally {
    await Promise.all(instances.map((s) => s.stop()));
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const BURST_SETUPS: readonly BurstSetup[] = [
  { label: "SQLite, 1 process", store: "sqlite", instances: 1 },
  { label: "PostgreSQL, 1 process", store: "postgres", instances: 1 },
  { label: "PostgreSQL, 3 processes", store: "postgres", instances: 3 },
];

/** Each setup in turn, `bursts` bursts each (a run of its own each). */
export async function benchBurst(secret: string, bursts: number, setups: readonly BurstSetup[] = BURST_SETUPS): Promise<BurstFigures[]> {
  const gh = await startFakeGitHub();
  gh.rerun("ok");
  try {
    const out: BurstFigures[] = [];
    for (const [i, setup] of setups.entries()) out.push(await benchSetup(secret, gh, setup, bursts, 7_000_000 + i * 1000));
    return out;
  } finally {
    await gh.close();
  }
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export function burstMet(f: BurstFigures): boolean {
  return f.skipped === undefined && quantile(f.latencies, 0.99) < 1000 && f.fiveHundreds === 0 && f.reruns.every((r) => r === 1);
}

export function printBurst(figures: readonly BurstFigures[]): string[] {
  const bursts = figures.find((f) => f.skipped === undefined)?.bursts ?? 0;
  const lines = [
    `bursts: a ${JOBS}-job matrix completing at once (queued and in_progress already answered): ${JOBS} completed deliveries of one run sent together,`,
    `  a new connection each, spread over the processes; ${bursts} bursts per setup (a run each), answer times over all of them; goal: p99 < 1 s, no 5xx, one rerun per run`,
    `  ${"setup".padEnd(26)} ${"p50".padStart(9)} ${"p99".padStart(9)} ${"max".padStart(9)}   5xx   CAS conflicts   reruns per run`,
  ];
  for (const f of figures) {
    if (f.skipped !== undefined) {
      lines.push(`  ${f.setup.label.padEnd(26)} skipped: ${f.skipped}`);
      continue;
    }
    const ms = (q: number): string => `${fmt(quantile(f.latencies, q), 1)} ms`.padStart(9);
    lines.push(
      `  ${f.setup.label.padEnd(26)} ${ms(0.5)} ${ms(0.99)} ${`${fmt(f.latencies.at(-1) ?? NaN, 1)} ms`.padStart(9)}   ${String(f.fiveHundreds).padStart(3)}   ${String(f.conflicts).padStart(13)}   ${f.reruns.join(", ")}${burstMet(f) ? "" : "   (goal missed)"}`,
    );
  }
  return lines;
}

// Run on its own: node --conditions=source --import tsx bench/burst.bench.ts [bursts]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(printBurst(await benchBurst("bench-webhook-secret-0123456789", Number(process.argv[2] ?? 3))).join("\n"));
}
