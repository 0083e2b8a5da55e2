/** Child of bench/store.bench.ts: RSS and heap before and after tracking N runs in a MemoryStore. */
import { configFromEnv, createRerunner, MemoryStore, recordKey, silentLogger } from "@job-rerunner/core";
import { distinctRunDeliveries, type BenchDelivery } from "./deliveries.js";
import type { RssFigures } from "./store.bench.js";

const runs = Number(process.argv[2] ?? "10000");
const secret = process.env.BENCH_SECRET ?? "bench";
const config = configFromEnv({ GITHUB_SIGN_KEY: secret, DRY_RUN: "true" });
const gc = (globalThis as { gc?: () => void }).gc;

async function track(store: MemoryStore, deliveries: readonly BenchDelivery[]): Promise<void> {
  const rerunner = createRerunner({ config, store, logger: silentLogger });
  for (const d of deliveries) {
    const { status } = await rerunner.handle({ headers: d.headers, rawBody: d.body });
    if (status !== 202) throw new Error(`unexpected ${status}`);
  }
}

function settle(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

// Warm-up on a store that is then dropped: JIT code and lazily built module state are not per-run cost.
await track(new MemoryStore(), distinctRunDeliveries(secret, 2000, 9_000_000));
// The deliveries exist (and take their ~70 MB) in both readings, so the difference is what the store keeps.
const deliveries = distinctRunDeliveries(secret, runs, 1_000_000);
const before = settle();
const store = new MemoryStore();
await track(store, deliveries);
const after = settle();
if (deliveries.length !== runs) throw new Error("deliveries went missing");
const sample = await store.get(recordKey(186853002, 1_000_000));
if (store.size !== runs || sample === undefined) throw new Error(`expected ${runs} records, got ${store.size}`);
const figures: RssFigures = {
  runs,
  rssBefore: before.rss,
  rssAfter: after.rss,
  heapBefore: before.heap,
  heapAfter: after.heap,
  recordJsonBytes: Buffer.byteLength(JSON.stringify(sample.record)),
  gc: gc !== undefined,
};
console.log(JSON.stringify(figures));
