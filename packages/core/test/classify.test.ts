import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { classifyJob, compilePolicy, configFromEnv, ConfigError, SIGNATURES, type JobFacts, type RawPolicy, type RerunPolicy, type StepFact } from "@job-rerunner/core";
import { checkPatternSafety, compileSafePattern } from "../src/domain/policy/safe-pattern.js";
import { judgeAttempt } from "../src/domain/policy/verdict.js";
import { MAX_EVIDENCE_CHARS } from "../src/domain/policy/classify.js";

const TRANSIENT = compilePolicy({ when: "transient" });

function facts(over: { steps?: StepFact[]; annotations?: string[] | "unknown" | "skipped"; log?: string | "unknown" } = {}): JobFacts {
  const annotations = over.annotations ?? [];
  return {
    id: 1,
    name: "build (ubuntu)",
    status: "completed",
    conclusion: "failure",
    steps: over.steps ?? [
      { name: "Set up job", conclusion: "success" },
      { name: "Run npm ci", conclusion: "failure" },
    ],
    annotations:
      annotations === "unknown"
        ? { state: "unknown", why: "GitHub answered 500" }
        : annotations === "skipped"
          ? { state: "skipped" }
          : { state: "read", value: annotations },
    log: over.log === "unknown" ? { state: "unknown", why: "404: log not ready" } : { state: "read", value: over.log ?? "" },
  };
}

/** A log line as the runner writes it: ISO timestamp with 7 fractional digits, then the text. */
function logLine(text: string): string {
  return `2024-05-01T12:00:00.1234567Z ${text}`;
}

function logOf(...lines: string[]): string {
  return [logLine("##[group]Run npm ci"), logLine("npm ci"), ...lines.map(logLine), ""].join("\n");
}

describe("built-in transient classes on real messages", () => {
  // Each message as GitHub, the runner or the tool prints it (sources in signatures.ts and corpus/failures.jsonl).
  const cases: { id: string; where: "annotation" | "log" | "step"; message: string }[] = [
    {
      id: "runner-lost",
      where: "log",
      message: "##[error]The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled.",
    },
    {
      id: "runner-lost",
      where: "annotation",
      message:
        "The self-hosted runner: ip-10-0-1-5 lost communication with the server. Verify the machine is running and has a healthy network connection. Anything in your workflow that terminates the runner process, starves it for CPU/Memory, or blocks its network access can cause this error.",
    },
    { id: "runner-lost", where: "annotation", message: "The hosted runner encountered an error while running your job. (Error Type: Failure)." },
    { id: "not-picked-up", where: "annotation", message: "The job was not acquired by Runner of type hosted even after multiple attempts" },
    { id: "setup-job", where: "step", message: "Set up job" },
    { id: "network", where: "log", message: "npm ERR! code ECONNRESET" },
    { id: "network", where: "log", message: "npm ERR! network read ECONNRESET" },
    { id: "network", where: "log", message: "npm error network request to https://registry.npmjs.org/typescript failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org" },
    { id: "network", where: "log", message: "Error: getaddrinfo ENOTFOUND registry.yarnpkg.com" },
    { id: "network", where: "log", message: "npm ERR! errno ETIMEDOUT" },
    { id: "network", where: "log", message: "Error: connect ECONNREFUSED 140.82.112.4:443" },
    { id: "network", where: "log", message: "error: RPC failed; curl 56 GnuTLS recv error (-9): Error decoding the received TLS packet." },
    { id: "network", where: "log", message: "fatal: early EOF" },
    { id: "network", where: "log", message: "fatal: unable to access 'https://github.com/octo-org/octo-repo/': Could not resolve host: github.com" },
    { id: "network", where: "log", message: 'Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: TLS handshake timeout' },
    { id: "network", where: "log", message: "curl: (28) Failed to connect to github.com port 443 after 130951 ms: Connection timed out" },
    { id: "registry", where: "log", message: "npm ERR! code E503" },
    { id: "registry", where: "log", message: "npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/left-pad" },
    { id: "rate-limit", where: "log", message: "npm ERR! code E429" },
    { id: "rate-limit", where: "log", message: "npm ERR! 429 Too Many Requests - GET https://registry.npmjs.org/@types%2fnode" },
    { id: "rate-limit", where: "log", message: "ERROR: HTTP error 429 while getting https://files.pythonhosted.org/packages/numpy-1.26.4.tar.gz" },
    {
      id: "rate-limit",
      where: "log",
      message: "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
    },
    { id: "rate-limit", where: "log", message: "Error: API rate limit exceeded for 52.160.111.19. (But here's the good news: Authenticated requests get a higher rate limit.)" },
    { id: "rate-limit", where: "log", message: "Error: You have exceeded a secondary rate limit. Please wait a few minutes before you try again." },
    { id: "registry", where: "log", message: "E: Failed to fetch http://azure.archive.ubuntu.com/ubuntu/pool/main/z/zlib/lib32z1_1.2.11_amd64.deb  503  Service Unavailable [IP: 52.177.174.250 80]" },
    { id: "registry", where: "log", message: "<center><h1>522 Origin Connection Time-out</h1></center>" },
    { id: "truncated", where: "log", message: "gzip: stdin: unexpected end of file" },
    { id: "truncated", where: "log", message: "E: Failed to fetch https://packages.microsoft.com/ubuntu/16.04/prod/dists/xenial/main/binary-amd64/Packages.bz2  Hash Sum mismatch" },
    { id: "download", where: "log", message: "Error: Could not load manifest for Microsoft Build of OpenJDK" },
    { id: "registry", where: "log", message: "error pulling image configuration: received unexpected HTTP status: 502 Bad Gateway" },
    {
      id: "registry",
      where: "log",
      message:
        "[ERROR] Failed to execute goal: Could not transfer artifact org.apache:parent:pom:23 from/to central (https://repo.maven.apache.org/maven2): status code: 503, reason phrase: Service Unavailable (503)",
    },
    { id: "registry", where: "log", message: "   > Could not GET 'https://plugins.gradle.org/m2/x.pom'. Received status code 504 from server: Gateway Time-out" },
    {
      id: "disk-full",
      where: "log",
      message: "System.IO.IOException: No space left on device : '/home/runner/runners/2.316.0/_diag/Worker_20240501-120000-utc.log'",
    },
    { id: "disk-full", where: "annotation", message: "You are running out of disk space. The runner will stop working when the machine runs out of disk space. Free space left: 42 MB" },
    { id: "disk-full", where: "log", message: "Error: ENOSPC: no space left on device, write" },
  ];

  for (const c of cases) {
    it(`${c.id}: ${c.message.slice(0, 70)}`, () => {
      const f =
        c.where === "step"
          ? facts({ steps: [{ name: c.message, conclusion: "failure" }] })
          : c.where === "annotation"
            ? facts({ annotations: [c.message] })
            : facts({ log: logOf(c.message, "##[error]Process completed with exit code 1.") });
      const verdict = classifyJob(f, TRANSIENT);
      assert.equal(verdict.class, `transient:${c.id}`, verdict.evidence);
      if (c.where !== "step") assert.ok(c.message.trim().replace(/^##\[error\]/, "").startsWith(verdict.evidence.replace(/…$/, "")), verdict.evidence);
      assert.ok(verdict.evidence.length <= MAX_EVIDENCE_CHARS);
    });
  }

  it("every transient family has a test above, every family names public sources, and every built-in pattern passes the safety check", () => {
    for (const s of SIGNATURES) {
      if (s.verdict === "transient") assert.ok(cases.some((t) => t.id === s.id), `family ${s.id} has no real-message test`);
      assert.ok(s.sources.length > 0 && s.sources.every((u) => /^https:\/\//.test(u)), `${s.id} names its sources`);
      assert.ok(s.description.length > 0);
      for (const p of s.patterns) assert.equal(checkPatternSafety(p), null, `${s.id}: ${p.source}`);
    }
  });

  it("a genuine failure is not transient: the decisive line is the evidence, its family named", () => {
    const verdict = classifyJob(facts({ steps: [{ name: "Run tests", conclusion: "failure" }], log: logOf("AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:", "##[error]Process completed with exit code 1.") }), TRANSIENT);
    assert.deepEqual(verdict, { class: "not-transient", evidence: "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:", signature: "tests" });
    // A failure no family knows still says where it failed.
    const unknownShape = classifyJob(facts({ steps: [{ name: "Run tests", conclusion: "failure" }], log: logOf("something odd happened", "##[error]Process completed with exit code 1.") }), TRANSIENT);
    assert.equal(unknownShape.evidence, 'failed in step "Run tests", no transient signature in its annotations or log');
  });
});

describe("classifyJob: user patterns, steps, unknown facts", () => {
  it("NO_RERUN_PATTERNS wins over a built-in class and over RERUN_PATTERNS", () => {
    const policy = compilePolicy({ when: "transient", rerunPatterns: ["FAILED tests/"], noRerunPatterns: ["AssertionError"] });
    const log = logOf("npm ERR! code ECONNRESET", "FAILED tests/test_api.py::test_login", "AssertionError: expected 200, got 500");
    const verdict = classifyJob(facts({ log }), policy);
    assert.equal(verdict.class, "not-transient");
    assert.equal(verdict.vetoed, "NO_RERUN_PATTERNS");
    assert.equal(verdict.evidence, "AssertionError: expected 200, got 500");
    // Even a failure in "Set up job" is vetoed by a matching line.
    const setup = classifyJob(facts({ steps: [{ name: "Set up job", conclusion: "failure" }], log }), policy);
    assert.equal(setup.vetoed, "NO_RERUN_PATTERNS");
  });

  it("RERUN_PATTERNS mark a failure transient:pattern", () => {
    const policy = compilePolicy({ when: "transient", rerunPatterns: ["Flaky test detected", "/selenium.*session deleted/i"] });
    assert.deepEqual(classifyJob(facts({ log: logOf("SELENIUM error: Session deleted because of page crash") }), policy), {
      class: "transient:pattern",
      evidence: "SELENIUM error: Session deleted because of page crash",
    });
  });

  it("NO_RERUN_STEPS: a failure in a matching step is not transient, even with a transient line in the log", () => {
    const policy = compilePolicy({ when: "transient", noRerunSteps: ["Run tests", "Lint*"] });
    for (const step of ["Run tests", "Lint (eslint)", "lint"]) {
      const verdict = classifyJob(facts({ steps: [{ name: step, conclusion: "failure" }], log: logOf("npm ERR! code ECONNRESET") }), policy);
      assert.equal(verdict.class, "not-transient", step);
      assert.equal(verdict.vetoed, "NO_RERUN_STEPS");
      assert.equal(verdict.evidence, `step "${step}"`);
    }
    const other = classifyJob(facts({ steps: [{ name: "Install", conclusion: "failure" }], log: logOf("npm ERR! code ECONNRESET") }), policy);
    assert.equal(other.class, "transient:network");
  });

  it("a fact that could not be read makes the job unknown unless something decisive was read", () => {
    const unknown = classifyJob(facts({ annotations: "unknown", log: "unknown" }), TRANSIENT);
    assert.equal(unknown.class, "unknown");
    assert.match(unknown.evidence, /annotations could not be read \(GitHub answered 500\); log could not be read/);
    // A transient line in the annotations decides when no NO_RERUN pattern could be hiding in the log...
    const decided = classifyJob(facts({ annotations: ["The job was not acquired by Runner of type hosted even after multiple attempts"], log: "unknown" }), TRANSIENT);
    assert.equal(decided.class, "transient:not-picked-up");
    // ...but not when one could.
    const vetoable = compilePolicy({ when: "transient", noRerunPatterns: ["AssertionError"] });
    assert.equal(classifyJob(facts({ annotations: ["The job was not acquired by Runner of type hosted even after multiple attempts"], log: "unknown" }), vetoable).class, "unknown");
  });

  it("an empty log and no annotations: not transient", () => {
    const verdict = classifyJob(facts({ log: "" }), TRANSIENT);
    assert.equal(verdict.class, "not-transient");
  });

  it("a 10 MB log: only the tail is scanned; a transient line early in it does not count", () => {
    const filler = `${logLine("x".repeat(100))}\n`.repeat(Math.ceil((10 * 1024 * 1024) / 129));
    const early = logOf("npm ERR! code ECONNRESET") + filler + logLine("##[error]Process completed with exit code 1.");
    assert.ok(early.length > 10 * 1024 * 1024);
    assert.equal(classifyJob(facts({ log: early }), TRANSIENT).class, "not-transient");
    const late = filler + logLine("fatal: early EOF");
    assert.deepEqual(classifyJob(facts({ log: late }), TRANSIENT), { class: "transient:network", evidence: "fatal: early EOF" });
  });

  it("evidence is at most 200 characters", () => {
    const verdict = classifyJob(facts({ log: logOf(`npm ERR! code ECONNRESET ${"y".repeat(5000)}`) }), TRANSIENT);
    assert.equal(verdict.class, "transient:network");
    assert.equal(verdict.evidence.length, MAX_EVIDENCE_CHARS);
  });
});

describe("judgeAttempt", () => {
  const transient = { class: "transient:network", evidence: "fatal: early EOF" } as const;
  const genuine = { class: "not-transient", evidence: 'failed in step "Run tests"' } as const;

  it("MAX_FAILED_JOBS: more failed jobs than the limit are not re-run, under either RERUN_WHEN", () => {
    for (const when of ["failure", "transient"]) {
      const policy = compilePolicy({ when, maxFailedJobs: 2 });
      const three = ["a", "b", "c"].map((name) => ({ name, verdict: transient }));
      const verdict = judgeAttempt(three, policy);
      assert.equal(verdict.rerun, false);
      assert.match(verdict.explanation, /3 jobs failed, more than MAX_FAILED_JOBS=2/);
      assert.equal(judgeAttempt(three.slice(0, 2), policy).rerun, true);
    }
  });

  it("transient: every failed job must be transient; one genuine failure means no rerun, named with its evidence", () => {
    const verdict = judgeAttempt([{ name: "e2e", verdict: transient }, { name: "build (ubuntu)", verdict: genuine }], TRANSIENT);
    assert.equal(verdict.rerun, false);
    assert.equal(verdict.explanation, 'job "build (ubuntu)" failed in step "Run tests": not transient (RERUN_WHEN=transient)');
    const ok = judgeAttempt([{ name: "e2e", verdict: { class: "transient:runner-lost", evidence: "The runner has received a shutdown signal" } }], TRANSIENT);
    assert.deepEqual(ok, { rerun: true, explanation: 'job "e2e" lost its runner ("The runner has received a shutdown signal"): transient' });
  });

  it("RERUN_UNKNOWN says what unknown means", () => {
    const jobs = [{ name: "e2e", verdict: { class: "unknown", evidence: "log could not be read (404)" } as const }];
    assert.equal(judgeAttempt(jobs, TRANSIENT).rerun, true);
    assert.equal(judgeAttempt(jobs, compilePolicy({ when: "transient", rerunUnknown: false })).rerun, false);
    assert.equal(judgeAttempt([], compilePolicy({ when: "transient", rerunUnknown: false })).rerun, false, "failed jobs not known at all");
  });

  it("failure: every failed job counts unless NO_RERUN_* vetoed it", () => {
    const policy = compilePolicy({ noRerunPatterns: ["AssertionError"] });
    assert.equal(judgeAttempt([{ name: "a", verdict: genuine }], policy).rerun, true);
    const vetoed = judgeAttempt([{ name: "a", verdict: { class: "not-transient", evidence: "AssertionError: x", vetoed: "NO_RERUN_PATTERNS" } }], policy);
    assert.equal(vetoed.rerun, false);
    assert.equal(vetoed.explanation, 'job "a" matched NO_RERUN_PATTERNS ("AssertionError: x"): not transient');
  });

  it("names at most 5 jobs and stays short", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `job ${i} ${"n".repeat(300)}`, verdict: { ...genuine, evidence: "e".repeat(200) } }));
    const verdict = judgeAttempt(many, TRANSIENT);
    assert.ok(verdict.explanation.length <= 900);
    assert.match(judgeAttempt(many.map((j, i) => ({ ...j, name: `j${i}`, verdict: genuine })), TRANSIENT).explanation, /and 35 more failed jobs/);
  });
});

describe("policy validation", () => {
  const base = { GITHUB_SIGN_KEY: "s", GITHUB_TOKEN: "t" };
  function configError(env: Record<string, string>, variable: string, message: RegExp): void {
    assert.throws(
      () => configFromEnv({ ...base, ...env }),
      (e: unknown) => e instanceof ConfigError && e.variable === variable && message.test(e.message),
    );
  }

  it("reads every variable: JSON arrays or one pattern per line, globs, numbers, booleans", () => {
    const { policy } = configFromEnv({
      ...base,
      RERUN_WHEN: "transient",
      RERUN_PATTERNS: '["ECONNRESET","503 Service Unavailable"]',
      NO_RERUN_PATTERNS: "AssertionError\nFAILED tests/\n",
      NO_RERUN_STEPS: "Run tests, Lint*",
      MAX_FAILED_JOBS: "5",
      LOG_TAIL_BYTES: "131072",
      RERUN_UNKNOWN: "false",
    });
    assert.equal(policy.when, "transient");
    assert.deepEqual(policy.rerunPatterns.map((p) => p.source), ["ECONNRESET", "503 Service Unavailable"]);
    assert.deepEqual(policy.noRerunPatterns.map((p) => p.source), ["AssertionError", "FAILED tests\\/"]);
    assert.deepEqual(policy.noRerunSteps, ["Run tests", "Lint*"]);
    assert.equal(policy.maxFailedJobs, 5);
    assert.equal(policy.logTailBytes, 131072);
    assert.equal(policy.rerunUnknown, false);
  });

  it("defaults: failure, no patterns, no limit, 64 KiB, unknown counts", () => {
    const { policy } = configFromEnv(base);
    assert.deepEqual({ ...policy }, {
      when: "failure",
      rerunPatterns: [],
      noRerunPatterns: [],
      noRerunSteps: [],
      noRerunStepMatchers: [],
      maxFailedJobs: 0,
      logTailBytes: 65536,
      rerunUnknown: true,
      flakyAfter: 3,
    });
  });

  it("a bad value stops startup with a message naming the variable", () => {
    configError({ RERUN_WHEN: "sometimes" }, "RERUN_WHEN", /"failure" or "transient"/);
    configError({ RERUN_PATTERNS: "([unclosed" }, "RERUN_PATTERNS", /pattern 1 .* is not a valid regular expression/);
    configError({ NO_RERUN_PATTERNS: '["ok", 3]' }, "NO_RERUN_PATTERNS", /JSON array of strings/);
    configError({ NO_RERUN_PATTERNS: '["unterminated' }, "NO_RERUN_PATTERNS", /does not parse/);
    configError({ MAX_FAILED_JOBS: "-1" }, "MAX_FAILED_JOBS", /whole number/);
    configError({ MAX_FAILED_JOBS: "300" }, "MAX_FAILED_JOBS", /0 to 256/);
    configError({ LOG_TAIL_BYTES: "10" }, "LOG_TAIL_BYTES", /1024 to 1048576/);
    configError({ RERUN_UNKNOWN: "perhaps" }, "RERUN_UNKNOWN", /true or false/);
    configError({ RERUN_PATTERNS: "/x/g" }, "RERUN_PATTERNS", /flags i, m, s and u/);
  });

  it("a pattern that could be catastrophically slow is refused at startup", () => {
    for (const slow of ["(a+)+$", "(\\w+\\s?)*$", "(a|a)*b", "(x+x+)+y", "(.*a){30}", "(a|aa)+$", "(\\d+)\\1+"]) {
      configError({ RERUN_PATTERNS: JSON.stringify(["fine", slow]) }, "RERUN_PATTERNS", /pattern 2 .*catastrophically slow/);
    }
    for (const fine of ["ECONNRESET", "npm ERR! code E50[234]", "status code:? 50[234]", "(?:foo|bar) failed", "\\bRPC failed\\b"]) {
      assert.equal(compilePolicy({ rerunPatterns: [fine] }).rerunPatterns.length, 1, fine);
    }
  });

  it("syntax that is not regular (look-around, back-references) is refused with the reason", () => {
    for (const lookAround of ["(?<=npm )ERR", "foo(?!bar)", "(?<!x)timeout", "a(?=b)"]) {
      configError({ NO_RERUN_PATTERNS: JSON.stringify([lookAround]) }, "NO_RERUN_PATTERNS", /pattern 1 .*uses look-around/);
    }
    configError({ NO_RERUN_PATTERNS: JSON.stringify(["(?<word>\\w+) \\k<word>"]) }, "NO_RERUN_PATTERNS", /pattern 1 .*a back-reference/);
    assert.ok(typeof compileSafePattern("\\(?=literal") !== "string", "an escaped parenthesis is no look-around");
  });

  // RE2's time is linear in the line times the pattern's program, which a counted repeat
  // multiplies: a list of `[ab]{1000}` patterns held a job's classification for seconds.
  it("patterns too heavy to run on every line are refused: one, and a list in all", () => {
    configError({ RERUN_PATTERNS: JSON.stringify(["[ab]{1000}[0-9N]"]) }, "RERUN_PATTERNS", /pattern 1 .*too heavy .*weight 1001, at most 200/);
    configError({ NO_RERUN_PATTERNS: JSON.stringify(Array.from({ length: 30 }, (_, i) => `[ab]{190}x${i}`)) }, "NO_RERUN_PATTERNS", /weigh \d+ in all, at most 5000/);
    assert.equal(compilePolicy({ rerunPatterns: ["[0-9a-f]{40}", "sha256:[0-9a-f]{64}"] }).rerunPatterns.length, 2, "hashes stay allowed");
    const hundred = Array.from({ length: 100 }, (_, i) => `npm ERR! code E${i} something failed`);
    assert.equal(compilePolicy({ noRerunPatterns: hundred }).noRerunPatterns.length, 100, "a hundred ordinary patterns fit");
  });

  it("one pattern per line may start with `[` (a class); a JSON array starts with `[` and a string", () => {
    assert.deepEqual(configFromEnv({ ...base, RERUN_PATTERNS: "[0-9]+ tests failed\n[^]x" }).policy.rerunPatterns.map((p) => p.source), ["[0-9]+ tests failed", "[^]x"]);
    assert.deepEqual(configFromEnv({ ...base, RERUN_PATTERNS: '[ "a", "b" ]' }).policy.rerunPatterns.map((p) => p.source), ["a", "b"]);
    configError({ NO_RERUN_PATTERNS: '["unterminated' }, "NO_RERUN_PATTERNS", /does not parse/);
  });

  it("NO_RERUN_STEPS globs of many `*` on a long step name answer (RE2, linear time)", { timeout: 60_000 }, () => {
    const policy = compilePolicy({ when: "transient", noRerunSteps: ["*a*a*a*a*a*a*a*a*a*a*a*a*b", "Lint*"] });
    const long = classifyJob(facts({ steps: [{ name: "a".repeat(200), conclusion: "failure" }] }), policy);
    assert.equal(long.vetoed, undefined, long.evidence);
    const lint = classifyJob(facts({ steps: [{ name: "lint (eslint)", conclusion: "failure" }] }), policy);
    assert.equal(lint.vetoed, "NO_RERUN_STEPS", "globs stay case-insensitive");
  });

  it("JavaScript-only spellings are translated for RE2 and match what JavaScript would", () => {
    const cases: [string, string, string][] = [
      ["caf\\u00e9 failed", "café failed", "cafe failed"],
      ["/\\u{1F4A5} crashed/u", "💥 crashed", "x crashed"],
      ["line\\cJbreak", "line\nbreak", "line break"],
      ["(?<code>E50[234]) from registry", "E503 from registry", "E500 from registry"],
      ["npm ERR\\! code", "npm ERR! code", "npm ERR code"],
    ];
    for (const [source, hit, miss] of cases) {
      const compiled = compileSafePattern(source);
      assert.ok(typeof compiled !== "string", `${source}: ${String(compiled)}`);
      if (typeof compiled === "string") continue;
      assert.equal(compiled.test(hit), true, `${source} on ${hit}`);
      assert.equal(compiled.test(miss), false, `${source} on ${miss}`);
    }
  });

  // Shapes no static check refuses, polynomial in a backtracking engine: with JavaScript's
  // RegExp each of these takes minutes on one 1024-character line. Matched by RE2 they finish;
  // the test's timeout guards against a return to backtracking (it measures no speed).
  it("patterns slow without nesting are accepted and matched in linear time", { timeout: 60_000 }, () => {
    const polynomial = ["a*a*a*a*a*b", "\\d+\\d+\\d+\\d+\\d+x", ".*.*.*.*.*=", "/[ab]*c*a*a*d/i"];
    const policy = compilePolicy({ when: "transient", rerunPatterns: polynomial, noRerunPatterns: polynomial });
    const hostile = ["a".repeat(5000), "1".repeat(5000), "y".repeat(5000), "ac".repeat(2500)].join("\n");
    const verdict = classifyJob(facts({ annotations: [hostile], log: Array.from({ length: 16 }, () => hostile).join("\n") }), policy);
    assert.equal(verdict.class, "not-transient");
    assert.equal(verdict.vetoed, undefined, "nothing matched: every line was tried to its end");
    const hit = classifyJob(facts({ log: "1234567x" }), policy);
    assert.deepEqual(hit, { class: "not-transient", evidence: "1234567x", vetoed: "NO_RERUN_PATTERNS" }, "the patterns still match what they describe");
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[key]);
  }
  return value;
}

const textArb = fc.oneof(
  fc.string({ maxLength: 400, unit: "binary" }),
  fc.constantFrom(
    "npm ERR! code ECONNRESET",
    "AssertionError: boom",
    "##[error]The runner has received a shutdown signal.",
    "fatal: early EOF",
    "No space left on device",
    "FAILED tests/x.py",
  ),
);
const fetchedArb = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof(
    value.map((v) => ({ state: "read" as const, value: v })),
    fc.string({ maxLength: 40 }).map((why) => ({ state: "unknown" as const, why })),
    fc.constant({ state: "skipped" as const }),
  );
const stepArb = fc.record({
  name: fc.oneof(fc.constantFrom("Set up job", "Run tests", "Lint", "Install"), fc.string({ maxLength: 60 })),
  conclusion: fc.constantFrom("success", "failure", "skipped", "cancelled", null),
});
const factsArb: fc.Arbitrary<JobFacts> = fc.record({
  id: fc.integer({ min: 1 }),
  name: fc.string({ maxLength: 80 }),
  status: fc.constant("completed" as const),
  conclusion: fc.constantFrom("failure", "timed_out", null),
  steps: fc.array(stepArb, { maxLength: 8 }),
  annotations: fetchedArb(fc.array(textArb, { maxLength: 5 })),
  log: fetchedArb(fc.array(textArb, { maxLength: 30 }).map((lines) => lines.join("\n"))),
});
const policyArb: fc.Arbitrary<RerunPolicy> = fc
  .record({
    when: fc.constantFrom("failure", "transient"),
    rerunPatterns: fc.subarray(["ECONNRESET", "Flaky", "/timeout/i", "^FAILED", "E50[0-9]"]),
    noRerunPatterns: fc.subarray(["AssertionError", "FAILED tests/", "/panic/i"]),
    noRerunSteps: fc.subarray(["Run tests", "Lint*", "*deploy*"]),
    maxFailedJobs: fc.integer({ min: 0, max: 10 }),
    logTailBytes: fc.integer({ min: 1024, max: 8192 }),
    rerunUnknown: fc.boolean(),
    flakyAfter: fc.integer({ min: 0, max: 5 }),
  } satisfies Record<keyof RawPolicy, fc.Arbitrary<unknown>>)
  .map((raw) => compilePolicy(raw));

describe("classifyJob properties", () => {
  it("pure and deterministic: frozen inputs, the same answer twice, inputs unchanged", () => {
    fc.assert(
      fc.property(factsArb, policyArb, (f, policy) => {
        const before = JSON.stringify(f);
        deepFreeze(f);
        deepFreeze(policy);
        const a = classifyJob(f, policy);
        const b = classifyJob(f, policy);
        assert.deepStrictEqual(a, b);
        assert.equal(JSON.stringify(f), before);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws, and always answers a known class with evidence of at most 200 characters", () => {
    fc.assert(
      fc.property(factsArb, policyArb, (f, policy) => {
        const v = classifyJob(f, policy);
        assert.ok(v.class === "not-transient" || v.class === "unknown" || /^transient:[a-z-]+$/.test(v.class), v.class);
        assert.ok(v.evidence.length > 0 && v.evidence.length <= MAX_EVIDENCE_CHARS);
        if (v.vetoed !== undefined) assert.equal(v.class, "not-transient");
      }),
      { numRuns: 300 },
    );
  });

  it("bounded on adversarial input: only the last LOG_TAIL_BYTES are read, whatever comes before", () => {
    // Long runs of what the patterns look for (letters, spaces, digits, "E" codes) with no line
    // breaks: the shapes that make backtracking patterns slow. Classification completes, and the
    // answer depends only on the tail, which is what bounds the work.
    const adversarial = fc
      .tuple(fc.constantFrom("a", " ", "E", "0", "ECONN", "aaaa!", "\t", "x".repeat(3)), fc.integer({ min: 10_000, max: 200_000 }), textArb)
      .map(([unit, n, end]) => `${unit.repeat(Math.ceil(n / unit.length))}\n${end}`);
    fc.assert(
      fc.property(adversarial, fc.string({ maxLength: 3000 }), policyArb, (log, prefix, policy) => {
        const tailed = (text: string): JobFacts => ({ ...facts({ log: text }), annotations: { state: "read", value: [] } });
        const whole = classifyJob(tailed(log), policy);
        assert.deepStrictEqual(classifyJob(tailed(prefix + log), policy), whole);
      }),
      { numRuns: 40 },
    );
  });
});

describe("classifyJob: the decisive error", () => {
  it("a download retried and recovered early in the step does not make a later assertion transient", () => {
    const log = logOf(
      "npm WARN retry will retry, error on last attempt: Error: connect ETIMEDOUT 151.101.0.162:443",
      "added 1204 packages in 41s",
      "> jest",
      "FAIL src/api.test.ts",
      "  ● login › answers 200",
      "    expect(received).toBe(expected) // Object.is equality",
      "Tests:       1 failed, 41 passed, 42 total",
      "##[error]Process completed with exit code 1.",
    );
    const verdict = classifyJob(facts({ log }), TRANSIENT);
    assert.deepEqual(verdict, { class: "not-transient", evidence: "Tests:       1 failed, 41 passed, 42 total", signature: "tests" });
  });

  it("the error that ended the step wins over an earlier genuine-looking line, and the evidence is that line", () => {
    const log = logOf(
      "AssertionError: a snapshot test printed this earlier and was retried",
      "npm ERR! code E503",
      "npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/left-pad",
      "npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/debug-0.log",
      "##[error]Process completed with exit code 1.",
    );
    assert.deepEqual(classifyJob(facts({ log }), TRANSIENT), { class: "transient:registry", evidence: "npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/left-pad" });
  });

  it("only the failed step counts: lines of an earlier step that passed are not read", () => {
    const log = [
      logLine("##[group]Run npm ci"),
      logLine("npm ERR! network read ECONNRESET (retried, then fine)"),
      logLine("##[endgroup]"),
      logLine("##[group]Run npm test"),
      logLine("something unknown went wrong"),
      logLine("##[error]Process completed with exit code 2."),
      "",
    ].join("\n");
    assert.equal(classifyJob(facts({ log }), TRANSIENT).class, "not-transient");
  });

  it("a refused connection to the job's own service (loopback) is genuine; to another host it is transient", () => {
    for (const line of ["Error: connect ECONNREFUSED 127.0.0.1:3000", "connect ECONNREFUSED ::1:5432", "net::ERR_CONNECTION_REFUSED at http://localhost:8080/", "Connection refused: localhost/[0:0:0:0:0:0:0:1]:49168"]) {
      const verdict = classifyJob(facts({ log: logOf(line, "##[error]Process completed with exit code 1.") }), TRANSIENT);
      assert.deepEqual([verdict.class, verdict.signature], ["not-transient", "loopback-refused"], line);
    }
    assert.equal(classifyJob(facts({ log: logOf("Error: connect ECONNREFUSED 140.82.112.4:443", "##[error]Process completed with exit code 1.") }), TRANSIENT).class, "transient:network");
  });

  it("HTTP statuses by family: 429 and 5xx/52x from a fetch are transient, 404 and 401 are not", () => {
    const classOf = (line: string) => classifyJob(facts({ log: logOf(line, "##[error]Process completed with exit code 1.") }), TRANSIENT);
    assert.equal(classOf("Could not GET 'https://repo.maven.apache.org/maven2/x.pom'. Received status code 429 from server: Too Many Requests").class, "transient:rate-limit");
    assert.equal(classOf("curl: (22) The requested URL returned error: 522").class, "transient:registry");
    assert.equal(classOf("go: reading https://proxy.golang.org/x/@v/list: 500 Internal Server Error").class, "transient:registry");
    assert.deepEqual([classOf("npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-pad-typo").class, classOf("npm ERR! 404 Not Found - GET https://registry.npmjs.org/x").signature], ["not-transient", "client-error"]);
    assert.equal(classOf("npm error 401 Unauthorized - PUT https://npm.pkg.github.com/x - unauthenticated").class, "not-transient");
  });

  it("a renamed or deleted action, a missing ref, a lockfile out of date are genuine and named", () => {
    const signatureOf = (line: string) => classifyJob(facts({ log: logOf(line, "##[error]Process completed with exit code 1.") }), TRANSIENT).signature;
    assert.equal(signatureOf("Error: Unable to resolve action `helaili/jekyll-build@v2`, repository not found"), "not-found");
    assert.equal(signatureOf("fatal: couldn't find remote ref refs/heads/feature"), "not-found");
    assert.equal(signatureOf("npm ERR! `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync."), "lockfile");
    assert.equal(signatureOf("src/app.ts(63,9): error TS2322: Type 'Timer' is not assignable to type 'number'."), "compile");
  });

  it("a generic symptom decides only when no cause is there", () => {
    const cause = logOf("error: RPC failed; HTTP 400 curl 22 The requested URL returned error: 400", "fatal: the remote end hung up unexpectedly", "##[error]Process completed with exit code 128.");
    assert.equal(classifyJob(facts({ log: cause }), TRANSIENT).signature, "client-error");
    const symptom = logOf("fatal: the remote end hung up unexpectedly", "##[error]Process completed with exit code 128.");
    assert.equal(classifyJob(facts({ log: symptom }), TRANSIENT).class, "transient:network");
  });
});

describe("classifyJob: flakiness learned from history", () => {
  const history = (rerunsPassed: number, failures: number) => ({ rerunsPassed, failures });
  const assertion = logOf("AssertionError: expected 1 to equal 2", "##[error]Process completed with exit code 1.");

  it("a failure with no transient signature, even an assertion, is transient:flaky-history when it passed on rerun often enough", () => {
    const verdict = classifyJob({ ...facts({ log: assertion }), history: history(3, 5) }, TRANSIENT);
    assert.deepEqual(verdict, { class: "transient:flaky-history", evidence: "passed on rerun 3 of 5 times in 30 days" });
    assert.equal(classifyJob({ ...facts({ log: assertion }), history: history(2, 5) }, TRANSIENT).class, "not-transient", "below RERUN_FLAKY_AFTER=3");
  });

  it("RERUN_FLAKY_AFTER=0 turns it off; a NO_RERUN veto still wins; a transient signature keeps its own class", () => {
    assert.equal(classifyJob({ ...facts({ log: assertion }), history: history(9, 9) }, compilePolicy({ when: "transient", flakyAfter: 0 })).class, "not-transient");
    const vetoed = classifyJob({ ...facts({ log: assertion }), history: history(9, 9) }, compilePolicy({ when: "transient", noRerunPatterns: ["AssertionError"] }));
    assert.equal(vetoed.vetoed, "NO_RERUN_PATTERNS");
    const network = classifyJob({ ...facts({ log: logOf("npm ERR! code ECONNRESET") }), history: history(9, 9) }, TRANSIENT);
    assert.equal(network.class, "transient:network");
  });

  it("judgeAttempt explains it", () => {
    const verdict = judgeAttempt([{ name: "e2e", verdict: { class: "transient:flaky-history", evidence: "passed on rerun 3 of 4 times in 30 days" } }], TRANSIENT);
    assert.deepEqual(verdict, { rerun: true, explanation: 'job "e2e" is flaky ("passed on rerun 3 of 4 times in 30 days"): transient' });
  });
});

describe("classifyJob: what a careful engineer would not mistake (review cases)", () => {
  const classOf = (log: string, over: Parameters<typeof facts>[0] = {}, policy: RerunPolicy = TRANSIENT) => classifyJob(facts({ ...over, log }), policy);
  const end = "##[error]Process completed with exit code 1.";

  it("a deleted or renamed action in Set up job is genuine, not the runner's", () => {
    const verdict = classOf(logOf("Error: Unable to resolve action `helaili/jekyll-build@v2`, repository not found"), { steps: [{ name: "Set up job", conclusion: "failure" }] });
    assert.deepEqual([verdict.class, verdict.signature], ["not-transient", "not-found"]);
    // With nothing in its log, a Set up job failure is still the runner's.
    assert.equal(classOf(logOf("Download action repository 'actions/checkout@v4'"), { steps: [{ name: "Set up job", conclusion: "failure" }] }).class, "transient:setup-job");
  });

  it("a parser's or shell's 'unexpected end of file' is not a truncated download", () => {
    assert.equal(classOf(logOf("SyntaxError: unexpected EOF while parsing", end)).class, "not-transient");
    assert.equal(classOf(logOf("./ci.sh: line 42: syntax error: unexpected end of file", end)).class, "not-transient");
  });

  it("a tool's retry line is not the cause: a later failure decides", () => {
    const log = logOf("##[error]Attempt 1 failed: connect ETIMEDOUT 140.82.112.4:443", "Tests: 1 failed, 12 passed, 13 total", end);
    assert.equal(classOf(log).signature, "tests");
    // A retried failure the step never got past still says what it was.
    assert.equal(classOf(logOf("warning: spurious network error (2 tries remaining): failed to get 200 response, got 502", end)).class, "transient:registry");
  });

  it("the usual git:// workaround is not a git:// URL", () => {
    const log = logOf("git config --global url.https://github.com/.insteadOf git://github.com/", "npm ERR! network read ECONNRESET", end);
    assert.equal(classOf(log).class, "transient:network");
  });

  it("the step that failed the job decides, not an if: always() step after it", () => {
    const log = [
      logLine("##[group]Run npm test"),
      logLine("Tests: 2 failed, 40 passed, 42 total"),
      logLine(end),
      logLine("##[group]Run docker push ghcr.io/o/r"),
      logLine('Get "https://ghcr.io/v2/": net/http: TLS handshake timeout'),
      logLine(end),
      "",
    ].join("\n");
    assert.equal(classOf(log).signature, "tests");
  });

  it("an action that failed (no step end): its error, not the post-job cleanup after it", () => {
    const log = [logLine("##[error]Input required and not supplied: token"), logLine("Post job cleanup."), logLine("##[warning]Failed to save: Unable to reserve cache: connect ETIMEDOUT 13.107.42.16:443"), ""].join("\n");
    assert.equal(classOf(log).class, "not-transient");
  });

  it("a warning annotation is context, not the step's error", () => {
    const verdict = classOf(logOf("npm ERR! Missing script: \"tset\"", end), { annotations: ["##[warning]Failed to restore: Cache service responded with 503"] });
    assert.equal(verdict.class, "not-transient");
    // A failure-level one decides as before.
    assert.equal(classOf(logOf("something", end), { annotations: ["Failed to CreateArtifact: Unable to make request: ETIMEDOUT"] }).class, "transient:network");
  });

  it("a refused connection whose loopback host is named on the next line is the job's own", () => {
    const log = logOf("psql: error: could not connect to server: Connection refused", '\tIs the server running on host "localhost" (127.0.0.1) and accepting', end);
    assert.equal(classOf(log).class, "not-transient");
  });

  it("the inotify watch limit says ENOSPC but is a setting, not a full disk", () => {
    assert.notEqual(classOf(logOf("Error: ENOSPC: System limit for number of file watchers reached, watch '/home/runner/work/app/src'", end)).class, "transient:disk-full");
  });

  it("test runners' summaries: phpunit, rspec, vitest, dotnet", () => {
    for (const line of ["FAILURES!", "Tests: 5, Assertions: 10, Failures: 1.", "12 examples, 1 failure", " Tests  1 failed | 3 passed (4)", "Failed!  - Failed:     1, Passed:    41, Skipped:     0, Total:    42"]) {
      assert.equal(classOf(logOf("GuzzleHttp\\Exception\\ServerException: 503 Service Unavailable", line, end)).signature, "tests", line);
    }
  });

  it("a RERUN_PATTERN elsewhere in the tail outranks a built-in genuine family; the history cannot outrank a veto nobody could read", () => {
    const policy = compilePolicy({ when: "transient", rerunPatterns: ["emulator did not boot"] });
    const log = [logLine("emulator did not boot in 300 s"), ...Array.from({ length: 100 }, (_, i) => logLine(`line ${i}`)), logLine("Tests: 1 failed, 3 passed, 4 total"), logLine(end), ""].join("\n");
    assert.equal(classifyJob(facts({ log }), policy).class, "transient:pattern");
    const vetoable = compilePolicy({ when: "transient", noRerunPatterns: ["AssertionError"] });
    assert.equal(classifyJob({ ...facts({ log: "unknown" }), history: { rerunsPassed: 9, failures: 9 } }, vetoable).class, "unknown");
  });
});
