/**
 * What recovering lost deliveries costs an organization of 10,000 repositories, in GitHub API
 * requests, against the stand-in GitHub over HTTP: the App's delivery log (one log for every
 * installation and repository) next to the per-repository run listing of SWEEP_REPOS.
 *
 * The delivery-log pass runs with its real pacing (a second between redeliveries) on a virtual
 * clock, so 100 redeliveries take no 100 s here; each request is stamped with that clock, which is
 * what the peak per minute is counted from. The listing is the real sweep of 10,000 repositories.
 */
import { configFromEnv, createReconciler, createRerunner, MemoryStore, silentLogger, sweepConfigFromEnv, type DeliveryLog } from "@job-rerunner/core";
import { generateAppKeys, startFakeGitHub, workflowJobPayload, workflowRunPayload } from "@job-rerunner/testing";
import { createDeliveryRecovery } from "../packages/core/src/engine/reconcile/delivery-recovery.js";
import { createDeliveryLog } from "../packages/core/src/github/app/delivery-log.js";
import { createGitHubApp } from "../packages/core/src/github/app/github-app.js";
import { fmt } from "./measure.js";

export interface DeliveryLogFigures {
  readonly repositories: number;
  readonly deliveriesPerInterval: number;
  readonly log: { readonly idleRequests: number; readonly lostPass: { readonly requests: number; readonly pages: number; readonly redelivered: number; readonly peakPerMinute: number; readonly peakPointsPerMinute: number; readonly minutes: number } };
  readonly listing: { readonly firstRequests: number; readonly idleRequests: number; readonly idleNotModified: number; readonly perMinuteAt300s: number };
}

const INTERVAL_S = 300;
/** GitHub's secondary limit counts a GET as 1 point and a mutating request as 5. */
const POST_POINTS = 5;

/** Requests stamped with the virtual clock, to count the busiest minute. */
function stamped(log: DeliveryLog, clock: () => number, at: { time: number; points: number }[]): DeliveryLog {
  return {
    listPage: (cursor, perPage, signal) => (at.push({ time: clock(), points: 1 }), log.listPage(cursor, perPage, signal)),
    redeliver: (id, signal) => (at.push({ time: clock(), points: POST_POINTS }), log.redeliver(id, signal)),
  };
}

function busiestMinute(at: readonly { time: number; points: number }[]): { requests: number; points: number } {
  let best = { requests: 0, points: 0 };
  for (let i = 0, j = 0, points = 0; j < at.length; j++) {
    points += at[j]!.points;
    while (at[j]!.time - at[i]!.time >= 60_000) points -= at[i++]!.points;
    best = { requests: Math.max(best.requests, j - i + 1), points: Math.max(best.points, points) };
  }
  return best;
}

export async function benchDeliveryLog(repositories: number, deliveriesPerInterval: number, lost: number): Promise<DeliveryLogFigures> {
  const keys = generateAppKeys();
  const gh = await startFakeGitHub({ app: { id: 4040, publicKey: keys.publicKey } });
  try {
    const hooks = gh.hooks!;
    // No server behind the webhook: a redelivery gets no answer, and is logged so.
    hooks.target(null, "bench");
    let virtual = Date.now();
    const clock = (): number => virtual;
    const sleep = async (ms: number): Promise<void> => void (virtual += ms);
    const repo = (i: number) => ({ owner: "bench-org", repo: `repo-${i % repositories}`, repoId: 1_000_000 + (i % repositories), installationId: 1 });
    let run = 1;
    // One interval of the organization's traffic: job and run deliveries, all answered.
    const traffic = (count: number, at: number): void => {
      for (let i = 0; i < count; i++, run++) {
        const job = i % 4 !== 3;
        hooks.record({
          event: job ? "workflow_job" : "workflow_run",
          payload: job ? workflowJobPayload({ ...repo(run), runId: run, jobId: run, action: "completed", conclusion: "success" }) : workflowRunPayload({ ...repo(run), runId: run, action: "completed", conclusion: "success" }),
          statusCode: 202,
          deliveredAt: at - (count - i) * 100,
        });
      }
    };
    traffic(deliveriesPerInterval, virtual - 10 * 60_000);
    const app = createGitHubApp({ app: { appId: "4040", privateKey: keys.privateKey }, baseUrl: gh.url });
    const requests: { time: number; points: number }[] = [];
    const log = stamped(createDeliveryLog({ jwt: () => app.jwt(), baseUrl: gh.url, clock }), clock, requests);
    const recovery = createDeliveryRecovery({ log, store: new MemoryStore(), logger: silentLogger, lookbackMs: 3_600_000, dryRun: false, clock, sleep });
    await recovery.recover();
    virtual += INTERVAL_S * 1000;
    const idle = await recovery.recover();

    // The next interval: the same traffic, and `lost` failure deliveries that never got an answer.
    virtual += INTERVAL_S * 1000;
    traffic(deliveriesPerInterval - lost, virtual - 60_000);
    for (let i = 0; i < lost; i++, run++) {
      hooks.record({ event: "workflow_run", payload: workflowRunPayload({ ...repo(run), runId: run, action: "completed", conclusion: "failure" }), statusCode: i % 2 === 0 ? 0 : 502, deliveredAt: virtual - 90_000 });
    }
    requests.length = 0;
    const started = virtual;
    const withLost = await recovery.recover();
    const peak = busiestMinute(requests);
    await hooks.settled();

    return {
      repositories,
      deliveriesPerInterval,
      log: {
        idleRequests: idle.requests,
        lostPass: {
          requests: withLost.requests,
          pages: withLost.pages,
          redelivered: withLost.redelivered,
          peakPerMinute: peak.requests,
          peakPointsPerMinute: peak.points,
          minutes: (virtual - started) / 60_000,
        },
      },
      listing: await benchListing(repositories),
    };
  } finally {
    await gh.close();
  }
}

/** The per-repository sweep of the same organization (token mode): every repository listed once per pass. */
async function benchListing(repositories: number): Promise<DeliveryLogFigures["listing"]> {
  const gh = await startFakeGitHub();
  try {
    const names = Array.from({ length: repositories }, (_, i) => `bench-org/repo-${i}`);
    for (const name of names) gh.addRuns(name, []);
    const config = configFromEnv({ GITHUB_SIGN_KEY: "bench", GITHUB_TOKEN: "bench", GITHUB_API_URL: gh.url });
    const store = new MemoryStore();
    const rerunner = createRerunner({ config, store, logger: silentLogger, reconciledElsewhere: true });
    const reconciler = createReconciler({ rerunner, store, sweep: sweepConfigFromEnv({ SWEEP_REPOS: names.join(",") }), logger: silentLogger });
    const first = await reconciler.sweep();
    const idle = await reconciler.sweep();
    const idleRequests = idle?.requests ?? 0;
    return { firstRequests: first?.requests ?? 0, idleRequests, idleNotModified: idle?.notModified ?? 0, perMinuteAt300s: idleRequests / (INTERVAL_S / 60) };
  } finally {
    await gh.close();
  }
}

export function printDeliveryLog(f: DeliveryLogFigures): string[] {
  const l = f.log.lostPass;
  return [
    `lost-delivery recovery for an organization of ${fmt(f.repositories)} repositories (stand-in GitHub over HTTP; ${fmt(f.deliveriesPerInterval)} deliveries per ${INTERVAL_S} s interval)`,
    `  App delivery log (SWEEP_DELIVERIES): idle pass ${f.log.idleRequests} request(s); pass with ${l.redelivered} lost deliveries ${fmt(l.requests)} requests (${l.pages} log pages + ${l.redelivered} redeliveries, paced 1 s: ${l.minutes.toFixed(1)} min)`,
    `    busiest minute: ${l.peakPerMinute} requests, ${l.peakPointsPerMinute} secondary-limit points (a POST costs ${POST_POINTS}; GitHub allows about 900 per minute per endpoint)`,
    `  per-repository listing (SWEEP_REPOS): first sweep ${fmt(f.listing.firstRequests)} requests, idle sweep ${fmt(f.listing.idleRequests)} requests (${fmt(f.listing.idleNotModified)} answered 304)`,
    `    every ${INTERVAL_S} s: ${fmt(f.listing.perMinuteAt300s)} list requests per minute on one endpoint (GitHub allows about 900 points per minute)`,
    `  idle pass: delivery log / listing = ${f.log.idleRequests} / ${fmt(f.listing.idleRequests)} requests (x${(f.listing.idleRequests / Math.max(1, f.log.idleRequests)).toFixed(0)} fewer)`,
  ];
}
