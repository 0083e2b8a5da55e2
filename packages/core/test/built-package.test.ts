// The published package is what tsup builds, not the sources the other tests load: build the
// core with its own tsup config into a scratch folder and load its entry, ESM and CJS.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Options } from "tsup";
import tsupConfig from "../tsup.config.ts";

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("the built @job-rerunner/core", () => {
  let out: string;

  before(async () => {
    // Inside the package, so the build's own imports (@octokit/rest, zod) resolve as they will for a user.
    out = mkdtempSync(join(PACKAGE, ".built-test-"));
    const options = tsupConfig as Options;
    const entry = Object.fromEntries(Object.entries(options.entry as Record<string, string>).map(([k, v]) => [k, join(PACKAGE, v)]));
    // Types are checked by tsc; the .d.ts step is what makes a build slow.
    await build({ ...options, entry, outDir: out, dts: false, clean: false, sourcemap: false, silent: true, config: false });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("loads as ESM and as CJS with the same curated exports, and ships no test helper", async () => {
    const require = createRequire(join(out, "index.cjs"));
    const esm = (await import(pathToFileURL(join(out, "index.js")).href)) as Record<string, unknown>;
    const cjs = require(join(out, "index.cjs")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(esm).sort(), Object.keys(cjs).sort());
    for (const api of ["verifySignature", "decide", "settle", "parseEvent", "classifyJob", "compilePolicy", "configFromEnv", "createRerunner", "createReconciler", "toHttpResponse", "MemoryStore"]) {
      assert.equal(typeof esm[api], "function", api);
    }
    // A small, deliberate surface: docs/embedding.md lists it.
    assert.ok(Object.keys(esm).length <= 60, `${Object.keys(esm).length} runtime exports: ${Object.keys(esm).join(", ")}`);
    for (const helper of ["storeContract", "startFakeGitHub", "signedDelivery", "runArbitrary", "webhookExamples"]) assert.equal(esm[helper], undefined, helper);
    assert.deepEqual(readdirSync(out).filter((f) => !f.startsWith("index.")), [], "one entry, no testing/ folder");
  });

  it("the pattern safety check works in both formats (ret and safe-regex2 are CommonJS)", async () => {
    const require = createRequire(join(out, "index.cjs"));
    type Policy = { rerunPatterns: readonly { test(line: string): boolean }[] };
    type Core = { compilePolicy: (raw: { rerunPatterns: string[] }) => Policy };
    const esm = (await import(pathToFileURL(join(out, "index.js")).href)) as Core;
    const cjs = require(join(out, "index.cjs")) as Core;
    for (const core of [esm, cjs]) {
      const [compiled] = core.compilePolicy({ rerunPatterns: ["ECONNRESET"] }).rerunPatterns;
      assert.ok(compiled !== undefined && compiled.test("read ECONNRESET") && !compiled.test("fine"), "re2js matches in this format");
      assert.throws(() => core.compilePolicy({ rerunPatterns: ["(a+)+$"] }), /catastrophically slow/);
      assert.throws(() => core.compilePolicy({ rerunPatterns: ["(a|aa)*b"] }), /alternatives/);
    }
  });
});
