import { fork, type ChildProcess } from "node:child_process";
import { builtExecArgv } from "./built-server.js";
import { fileURLToPath } from "node:url";
import autocannon, { type RequestSpec, type Result } from "autocannon";
import type { BenchDelivery } from "./deliveries.js";
import type { TargetKind, TargetMessage } from "./http-target.js";
import { fmt, median, ratio } from "./measure.js";

export interface HttpOptions {
  readonly secret: string;
  /** Distinct-run deliveries; each server child starts with an empty store and walks them in order. */
  readonly deliveries: readonly BenchDelivery[];
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly connections: number;
  /** Rounds of ours, floor, octokit (interleaved, a fresh child each time); the median is reported. */
  readonly rounds: number;
}

export interface HttpSample {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Server process CPU time (user + system) per answered request, over the measured window. */
  readonly cpuMicrosPerRequest: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly wrapped: boolean;
  readonly rssMb: number;
}

export interface HttpFigures {
  readonly kind: TargetKind;
  readonly samples: HttpSample[];
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMicrosPerRequest: number;
}

const TARGET = fileURLToPath(new URL("./http-target.ts", import.meta.url));

interface Child {
  readonly process: ChildProcess;
  readonly port: number;
  usage(): Promise<Extract<TargetMessage, { type: "usage" }>>;
  stop(): Promise<void>;
}

/**
 * Starts one server in a child process. Our packages (the server, and the modules the
 * required-work floors call) come from their built dist, as `npm start` runs them; the
 * references are as published.
 */
function startTarget(kind: TargetKind, secret: string): Promise<Child> {
  const child = fork(TARGET, [kind], {
    execArgv: builtExecArgv(),
    env: { ...process.env, BENCH_SECRET: secret, NODE_ENV: "production" },
    // The server's log lines go to /dev/null: written (synchronously, as to a file) but not kept.
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`${kind} server exited (code ${code}) before listening`));
    child.once("exit", onExit);
    child.once("message", (message: TargetMessage) => {
      if (message.type !== "listening") return reject(new Error(`unexpected message from ${kind} server`));
      child.off("exit", onExit);
      resolve({
        process: child,
        port: message.port,
        usage: () =>
          new Promise((res) => {
            const onMessage = (m: TargetMessage): void => {
              if (m.type !== "usage") return;
              child.off("message", onMessage);
              res(m);
            };
            child.on("message", onMessage);
            child.send("usage");
          }),
        stop: async () => {
          child.send("stop");
          const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
          await exited;
          clearTimeout(timer);
        },
      });
    });
  });
}

/** Quantile of sorted values (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function load(port: number, seconds: number, connections: number, next: () => BenchDelivery, latencies?: number[]): Promise<Result> {
  // One request entry whose setupRequest takes the next delivery from a counter shared by all
  // connections (autocannon's `requests` array is walked per connection, which would repeat deliveries).
  const setupRequest = (request: RequestSpec): RequestSpec => {
    const delivery = next();
    return { ...request, method: "POST", path: "/", headers: delivery.headers, body: delivery.body };
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}`, connections, duration: seconds, timeout: 10, requests: [{ method: "POST", path: "/", setupRequest }] },
      (error, result) => (error === null ? resolve(result) : reject(error)),
    );
    // autocannon's own histogram keeps whole milliseconds; keep the exact latencies instead.
    if (latencies !== undefined) instance.on("response", (_client, _status, _bytes, latencyMs) => latencies.push(latencyMs));
  });
}

async function sample(kind: TargetKind, options: HttpOptions): Promise<HttpSample> {
  const child = await startTarget(kind, options.secret);
  try {
    let sent = 0;
    const next = (): BenchDelivery => options.deliveries[sent++ % options.deliveries.length]!;
    await load(child.port, options.warmupSeconds, options.connections, next);
    const before = await child.usage();
    const latencies: number[] = [];
    const result = await load(child.port, options.seconds, options.connections, next, latencies);
    const after = await child.usage();
    const answered = result["2xx"] + result.non2xx;
    const sorted = Float64Array.from(latencies).sort();
    return {
      requestsPerSecond: answered / result.duration,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / Math.max(1, answered),
      requests: answered,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      wrapped: sent > options.deliveries.length,
      rssMb: after.rss / 2 ** 20,
    };
  } finally {
    await child.stop();
  }
}

/** ours, floor and octokit in interleaved rounds (so drift on a shared machine hits all alike). */
export async function benchHttp(
  options: HttpOptions,
  kinds: readonly TargetKind[] = ["ours", "floor", "octokit", "floor-http", "floor-decided", "floor-recorded"],
): Promise<HttpFigures[]> {
  const samples = new Map<TargetKind, HttpSample[]>(kinds.map((k) => [k, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const kind of kinds) samples.get(kind)!.push(await sample(kind, options));
  }
  return kinds.map((kind) => {
    const s = samples.get(kind)!;
    return {
      kind,
      samples: s,
      requestsPerSecond: median(s.map((x) => x.requestsPerSecond)),
      p50: median(s.map((x) => x.p50)),
      p99: median(s.map((x) => x.p99)),
      cpuMicrosPerRequest: median(s.map((x) => x.cpuMicrosPerRequest)),
    };
  });
}

const LABEL: Record<TargetKind, string> = {
  ours: "ours    (startServer: engine, memory store, DRY_RUN, info logs; POST / on node:http, the rest via Express 5)",
  floor: "floor   (Express 5 app.post: raw body, bare HMAC, JSON.parse, 202)",
  "floor-http": "floor on bare node:http (same handler, no Express): what Express itself costs",
  octokit: "octokit (@octokit/webhooks createNodeMiddleware, verify + receive)",
  "floor-decided": "floor on node:http + the event read, decide, one info log line, the delivery metrics (our modules, no engine around them)",
  "floor-recorded": "the same + the run record read and written in a MemoryStore (compare-and-set)",
};

export function printHttp(figures: HttpFigures[], options: HttpOptions): string[] {
  const by = (k: TargetKind): HttpFigures => figures.find((f) => f.kind === k)!;
  const ours = by("ours");
  const floor = by("floor");
  const octokit = by("octokit");
  const lines = [
    `HTTP over 127.0.0.1: autocannon in this process, each server in its own child process; ${options.connections} connections,`,
    `  ${options.warmupSeconds} s warm-up + ${options.seconds} s measured, ${options.rounds} interleaved rounds (median), ` +
      `each request a distinct run's signed workflow_job "queued" delivery (${fmt(options.deliveries[0]!.body.length)} B, real payload shape)`,
  ];
  for (const f of figures) {
    lines.push(
      `  ${LABEL[f.kind]}`,
      `      ${fmt(f.requestsPerSecond).padStart(7)} req/s   p50 ${fmt(f.p50, 2)} ms   p99 ${fmt(f.p99, 2)} ms   server CPU ${fmt(f.cpuMicrosPerRequest, 1)} µs/req` +
        `   [rounds: ${f.samples.map((s) => fmt(s.requestsPerSecond)).join(", ")} req/s]`,
    );
    // Only our server keeps state: for it a wrapped pool would mean redeliveries (a cheaper path).
    const bad = f.samples.filter((s) => s.non2xx > 0 || s.errors > 0 || (s.wrapped && f.kind === "ours"));
    for (const s of bad) {
      lines.push(`      ! ${s.non2xx} non-2xx, ${s.errors} errors/timeouts${s.wrapped ? ", delivery pool wrapped (some requests were redeliveries)" : ""}`);
    }
  }
  lines.push(
    `  ours/floor:   throughput x${ratio(ours.requestsPerSecond, floor.requestsPerSecond)}   server CPU per request x${ratio(ours.cpuMicrosPerRequest, floor.cpuMicrosPerRequest)}   (goal: throughput >= 0.90)`,
    `  ours/octokit: throughput x${ratio(ours.requestsPerSecond, octokit.requestsPerSecond)}   server CPU per request x${ratio(ours.cpuMicrosPerRequest, octokit.cpuMicrosPerRequest)}   (goal: throughput >= 1.00)`,
  );
  const bare = figures.find((f) => f.kind === "floor-http");
  if (bare !== undefined) {
    lines.push(
      `  ours/floor on node:http: throughput x${ratio(ours.requestsPerSecond, bare.requestsPerSecond)}   server CPU per request x${ratio(ours.cpuMicrosPerRequest, bare.cpuMicrosPerRequest)}   (no goal: the engine's own cost)`,
      `  Express floor/node:http floor: throughput x${ratio(floor.requestsPerSecond, bare.requestsPerSecond)}   (what Express costs a handler)`,
    );
  }
  const decided = figures.find((f) => f.kind === "floor-decided");
  const recorded = figures.find((f) => f.kind === "floor-recorded");
  if (bare !== undefined && decided !== undefined && recorded !== undefined) {
    // The same work done with nothing around it: where octokit's cost falls in it says how much
    // room the goal leaves for the engine's plumbing.
    const ofOctokit = (f: HttpFigures): string => `server CPU per request x${ratio(f.cpuMicrosPerRequest, octokit.cpuMicrosPerRequest)} of octokit's`;
    lines.push(
      `  the required work alone, added step by step to the node:http floor (no goal: what any server doing this job pays):`,
      `    node:http floor (HMAC, JSON.parse, 202)                                ${ofOctokit(bare)}`,
      `    + the event, decide, one info log line, the delivery metrics         ${ofOctokit(decided)}`,
      `    + the run record read and written (MemoryStore, compare-and-set)     ${ofOctokit(recorded)}`,
      `    ours (the same inside the engine: queue, scope, deadlines, visibility, answer) ${ofOctokit(ours)}`,
    );
  }
  return lines;
}

// `node --conditions=source --import tsx bench/http.bench.ts [rounds]` runs this comparison alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { distinctRunDeliveries } = await import("./deliveries.js");
  const { buildServer } = await import("./built-server.js");
  buildServer();
  const secret = "bench-webhook-secret-0123456789";
  const options: HttpOptions = { secret, deliveries: distinctRunDeliveries(secret, 100_000), warmupSeconds: 1.5, seconds: 4, connections: 10, rounds: Number(process.argv[2] ?? 3) };
  console.log(printHttp(await benchHttp(options), options).join("\n"));
}
