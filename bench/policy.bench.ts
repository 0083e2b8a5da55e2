import { classifyJob, compilePolicy, configFromEnv, createRerunner, MemoryStore, type JobClass, type JobFacts } from "@job-rerunner/core";
import { previousClassifyJob } from "./previous-classifier.js";
import { signedDelivery, startFakeGitHub, workflowJobPayload, workflowRunPayload } from "@job-rerunner/testing";
import { fmt, median, opsPerSecond } from "./measure.js";

/** 20 user patterns of the kind teams write (10 that mark transient, 10 that veto), none matching the log below. */
const USER_RERUN = ["Flaky test detected", "ERR_SOCKET_TIMEOUT", "/selenium.*session deleted/i", "Chrome crashed", "Killed: 9", "Gradle daemon disappeared", "lock file .* is locked", "\\bOOMKilled\\b", "rate limit exceeded", "HTTP 50[0-9] from cache"];
const USER_VETO = ["AssertionError", "FAILED tests/", "error TS\\d+:", "SyntaxError:", "panic: ", "Segmentation fault", "npm ERR! Test failed", "Tests:\\s+\\d+ failed", "\\[FAIL\\]", "ERROR: Coverage"];

/** 64 KiB of a runner log of a genuine failure (no pattern matches: every line is tried by every pattern). */
function logTail(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `2024-05-01T12:00:${String(i % 60).padStart(2, "0")}.1234567Z   ✓ renders component ${i} with props { id: ${i}, label: "item-${i}" } (${i % 97} ms)`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join("\n").slice(-bytes);
}

function jsRegExp(source: string): RegExp {
  const literal = /^\/(.+)\/([a-z]*)$/s.exec(source);
  return literal === null ? new RegExp(source) : new RegExp(literal[1]!, literal[2]);
}

export interface ClassifyFigures {
  readonly label: string;
  readonly perSecond: number;
  readonly mbPerSecond: number;
}

export function benchClassify(ms: number, rounds = 5): ClassifyFigures[] {
  const log = logTail(65_536);
  const facts = (value: string): JobFacts => ({
    id: 1,
    name: "test",
    status: "completed",
    conclusion: "failure",
    steps: [{ name: "Run tests", conclusion: "failure" }],
    annotations: { state: "read", value: ["Process completed with exit code 1."] },
    log: { state: "read", value },
  });
  // As the runner writes a failed step: its output, then "Process completed" (the decisive search reads its last lines).
  const ended = facts(`${log}\n2024-05-01T12:01:00.1234567Z ##[error]Process completed with exit code 1.\n`);
  // No step end found (a cut or foreign log): the whole tail is searched from its end.
  const open = facts(log);
  const builtIn = compilePolicy({ when: "transient" });
  const withUser = compilePolicy({ when: "transient", rerunPatterns: USER_RERUN, noRerunPatterns: USER_VETO });
  const cases: [string, JobFacts, (f: JobFacts) => JobClass][] = [
    ["previous classifier (a8fd955), table", open, (f) => previousClassifyJob(f, builtIn)],
    ["built-in table, no step end", open, (f) => classifyJob(f, builtIn)],
    ["built-in table, step ended", ended, (f) => classifyJob(f, builtIn)],
    ["built-in table + 20 user patterns", open, (f) => classifyJob(f, withUser)],
    // The same patterns run by JavaScript's backtracking RegExp, as before RE2: the price of linear time.
    ["  same, user patterns as JS RegExp", open, (f) => classifyJob(f, { ...withUser, rerunPatterns: USER_RERUN.map(jsRegExp), noRerunPatterns: USER_VETO.map(jsRegExp) })],
  ];
  return cases.map(([label, f, classify]) => {
    if (classify(f).class !== "not-transient") throw new Error("the bench log must match nothing");
    const samples: number[] = [];
    for (let r = 0; r < rounds; r++) samples.push(opsPerSecond(() => (classify(f).class.length > 0 ? 1 : 0), ms / rounds));
    const perSecond = median(samples);
    return { label, perSecond, mbPerSecond: (perSecond * log.length) / 1e6 };
  });
}

export function printClassify(figures: readonly ClassifyFigures[]): string[] {
  const by = (label: string) => figures.find((f) => f.label.startsWith(label));
  const previous = by("previous classifier");
  const open = by("built-in table, no step end");
  const ended = by("built-in table, step ended");
  const user = by("built-in table + 20 user patterns");
  const js = by("  same, user patterns as JS RegExp");
  return [
    "classifyJob on a 64 KiB log tail of a genuine failure (no signature anywhere: the most work)",
    ...figures.map((f) => `  ${f.label.padEnd(40)} ${fmt(f.perSecond).padStart(8)} jobs/s  ${fmt(f.mbPerSecond, 1).padStart(7)} MB/s  ${fmt(1e6 / f.perSecond).padStart(6)} µs/job`),
    ...(previous && open && ended
      ? [
          `  time per job, now / previous classifier: x${fmt(previous.perSecond / open.perSecond, 2)} with no step end, x${fmt(previous.perSecond / ended.perSecond, 2)} with the step ended`,
        ]
      : []),
    ...(user && js ? [`  user patterns by RE2 / by JS RegExp: time per job x${fmt(js.perSecond / user.perSecond, 2)}`] : []),
  ];
}

interface CallFigures {
  readonly policy: string;
  readonly scenario: string;
  readonly status: number;
  readonly annotations: number;
  readonly logs: number;
  readonly downloads: number;
  readonly listings: number;
  readonly reruns: number;
}

/**
 * GitHub calls for one attempt with one failed job of two (and one whose job webhooks were lost),
 * under each policy, counted by the stand-in GitHub.
 */
export async function benchCalls(): Promise<CallFigures[]> {
  const gh = await startFakeGitHub();
  const secret = "bench-policy-secret";
  const figures: CallFigures[] = [];
  const policies: [string, Record<string, string>][] = [
    ["failure (default)", {}],
    ["failure + NO_RERUN_STEPS", { NO_RERUN_STEPS: "Run tests" }],
    ["failure + NO_RERUN_PATTERNS", { NO_RERUN_PATTERNS: '["AssertionError"]' }],
    ["transient", { RERUN_WHEN: "transient" }],
  ];
  let runId = 500_000;
  try {
    for (const [label, env] of policies) {
      for (const scenario of ["job webhooks", "log not ready at first", "webhooks lost"] as const) {
        const config = configFromEnv({ GITHUB_SIGN_KEY: secret, GITHUB_TOKEN: "t", GITHUB_API_URL: gh.url, ...env });
        const rerunner = createRerunner({ config, store: new MemoryStore(), logger: () => {} });
        gh.calls.length = 0;
        gh.logCalls.length = 0;
        runId++;
        const failed = runId * 10;
        const ok = failed + 1;
        const log = "2024-05-01T12:00:00.0000000Z npm ERR! code ECONNRESET\n";
        if (scenario === "log not ready at first") gh.log(failed, log, "not-ready", "ok");
        else gh.log(failed, log, "ok");
        gh.attemptJobs(runId, 1, [
          { id: failed, name: "install", status: "completed", conclusion: "failure", steps: [{ name: "Run npm ci", conclusion: "failure" }] },
          { id: ok, name: "lint", status: "completed", conclusion: "success" },
        ]);
        const job = (id: number, action: "queued" | "completed", conclusion?: string) =>
          signedDelivery(secret, "workflow_job", workflowJobPayload({ runId, jobId: id, action, conclusion: conclusion ?? null, steps: [{ name: "Run npm ci", conclusion: conclusion === "failure" ? "failure" : "success" }] }));
        let status = 0;
        if (scenario !== "webhooks lost") {
          await rerunner.handle(job(failed, "queued"));
          await rerunner.handle(job(ok, "queued"));
          await rerunner.handle(job(failed, "completed", "failure"));
          status = (await rerunner.handle(job(ok, "completed", "success"))).status;
        }
        const end = await rerunner.handle(signedDelivery(secret, "workflow_run", workflowRunPayload({ runId, action: "completed", conclusion: "failure" })));
        if (scenario === "webhooks lost") status = end.status;
        const count = (re: RegExp) => gh.calls.filter((c) => re.test(c.path)).length;
        figures.push({
          policy: label,
          scenario,
          status,
          annotations: count(/\/annotations$/),
          logs: count(/\/actions\/jobs\/\d+\/logs$/),
          downloads: gh.logCalls.length,
          listings: count(/\/attempts\/\d+\/jobs$/),
          reruns: gh.rerunCalls(runId),
        });
      }
    }
  } finally {
    await gh.close();
  }
  return figures;
}

export function printCalls(figures: readonly CallFigures[]): string[] {
  return [
    "GitHub calls per failed attempt (1 failed job of 2; the last column is the decisive answer)",
    `  ${"policy".padEnd(28)} ${"scenario".padEnd(24)} annot  logs  downl  list  rerun  status`,
    ...figures.map(
      (f) =>
        `  ${f.policy.padEnd(28)} ${f.scenario.padEnd(24)} ${String(f.annotations).padStart(5)} ${String(f.logs).padStart(5)} ${String(f.downloads).padStart(6)} ${String(f.listings).padStart(5)} ${String(f.reruns).padStart(6)} ${String(f.status).padStart(7)}`,
    ),
  ];
}
