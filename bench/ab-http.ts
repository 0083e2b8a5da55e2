/**
 * A/B (or A/B/C...) of our server's HTTP path between checkouts of this repository, in one run:
 * `node --conditions=source --import tsx bench/ab-http.ts A_DIR B_DIR [C_DIR ...] [rounds]`. A
 * candidate is `DIR[:kind[:node flags]]`: `bench/http-target.ts kind` (default `ours`) from that
 * checkout, its server packages from their dist (built when stale, as `npm start` does). Each
 * round starts every candidate in turn (a fresh child each time, who goes first rotating), loads
 * it like `npm run bench` does, and prints the server CPU per request; at the end, each
 * candidate's median and its ratio to A's. Absolute figures drift on a shared machine; the
 * ratios measured here are the result.
 */
import { execFileSync, fork } from "node:child_process";
import { join } from "node:path";
import autocannon, { type RequestSpec, type Result } from "autocannon";
import { distinctRunDeliveries, type BenchDelivery } from "./deliveries.js";
import type { TargetMessage } from "./http-target.js";
import { builtExecArgv } from "./built-server.js";
import { fmt, median } from "./measure.js";

const args = process.argv.slice(2);
const rounds = args.length > 2 && /^\d+$/.test(args.at(-1)!) ? Number(args.pop()) : 5;
const specs = args;
if (specs.length < 2) throw new Error("usage: ab-http.ts A_DIR[:kind[:node flags]] B_DIR[:kind[:node flags]] [more candidates...] [rounds]");
const SECRET = "bench-webhook-secret-0123456789";
const deliveries = distinctRunDeliveries(SECRET, 60_000);

/** A checkout's directory, optionally with ":kind" (a target of bench/http-target.ts; default ours). */
async function sample(spec: string): Promise<{ cpu: number; sys: number; rps: number }> {
  const [dir = spec, kind = "ours", flags = ""] = spec.split(":");
  const child = fork(join(dir, "bench/http-target.ts"), [kind], {
    cwd: dir,
    execArgv: [...builtExecArgv(), ...flags.split(" ").filter((f) => f !== "")],
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

// Each checkout's server as `npm start` runs it: its own dist, built when stale.
for (const dir of new Set(specs.map((spec) => spec.split(":")[0]!))) {
  execFileSync(process.execPath, [join(dir, "scripts/server-build.mjs")], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
}

// Rounds rotate who goes first, so drift over the run hits every candidate alike.
const cpu: number[][] = specs.map(() => []);
const name = (i: number): string => String.fromCharCode(65 + i);
for (let round = 0; round < rounds; round++) {
  const line: string[] = [];
  for (let k = 0; k < specs.length; k++) {
    const i = (round + k) % specs.length;
    const s = await sample(specs[i]!);
    cpu[i]!.push(s.cpu);
    line[i] = `${name(i)} ${fmt(s.cpu, 1)} µs/req (system ${fmt(s.sys, 1)}) ${fmt(s.rps)} req/s`;
  }
  console.log(`round ${round + 1}: ${line.join("  ")}`);
}
const base = median(cpu[0]!);
specs.forEach((spec, i) => {
  const m = median(cpu[i]!);
  console.log(`${name(i)} ${fmt(m, 1)} µs/req  x${(m / base).toFixed(2)} of A  (${spec})`);
});
