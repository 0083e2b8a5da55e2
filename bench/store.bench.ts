import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configFromEnv, createRerunner, MemoryStore, silentLogger, type Store } from "@job-rerunner/core";
import { PostgresStore, SqliteStore } from "@job-rerunner/adapter-express";
import pg from "pg";
import { wholeRunDeliveries, type BenchDelivery } from "./deliveries.js";
import { fmt, median, ratio } from "./measure.js";

export interface StoreFigures {
  readonly deliveries: number;
  readonly jobsPerRun: number;
  readonly memory: number;
  readonly sqlite: number;
  /** null when no PostgreSQL answered (the reason is in `postgresSkipped`). */
  readonly postgres: number | null;
  readonly memoryRounds: number[];
  readonly sqliteRounds: number[];
  readonly postgresRounds: number[];
  readonly postgresSkipped?: string;
}

/** The PostgreSQL the bench writes to (a schema of its own per round, dropped after). */
const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A PostgresStore in a fresh schema, and how to drop it; or why there is none. */
async function postgresStore(label: string): Promise<{ store: PostgresStore; drop: () => Promise<void> } | string> {
  const schema = `jr_bench_${process.pid}_${label}`;
  const url = new URL(BENCH_DATABASE_URL);
  url.searchParams.set("schema", schema);
  try {
    const store = await PostgresStore.open(url.toString(), { sweepIntervalMs: 0 });
    const drop = async (): Promise<void> => {
      const admin = new pg.Client({ connectionString: BENCH_DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    };
    return { store, drop };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function deliveriesPerSecond(store: Store, secret: string, deliveries: readonly BenchDelivery[]): Promise<number> {
  const config = configFromEnv({ GITHUB_SIGN_KEY: secret, DRY_RUN: "true" });
  const rerunner = createRerunner({ config, store, logger: silentLogger });
  const start = performance.now();
  for (const d of deliveries) {
    const { status } = await rerunner.handle({ headers: d.headers, rawBody: d.body });
    if (status >= 300 && status !== 404) throw new Error(`unexpected ${status} from the engine`);
  }
  const seconds = (performance.now() - start) / 1000;
  await store.close?.();
  return deliveries.length / seconds;
}

/**
 * engine.handle called directly (no HTTP) over every delivery of whole runs (queued, in progress,
 * completed; one failure per run, so a DRY_RUN rerun is decided and recorded), with a MemoryStore
 * with a SqliteStore on a temporary file (WAL, synchronous=NORMAL, as the server uses it), and with
 * a PostgresStore on BENCH_DATABASE_URL (default the local test server; skipped if none answers).
 */
export async function benchStore(secret: string, rounds: number, shapes: readonly { runs: number; jobs: number }[]): Promise<StoreFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), "job-rerunner-bench-"));
  const figures: StoreFigures[] = [];
  try {
    for (const { runs, jobs } of shapes) {
      const deliveries = wholeRunDeliveries(secret, runs, jobs);
      // Warm-up: JIT and SQLite page cache, not counted.
      await deliveriesPerSecond(new MemoryStore(), secret, deliveries);
      await deliveriesPerSecond(new SqliteStore(join(dir, `warm-${jobs}.sqlite`), { sweepIntervalMs: 0 }), secret, deliveries);
      let postgresSkipped: string | undefined;
      const warm = await postgresStore(`warm_${jobs}`);
      if (typeof warm === "string") postgresSkipped = warm;
      else await deliveriesPerSecond(warm.store, secret, deliveries).finally(warm.drop);
      const memoryRounds: number[] = [];
      const sqliteRounds: number[] = [];
      const postgresRounds: number[] = [];
      for (let round = 0; round < rounds; round++) {
        memoryRounds.push(await deliveriesPerSecond(new MemoryStore(), secret, deliveries));
        sqliteRounds.push(await deliveriesPerSecond(new SqliteStore(join(dir, `${jobs}-${round}.sqlite`), { sweepIntervalMs: 0 }), secret, deliveries));
        if (postgresSkipped === undefined) {
          const opened = await postgresStore(`${jobs}_${round}`);
          if (typeof opened === "string") postgresSkipped = opened;
          else postgresRounds.push(await deliveriesPerSecond(opened.store, secret, deliveries).finally(opened.drop));
        }
      }
      figures.push({
        deliveries: deliveries.length,
        jobsPerRun: jobs,
        memory: median(memoryRounds),
        sqlite: median(sqliteRounds),
        postgres: postgresSkipped === undefined ? median(postgresRounds) : null,
        memoryRounds,
        sqliteRounds,
        postgresRounds,
        ...(postgresSkipped === undefined ? {} : { postgresSkipped }),
      });
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printStore(figures: readonly StoreFigures[]): string[] {
  const lines = [
    `store cost per delivery: engine.handle directly (no HTTP), every delivery of whole runs, DRY_RUN, median of ${figures[0]?.memoryRounds.length ?? 0} interleaved rounds`,
  ];
  const first = figures[0]!;
  for (const f of figures) {
    const us = (perSecond: number): string => `${fmt(perSecond).padStart(7)} deliveries/s ${fmt(1e6 / perSecond, 1).padStart(6)} µs/delivery`;
    lines.push(
      `  ${String(f.jobsPerRun).padStart(3)}-job runs (${fmt(f.deliveries)} deliveries):`,
      `    MemoryStore: ${us(f.memory)}   [rounds: ${f.memoryRounds.map((x) => fmt(x)).join(", ")}]`,
      `    SqliteStore: ${us(f.sqlite)}   [rounds: ${f.sqliteRounds.map((x) => fmt(x)).join(", ")}]`,
      `    sqlite/memory: throughput x${ratio(f.sqlite, f.memory)}, cost per delivery x${ratio(f.memory, f.sqlite)} (+${fmt(1e6 / f.sqlite - 1e6 / f.memory, 1)} µs)`,
    );
    if (f.postgres === null) {
      lines.push(`    PostgresStore: skipped (${f.postgresSkipped ?? "no PostgreSQL"})`);
    } else {
      lines.push(
        `    PostgresStore: ${us(f.postgres)}   [rounds: ${f.postgresRounds.map((x) => fmt(x)).join(", ")}] (${BENCH_DATABASE_URL.replace(/\/\/([^/@:]*):.*@/, "//$1:***@")}, one connection's round trips per delivery)`,
        `    postgres/memory: cost per delivery x${ratio(f.memory, f.postgres)} (+${fmt(1e6 / f.postgres - 1e6 / f.memory, 1)} µs); postgres/sqlite: x${ratio(f.sqlite, f.postgres)}`,
      );
    }
    if (f !== first) {
      lines.push(`    cost per delivery x${ratio(first.memory, f.memory)} (memory) / x${ratio(first.sqlite, f.sqlite)} (sqlite) of a ${first.jobsPerRun}-job run, for x${f.jobsPerRun / first.jobsPerRun} jobs`);
    }
  }
  return lines;
}

export interface RssFigures {
  readonly runs: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly recordJsonBytes: number;
  readonly gc: boolean;
}

/** Memory after tracking N runs, measured in a fresh child process (run with --expose-gc). */
export function benchRss(secret: string, runs: number): RssFigures {
  const child = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", fileURLToPath(new URL("./rss.ts", import.meta.url)), String(runs)], {
    env: { ...process.env, BENCH_SECRET: secret },
    encoding: "utf8",
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`rss child failed (${child.status}): ${child.stderr}`);
  const line = child.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as RssFigures;
}

export function printRss(f: RssFigures): string[] {
  const mb = (n: number): string => fmt(n / 2 ** 20, 1);
  const rssPerRun = (f.rssAfter - f.rssBefore) / f.runs;
  const heapPerRun = (f.heapAfter - f.heapBefore) / f.runs;
  return [
    `memory after tracking ${fmt(f.runs)} runs (MemoryStore, engine.handle over one queued delivery per run, fresh child process${f.gc ? ", gc() before each reading" : ", NO gc: run with --expose-gc"})`,
    `  RSS  ${mb(f.rssBefore)} MB -> ${mb(f.rssAfter)} MB: ${fmt(rssPerRun)} bytes per run`,
    `  heap ${mb(f.heapBefore)} MB -> ${mb(f.heapAfter)} MB: ${fmt(heapPerRun)} bytes per run; the record as JSON (what SQLite keeps) is ${fmt(f.recordJsonBytes)} bytes: heap/JSON x${ratio(heapPerRun, f.recordJsonBytes)}`,
  ];
}
