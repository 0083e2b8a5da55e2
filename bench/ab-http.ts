/**
 * A/B of our server's HTTP path between two checkouts of this repository, in one run:
 * `node --conditions=source --import tsx bench/ab-http.ts A_DIR B_DIR [rounds]`. Each round starts
 * `bench/http-target.ts ours` from each checkout in turn (A B A B ..., a fresh child each time),
 * loads it like `npm run bench` does, and prints the server CPU per request and the B/A ratio of
 * the medians. Absolute figures drift on a shared machine; the ratio measured here is the result.
 */
import { fork } from "node:child_process";
import { join } from "node:path";
import autocannon, { type RequestSpec, type Result } from "autocannon";
import { distinctRunDeliveries, type BenchDelivery } from "./deliveries.js";
import type { TargetMessage } from "./http-target.js";
import { fmt, median } from "./measure.js";

const [dirA, dirB, roundsArg] = process.argv.slice(2);
if (dirA === undefined || dirB === undefined) throw new Error("usage: ab-http.ts A_DIR[:kind] B_DIR[:kind] [rounds]");
const rounds = Number(roundsArg ?? 5);
const SECRET = "bench-webhook-secret-0123456789";
const deliveries = distinctRunDeliveries(SECRET, 60_000);

/** A checkout's directory, optionally with ":kind" (a target of bench/http-target.ts; default ours). */
async function sample(spec: string): Promise<{ cpu: number; sys: number; rps: number }> {
  const [dir = spec, kind = "ours", flags = ""] = spec.split(":");
  const child = fork(join(dir, "bench/http-target.ts"), [kind], {
    cwd: dir,
    execArgv: [...process.execArgv, ...flags.split(" ").filter((f) => f !== "")],
    env: { ...process.env, BENCH_SECRET: SECRET, NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const message = (type: TargetMessage["type"]): Promise<TargetMessage> =>
    new Promise((resolve) => {
      const on = (m: TargetMessage): void => {
        if (m.type !== type) return;
        child.off("message", on);
        resolve(m);
      };
      child.on("message", on);
    });
  const listening = await message("listening");
  if (listening.type !== "listening") throw new Error("no port");
  let sent = 0;
  const run = (seconds: number) =>
    new Promise<Result>((resolve, reject) => {
      const setupRequest = (request: RequestSpec): RequestSpec => {
        const d: BenchDelivery = deliveries[sent++ % deliveries.length]!;
        return { ...request, method: "POST", path: "/", headers: d.headers, body: d.body };
      };
      autocannon(
        { url: `http://127.0.0.1:${listening.port}`, connections: 10, duration: seconds, requests: [{ method: "POST", path: "/", setupRequest }] },
        (error, result) => (error === null ? resolve(result) : reject(error)),
      );
    });
  const usage = async (): Promise<{ cpu: number; sys: number }> => {
    const m = message("usage");
    child.send("usage");
    const u = await m;
    return u.type === "usage" ? { cpu: u.cpuMicros, sys: u.systemMicros } : { cpu: NaN, sys: NaN };
  };
  await run(1.5);
  const before = await usage();
  const result = await run(3);
  const after = await usage();
  const answered = result["2xx"] + result.non2xx;
  child.send("stop");
  await new Promise((r) => child.once("exit", r));
  return { cpu: (after.cpu - before.cpu) / answered, sys: (after.sys - before.sys) / answered, rps: answered / result.duration };
}

const a: number[] = [];
const b: number[] = [];
for (let round = 0; round < rounds; round++) {
  const first = round % 2 === 0;
  const x = await sample(first ? dirA : dirB);
  const y = await sample(first ? dirB : dirA);
  (first ? a : b).push(x.cpu);
  (first ? b : a).push(y.cpu);
  const show = (s: { cpu: number; sys: number; rps: number }): string => `${fmt(s.cpu, 1)} µs/req (system ${fmt(s.sys, 1)}) ${fmt(s.rps)} req/s`;
  console.log(`round ${round + 1}: A ${show(first ? x : y)}  B ${show(first ? y : x)}`);
}
console.log(`A ${fmt(median(a), 1)} µs/req, B ${fmt(median(b), 1)} µs/req: server CPU per request B/A x${(median(b) / median(a)).toFixed(2)}`);
