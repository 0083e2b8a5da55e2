import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configFromEnv, ConfigError } from "@job-rerunner/core";
import { compileBranchPatterns } from "../src/domain/branches.js";

const base = { GITHUB_SIGN_KEY: "s3cret", GITHUB_TOKEN: "ghp_x" };

function expectConfigError(env: Record<string, string>, variable: string, pattern: RegExp): void {
  assert.throws(
    () => configFromEnv(env),
    (error: unknown) => error instanceof ConfigError && error.variable === variable && error.message.startsWith(variable) && pattern.test(error.message),
  );
}

describe("configFromEnv", () => {
  it("applies the reference system's defaults", () => {
    const c = configFromEnv(base);
    assert.equal(c.runAttempts, 4);
    // REPO_BRANCHES unset: the repository's default branch (what the reference's `master` meant).
    assert.deepEqual(c.branches.patterns, []);
    assert.equal(c.branches.matches("main", "main"), true);
    assert.equal(c.branches.matches("master", "master"), true);
    assert.equal(c.branches.matches("master", "main"), false);
    assert.equal(c.branches.matches("master", null), false);
    assert.equal(c.branches.matches("master"), false);
    assert.equal(c.noRetry.size, 0);
    assert.deepEqual([...c.rerunConclusions], ["failure"]);
    assert.equal(c.workflows, null);
    assert.equal(c.githubApiUrl, "https://api.github.com");
    assert.equal(c.dryRun, false);
    assert.equal(c.port, 5000);
    assert.equal(c.store, null);
    assert.equal(c.deadlineMs, 8000);
    assert.deepEqual(c.secrets, ["s3cret"]);
  });

  it("reads every variable", () => {
    const c = configFromEnv({
      ...base,
      GITHUB_SIGN_KEY_PREVIOUS: "old",
      RUN_ATTEMPTS: "3",
      REPO_BRANCHES: "main, release/*",
      NO_RETRY_LIST: "Dependabot[bot], Someone",
      RERUN_CONCLUSIONS: "failure,timed_out",
      RERUN_WORKFLOWS: "CI,Nightly build",
      GITHUB_API_URL: "http://127.0.0.1:9999/api/v3/",
      DRY_RUN: "true",
      PORT: "8080",
      STORE: "sqlite:/tmp/x.sqlite",
    });
    assert.deepEqual(c.secrets, ["s3cret", "old"]);
    assert.equal(c.runAttempts, 3);
    assert.equal(c.branches.matches("release/1.0"), true);
    assert.equal(c.branches.matches("release/1.0/x"), false);
    assert.equal(c.noRetry.has("dependabot[bot]"), true);
    assert.equal(c.noRetry.has("someone"), true);
    assert.deepEqual([...c.rerunConclusions].sort(), ["failure", "timed_out"]);
    assert.deepEqual([...(c.workflows ?? [])], ["CI", "Nightly build"]);
    assert.equal(c.githubApiUrl, "http://127.0.0.1:9999/api/v3");
    assert.equal(c.dryRun, true);
    assert.equal(c.port, 8080);
    assert.deepEqual(c.store, { kind: "sqlite", path: "/tmp/x.sqlite" });
  });

  it("needs GITHUB_SIGN_KEY, and GITHUB_TOKEN unless DRY_RUN", () => {
    expectConfigError({ GITHUB_TOKEN: "t" }, "GITHUB_SIGN_KEY", /required/);
    expectConfigError({ GITHUB_SIGN_KEY: "  ", GITHUB_TOKEN: "t" }, "GITHUB_SIGN_KEY", /required/);
    expectConfigError({ GITHUB_SIGN_KEY: "s" }, "GITHUB_TOKEN", /DRY_RUN/);
    assert.equal(configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "1" }).githubToken, "");
  });

  it("names the variable and what it expects for bad values", () => {
    // GitHub refuses more than 50 reruns of one run: 51 attempts at most (issue 11).
    for (const value of ["abc", "0", "-1", "1.5", "52", "101"]) expectConfigError({ ...base, RUN_ATTEMPTS: value }, "RUN_ATTEMPTS", /whole number from 1 to 51/);
    assert.equal(configFromEnv({ ...base, RUN_ATTEMPTS: "51" }).runAttempts, 51);
    expectConfigError({ ...base, PORT: "70000" }, "PORT", /0 to 65535/);
    assert.equal(configFromEnv({ ...base, PORT: "0" }).port, 0);
    expectConfigError({ ...base, DRY_RUN: "maybe" }, "DRY_RUN", /true or false/);
    expectConfigError({ ...base, GITHUB_API_URL: "not a url" }, "GITHUB_API_URL", /http/);
    expectConfigError({ ...base, GITHUB_API_URL: "ftp://x" }, "GITHUB_API_URL", /http/);
    expectConfigError({ ...base, GITHUB_API_URL: "http://127.0.0.1:1" }, "GITHUB_API_URL", /port 1 is one that fetch refuses to connect to/);
    expectConfigError({ ...base, STORE: "redis" }, "STORE", /memory/);
    expectConfigError({ ...base, RERUN_CONCLUSIONS: "failure,flaky" }, "RERUN_CONCLUSIONS", /flaky/);
    expectConfigError({ ...base, REPO_BRANCHES: " , " }, "REPO_BRANCHES", /at least one/);
    expectConfigError({ ...base, GITHUB_SIGN_KEY_PREVIOUS: "a,b" }, "GITHUB_SIGN_KEY_PREVIOUS", /comma/);
    // GitHub waits 10 s in all: the answer must leave it time to arrive.
    expectConfigError({ ...base, DEADLINE_MS: "9500" }, "DEADLINE_MS", /100 to 9000/);
    assert.equal(configFromEnv({ ...base, DEADLINE_MS: "9000" }).deadlineMs, 9000);
  });

  it("never puts a secret in an error message", () => {
    try {
      configFromEnv({ GITHUB_SIGN_KEY: "topsecret-value", GITHUB_TOKEN: "ghp_supersecret", RUN_ATTEMPTS: "x" });
      assert.fail("should throw");
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.doesNotMatch(error.message, /topsecret|supersecret/);
    }
  });
});

describe("branch patterns", () => {
  it("matches exact names, single-segment and multi-segment globs", () => {
    const m = compileBranchPatterns(["main", "release/*", "hotfix/**", "v?"]);
    assert.equal(m.matches("main"), true);
    assert.equal(m.matches("mainline"), false);
    assert.equal(m.matches("release/2.0"), true);
    assert.equal(m.matches("release/2.0/rc"), false);
    assert.equal(m.matches("hotfix/a/b"), true);
    assert.equal(m.matches("v1"), true);
    assert.equal(m.matches("v10"), false);
    assert.equal(m.matches(null), false);
  });
  it("treats regex characters in names literally", () => {
    const m = compileBranchPatterns(["feat.x+(1)"]);
    assert.equal(m.matches("feat.x+(1)"), true);
    assert.equal(m.matches("featXx+(1)"), false);
  });
  // A glob of many `*` backtracks exponentially in JavaScript's engine on a long name that does
  // not match (minutes at 40 characters); REPO_BRANCHES and a repository file's `branches` are
  // matched by RE2. The timeout guards against a return to backtracking; it measures no speed.
  it("a glob of many `*` on a long branch name that does not match answers (RE2, linear time)", { timeout: 60_000 }, () => {
    const m = compileBranchPatterns(["*a*a*a*a*a*a*a*a*a*a*a*a*b", "**a**a**a**a**a**a**a**a**a**a**c", "release/*-rc?"]);
    assert.equal(m.matches("a".repeat(200)), false);
    assert.equal(m.matches("aaaaaaaaaaaaab"), true);
    assert.equal(m.matches("release/2.0-rc1"), true);
    assert.equal(m.matches("release/2.0/x-rc1"), false, "one `*` stays within a segment");
  });
  it("`*` alone selects every branch, even an unknown one", () => {
    const m = compileBranchPatterns(["*"]);
    assert.equal(m.matches("feature/deep/name"), true);
    assert.equal(m.matches(null), true);
  });
});

describe("STORE with a PostgreSQL URL", () => {
  it("accepts postgres:// and postgresql:// URLs as given", () => {
    for (const url of ["postgres://u:p@db.example.com:5432/jobs?sslmode=verify-full", "postgresql://localhost/jobs"]) {
      assert.deepEqual(configFromEnv({ ...base, STORE: url }).store, { kind: "postgres", url });
    }
  });
  it("never repeats the password of a mistyped URL", () => {
    const error = (() => {
      try {
        configFromEnv({ ...base, STORE: "postgress://jobs:hunter2-p@ss@db.example.com/jobs" });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(error);
    assert.match(error.message, /^STORE must be .*postgres:\/\/USER:PASSWORD@HOST:PORT\/DB.*got "\*\*\*@db\.example\.com\/jobs"$/);
    // Without the `//`, too: everything before the last @ is hidden.
    for (const typo of ["postgresql:/admin:S3cr3t-PW@db.internal/prod", "postgres:admin:S3cr3t-PW@db.internal/prod", "admin:S3cr3t-PW@db.internal"]) {
      assert.throws(() => configFromEnv({ ...base, STORE: typo }), (e: unknown) => e instanceof Error && !e.message.includes("S3cr3t") && e.message.includes('got "***@db.internal'), typo);
    }
    assert.ok(!error.message.includes("hunter2"));
  });
});
