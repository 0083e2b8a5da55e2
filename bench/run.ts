/**
 * `npm run bench`: every figure next to a reference measured in the same run (absolute numbers on
 * a shared machine are noise; the ratios are the result). Prints only; nothing is asserted.
 * Starts and stops every server itself (child processes on 127.0.0.1, port 0); about 4 minutes.
 */
import { cpus } from "node:os";
import { buildServer } from "./built-server.js";
import { benchBurst, burstMet, printBurst, type BurstFigures } from "./burst.bench.js";
import { benchDecide, printDecide, type DecideFigures } from "./decide.bench.js";
import { benchDeliveryLog, printDeliveryLog } from "./delivery-log.bench.js";
import { distinctRunDeliveries } from "./deliveries.js";
import { benchHttp, printHttp, type HttpFigures, type HttpOptions } from "./http.bench.js";
import { ratio } from "./measure.js";
import { benchCalls, benchClassify, printCalls, printClassify } from "./policy.bench.js";
import { benchSignature, printSignature, type SignatureFigures } from "./signature.bench.js";
import { benchRss, benchStore, printRss, printStore } from "./store.bench.js";
import { benchSweep, printSweep } from "./sweep.bench.js";

const SECRET = "bench-webhook-secret-0123456789";
const started = performance.now();
const out = (lines: string[]): void => console.log(lines.join("\n") + "\n");
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// The HTTP and burst benches run our server as `npm start` does, from its built dist.
buildServer();
console.log(`job-rerunner bench: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), ${new Date().toISOString()}\n`);

out(printSweep([await benchSweep(1, 50), await benchSweep(10, 50), await benchSweep(10, 250)]));
out(printDeliveryLog(await benchDeliveryLog(10_000, 1_000, 100)));

const decide = benchDecide(1000);
out(printDecide(decide));

const signature = benchSignature(1500);
out(printSignature(signature));

out(printClassify(benchClassify(2000)));
out(printCalls(await benchCalls()));

const store = await benchStore(SECRET, 3, [
  { runs: 60, jobs: 16 },
  { runs: 3, jobs: 256 },
]);
out(printStore(store));

out(printRss(benchRss(SECRET, 10_000)));

const bursts = await benchBurst(SECRET, 3);
out(printBurst(bursts));

// Enough distinct runs that our server (a fresh child, empty store, per measurement) never sees
// one twice; the stateless floor and octokit go faster and may wrap, which changes nothing for them.
const http: HttpOptions = {
  secret: SECRET,
  deliveries: distinctRunDeliveries(SECRET, 100_000),
  warmupSeconds: 1.5,
  seconds: 4,
  connections: 10,
  rounds: 3,
};
const web = await benchHttp(http);
out(printHttp(web, http));

out(goals(decide, signature, web, bursts));
console.log(`done in ${elapsed()}`);

function goals(d: DecideFigures[], s: SignatureFigures[], h: HttpFigures[], b: BurstFigures[]): string[] {
  const mark = (ok: boolean): string => (ok ? "met   " : "MISSED");
  const by = (k: string): HttpFigures => h.find((f) => f.kind === k)!;
  const ours = by("ours").requestsPerSecond;
  const sixteen = d.find((f) => f.jobs === 16)!;
  const one = d[0]!;
  const big = d.find((f) => f.jobs === 256)!;
  const worstSig = Math.min(...s.map((f) => f.ratio));
  return [
    "goals (printed, not asserted)",
    `  ${mark(ours >= 0.9 * by("floor").requestsPerSecond)} server throughput >= 0.90 of the Express floor: x${ratio(ours, by("floor").requestsPerSecond)}`,
    `  ${mark(ours >= by("octokit").requestsPerSecond)} server throughput >= @octokit/webhooks: x${ratio(ours, by("octokit").requestsPerSecond)} (server CPU per request x${ratio(by("ours").cpuMicrosPerRequest, by("octokit").cpuMicrosPerRequest)}; ` +
      `the required work alone on the node:http floor, no engine around it: x${ratio(by("floor-recorded").cpuMicrosPerRequest, by("octokit").cpuMicrosPerRequest)})`,
    `  ${mark(worstSig >= 0.95)} verifySignature >= 0.95 of bare HMAC: worst size x${worstSig.toFixed(2)} (${s.map((f) => `${f.size} x${f.ratio.toFixed(2)}`).join(", ")})`,
    `  ${mark(sixteen.eventsPerSecond >= 200_000)} decide >= 200,000 events/s on 16-job runs: ${Math.round(sixteen.eventsPerSecond).toLocaleString("en-US")}`,
    `  ${mark(big.microsPerEvent / one.microsPerEvent <= 256)} decide cost per event grows at most linearly: x${ratio(big.microsPerEvent, one.microsPerEvent)} per event for x256 jobs`,
    ...b.map((f) => `  ${mark(burstMet(f))} 256-job burst, ${f.setup.label}: p99 < 1 s, no 5xx, one rerun${f.skipped === undefined ? "" : " (skipped)"}`),
  ];
}
