import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFromEnv, ConfigError, parseRepoFile } from "@job-rerunner/core";
import { settingFromEnv } from "../src/env/settings.js";
import { settingsFromFile } from "../src/domain/settings.js";
import { generateAppKeys } from "@job-rerunner/testing";

const base = { GITHUB_SIGN_KEY: "s3cret" };
const { privateKey } = generateAppKeys();

function configError(env: Record<string, string>): ConfigError {
  try {
    configFromEnv(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

describe("GitHub App configuration", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "app-config-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the App id and its PEM key, with real or \\n-escaped newlines, or from a file", () => {
    const direct = configFromEnv({ ...base, GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY: privateKey });
    assert.equal(direct.githubApp?.appId, "12345");
    assert.equal(direct.githubToken, "");
    assert.equal(direct.readRepoConfig, true, "an App reads repository files by default");
    const escaped = configFromEnv({ ...base, GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY: privateKey.replace(/\n/g, "\\n") });
    assert.equal(escaped.githubApp?.privateKey, privateKey.trim());
    const file = join(dir, "app.pem");
    writeFileSync(file, privateKey);
    assert.equal(configFromEnv({ ...base, GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY_FILE: file }).githubApp?.privateKey, privateKey.trim());
  });

  it("token mode is unchanged: no App, repository files not read unless REPO_CONFIG=true", () => {
    const c = configFromEnv({ ...base, GITHUB_TOKEN: "ghp_x" });
    assert.equal(c.githubApp, null);
    assert.equal(c.readRepoConfig, false);
    assert.equal(c.allowedOwners, null);
    assert.equal(c.repoConfigTtlMs, 300_000);
    assert.equal(configFromEnv({ ...base, GITHUB_TOKEN: "ghp_x", REPO_CONFIG: "true", REPO_CONFIG_TTL_S: "60" }).repoConfigTtlMs, 60_000);
    assert.equal(configFromEnv({ ...base, GITHUB_TOKEN: "ghp_x", REPO_CONFIG: "true" }).readRepoConfig, true);
  });

  it("stops on a token and an App together, an App id without a key, or a key without an id", () => {
    const both = configError({ ...base, GITHUB_TOKEN: "ghp_x", GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: privateKey });
    assert.match(both.message, /GITHUB_TOKEN.*GITHUB_APP_ID/);
    const noKey = configError({ ...base, GITHUB_APP_ID: "1" });
    assert.equal(noKey.variable, "GITHUB_APP_PRIVATE_KEY");
    assert.match(noKey.message, /GITHUB_APP_ID/);
    assert.equal(configError({ ...base, GITHUB_APP_PRIVATE_KEY: privateKey }).variable, "GITHUB_APP_ID");
    assert.equal(configError({ ...base, GITHUB_APP_ID: "my-app", GITHUB_APP_PRIVATE_KEY: privateKey }).variable, "GITHUB_APP_ID");
    const twice = configError({ ...base, GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: privateKey, GITHUB_APP_PRIVATE_KEY_FILE: "/x.pem" });
    assert.match(twice.message, /both/);
  });

  it("a key that cannot be used is named, never quoted", () => {
    const broken = privateKey.slice(0, 200) + "garbage" + privateKey.slice(260);
    const bad = configError({ ...base, GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY: broken });
    assert.equal(bad.variable, "GITHUB_APP_PRIVATE_KEY");
    assert.match(bad.message, /not an RSA private key/);
    for (const line of broken.split("\n").filter((l) => l.length > 8)) assert.ok(!bad.message.includes(line), "the message quotes the key");
    const missing = configError({ ...base, GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY_FILE: join(dir, "absent.pem") });
    assert.equal(missing.variable, "GITHUB_APP_PRIVATE_KEY_FILE");
    assert.match(missing.message, /ENOENT/);
    const notAKey = join(dir, "not-a-key.pem");
    writeFileSync(notAKey, "hunter2-is-my-password\n");
    const wrong = configError({ ...base, GITHUB_APP_ID: "1", GITHUB_APP_PRIVATE_KEY_FILE: notAKey });
    assert.doesNotMatch(wrong.message, /hunter2/);
  });

  it("ALLOWED_OWNERS: comma-separated, case-insensitive, empty serves all", () => {
    const c = configFromEnv({ ...base, GITHUB_TOKEN: "t", ALLOWED_OWNERS: "Octo-Org, someone " });
    assert.deepEqual([...(c.allowedOwners ?? [])], ["octo-org", "someone"]);
    assert.equal(configFromEnv({ ...base, GITHUB_TOKEN: "t", ALLOWED_OWNERS: " " }).allowedOwners, null);
  });
});

describe("one schema for the environment and the repository file", () => {
  it("reads the same setting from a variable's text and from YAML values", () => {
    assert.equal(settingFromEnv({ RUN_ATTEMPTS: "7" }, "run_attempts"), 7);
    const fromFile = settingsFromFile({ run_attempts: 7, branches: ["main", "release/*"], conclusions: "failure, TIMED_OUT" });
    assert.deepEqual(fromFile, { ok: true, settings: { run_attempts: 7, branches: ["main", "release/*"], conclusions: ["failure", "timed_out"] } });
    assert.deepEqual(settingFromEnv({ REPO_BRANCHES: "main, release/*" }, "branches"), ["main", "release/*"]);
    assert.deepEqual(settingsFromFile({ run_attempts: "7" }), { ok: true, settings: { run_attempts: 7 } });
    assert.equal(settingFromEnv({}, "run_attempts"), undefined);
  });

  it("the same check fails the same way in both, naming the variable or the field", () => {
    assert.throws(() => settingFromEnv({ RUN_ATTEMPTS: "500" }, "run_attempts"), /^ConfigError: RUN_ATTEMPTS must be a whole number from 1 to 51, got "500"$/);
    const file = settingsFromFile({ run_attempts: 500 });
    assert.deepEqual(file, { ok: false, problem: { field: "run_attempts", message: 'must be a whole number from 1 to 51, got "500"' } });
    assert.equal(settingsFromFile({ conclusions: ["failure", "flaky"] }).ok, false);
    assert.throws(() => settingFromEnv({ RERUN_CONCLUSIONS: "failure,flaky" }, "conclusions"), /RERUN_CONCLUSIONS.*flaky/);
  });

  it("rerun_flaky_after: RERUN_FLAKY_AFTER on the server, the same key in a repository's file, overlaid key by key", () => {
    assert.equal(configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true" }).policy.flakyAfter, 3, "default 3");
    assert.equal(configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", RERUN_FLAKY_AFTER: "0" }).policy.flakyAfter, 0);
    const file = parseRepoFile("rerun_when: transient\nrerun_flaky_after: 5\n");
    assert.ok(file.ok);
    assert.equal(file.ok && file.settings.rerun_flaky_after, 5);
    const bad = parseRepoFile("rerun_flaky_after: lots\n");
    assert.ok(!bad.ok && /^rerun_flaky_after: must be a whole number from 0 \(off\) to 1000/.test(bad.problem), JSON.stringify(bad));
    assert.throws(() => configFromEnv({ GITHUB_SIGN_KEY: "s", DRY_RUN: "true", RERUN_FLAKY_AFTER: "1001" }), (e: unknown) => e instanceof ConfigError && e.variable === "RERUN_FLAKY_AFTER");
  });

  it("the file: unknown keys, wrong types, bad YAML, too many aliases and too many bytes are problems, never throws", () => {
    assert.match(String((parseRepoFile("run_atempts: 3\n") as { problem: string }).problem), /^run_atempts: is not a setting/);
    assert.match(String((parseRepoFile("enabled: maybe\n") as { problem: string }).problem), /^enabled: must be true or false/);
    assert.match(String((parseRepoFile("branches: [main\n") as { problem: string }).problem), /not valid YAML at line/);
    assert.match(String((parseRepoFile("- a\n- b\n") as { problem: string }).problem), /mapping/);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]", "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]"].join("\n");
    assert.match(String((parseRepoFile(bomb) as { problem: string }).problem), /alias/i);
    assert.match(String((parseRepoFile(`no_retry: [${"a,".repeat(40_000)}b]`) as { problem: string }).problem), /larger than 65536 bytes/);
    assert.deepEqual(parseRepoFile("# nothing set\n"), { ok: true, settings: {} });
    assert.deepEqual(parseRepoFile("workflows: all\nenabled: true\n"), { ok: true, settings: { workflows: null, enabled: true } });
  });
});
