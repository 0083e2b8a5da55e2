/**
 * What a sweep costs in GitHub API requests: the first sweep of N repositories (full listing),
 * then an idle sweep (nothing finished since), against the stand-in GitHub over HTTP.
 */
import { configFromEnv, createReconciler, createRerunner, MemoryStore, silentLogger, sweepConfigFromEnv } from "@job-rerunner/core";
import { startFakeGitHub } from "@job-rerunner/testing";

export interface SweepFigures {
  readonly repositories: number;
  readonly runsPerRepository: number;
  readonly firstRequests: number;
  readonly idleRequests: number;
  readonly idleNotModified: number;
}

export async function benchSweep(repositories: number, runsPerRepository: number): Promise<SweepFigures> {
  const gh = await startFakeGitHub();
  try {
    const names = Array.from({ length: repositories }, (_, i) => `bench-org/repo-${i}`);
    let id = 1;
    for (const name of names) {
      gh.addRuns(
        name,
        Array.from({ length: runsPerRepository }, (_, i) => ({
          id: id++,
          createdAt: new Date(Date.now() - 50 * 60_000 + i * 1000).toISOString(),
          updatedAt: new Date(Date.now() - 60_000).toISOString(),
          conclusion: "success",
        })),
      );
    }
    const config = configFromEnv({ GITHUB_SIGN_KEY: "bench", GITHUB_TOKEN: "bench", GITHUB_API_URL: gh.url });
    const store = new MemoryStore();
    const rerunner = createRerunner({ config, store, logger: silentLogger });
    const reconciler = createReconciler({ rerunner, store, sweep: sweepConfigFromEnv({ SWEEP_REPOS: names.join(",") }), logger: silentLogger });
    const first = await reconciler.sweep();
    const idle = await reconciler.sweep();
    return {
      repositories,
      runsPerRepository,
      firstRequests: first?.requests ?? 0,
      idleRequests: idle?.requests ?? 0,
      idleNotModified: idle?.notModified ?? 0,
    };
  } finally {
    await gh.close();
  }
}

export function printSweep(figures: readonly SweepFigures[]): string[] {
  return [
    "sweep: GitHub API requests per sweep (list endpoint, 100 runs a page)",
    ...figures.map(
      (f) =>
        `  ${String(f.repositories).padStart(3)} repositories x ${String(f.runsPerRepository).padStart(3)} completed runs: first sweep ${f.firstRequests} requests; idle sweep ${f.idleRequests} requests, ${f.idleNotModified} answered 304 (free of rate limit)`,
    ),
  ];
}
