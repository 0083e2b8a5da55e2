// The published package is what tsup builds, not the sources the other tests load: build the
// core with its own tsup config into a scratch folder and load both entries, ESM and CJS.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Options } from "tsup";
import tsupConfig from "../tsup.config.ts";

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("the built @job-rerunner/core", () => {
  let out: string;

  before(async () => {
    // Inside the package, so the build's own imports (fast-check, @octokit/rest) resolve as they will for a user.
    out = mkdtempSync(join(PACKAGE, ".built-test-"));
    const options = tsupConfig as Options;
    const entry = Object.fromEntries(Object.entries(options.entry as Record<string, string>).map(([k, v]) => [k, join(PACKAGE, v)]));
    // Types are checked by tsc; the .d.ts step is what makes a build slow.
    await build({ ...options, entry, outDir: out, dts: false, clean: false, sourcemap: false, silent: true, config: false });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("loads the root and /testing entries as ESM and as CJS, with the same exports", async () => {
    const require = createRequire(join(out, "index.cjs"));
    for (const name of ["index", join("testing", "index")]) {
      const esm = (await import(pathToFileURL(join(out, `${name}.js`)).href)) as Record<string, unknown>;
      const cjs = require(join(out, `${name}.cjs`)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(esm).sort(), Object.keys(cjs).sort(), name);
    }
    const core = (await import(pathToFileURL(join(out, "index.js")).href)) as Record<string, unknown>;
    for (const api of ["verifySignature", "decide", "configFromEnv", "createRerunner", "MemoryStore"]) assert.equal(typeof core[api], "function", api);
    const testing = (await import(pathToFileURL(join(out, "testing", "index.js")).href)) as Record<string, unknown>;
    for (const api of ["storeContract", "runArbitrary", "startFakeGitHub", "signedDelivery"]) assert.equal(typeof testing[api], "function", api);
  });

  it("the pattern safety check works in both formats (ret and safe-regex2 are CommonJS)", async () => {
    const require = createRequire(join(out, "index.cjs"));
    type Compiled = { test(line: string): boolean } | string;
    const esm = (await import(pathToFileURL(join(out, "index.js")).href)) as { compileSafePattern: (s: string) => Compiled };
    const cjs = require(join(out, "index.cjs")) as { compileSafePattern: (s: string) => Compiled };
    for (const core of [esm, cjs]) {
      const compiled = core.compileSafePattern("ECONNRESET");
      assert.ok(typeof compiled !== "string" && compiled.test("read ECONNRESET") && !compiled.test("fine"), "re2js matches in this format");
      assert.match(String(core.compileSafePattern("(a+)+$")), /catastrophically slow/);
      assert.match(String(core.compileSafePattern("(a|aa)*b")), /alternatives/);
    }
  });
});
