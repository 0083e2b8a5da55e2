// The committed bundle is what the sources build to, and action.yml declares what the code reads.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUTS, RUN_ID_INPUT } from "@job-rerunner/adapter-action";
import { parse } from "yaml";
import { ROOT, actionYml } from "./support.js";

describe("the action's bundle and action.yml", () => {
  it("the committed bundle equals a fresh build of the sources (run `npm run build:action` and commit it)", () => {
    const scratch = mkdtempSync(join(tmpdir(), "job-rerunner-bundle-"));
    try {
      const outfile = join(scratch, "index.mjs");
      const built = spawnSync(process.execPath, [join(ROOT, "packages/adapter-action/scripts/build.mjs"), "--outfile", outfile], { encoding: "utf8" });
      assert.equal(built.status, 0, built.stderr);
      const committed = readFileSync(join(ROOT, actionYml().runs.main));
      assert.ok(committed.equals(readFileSync(outfile)), "dist/action/index.mjs differs from a fresh build: run `npm run build:action` and commit it");
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("runs a single committed file on a Node that runners have, and the bundle needs no node_modules", () => {
    const yml = actionYml();
    assert.match(yml.runs.using, /^node(20|24)$/);
    assert.equal(yml.runs.main, "dist/action/index.mjs");
    const tracked = spawnSync("git", ["ls-files", "--error-unmatch", yml.runs.main], { cwd: ROOT, encoding: "utf8" });
    assert.equal(tracked.status, 0, `${yml.runs.main} is not tracked by git (.gitignore?)`);
    const text = readFileSync(join(ROOT, yml.runs.main), "utf8");
    // Only Node's own modules are imported at run time.
    const imports = [...text.matchAll(/^\s*import\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!);
    assert.ok(imports.length > 0);
    assert.deepEqual(imports.filter((name) => !name.startsWith("node:") && !builtinModules.includes(name)), []);
  });

  it("declares every input the code reads, each with the server variable it mirrors, and the three outputs", () => {
    const yml = actionYml();
    assert.deepEqual(Object.keys(yml.inputs).sort(), [...INPUTS.map((row) => row.input), RUN_ID_INPUT].sort());
    for (const { input, variable } of INPUTS) {
      if (input === "github-token") continue;
      assert.match(yml.inputs[input]?.description ?? "", new RegExp(`\\(${variable}`), `${input}'s description names ${variable}`);
    }
    assert.equal(yml.inputs["github-token"]?.default, "${{ github.token }}");
    assert.equal(yml.inputs["run-attempts"]?.default, "4");
    assert.equal(yml.inputs["repo-config"]?.default, "true");
    assert.deepEqual(Object.keys(yml.outputs).sort(), ["failed-jobs", "reason", "rerun"]);
  });

  it("examples/action is a complete workflow: workflow_run completed, the minimal permissions, only declared inputs", () => {
    interface Workflow {
      on: { workflow_run?: { workflows?: string[]; types?: string[] } };
      permissions: Record<string, string>;
      jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }>;
    }
    const workflow = parse(readFileSync(join(ROOT, "examples/action/rerun-failed-jobs.yml"), "utf8")) as Workflow;
    assert.deepEqual(workflow.on.workflow_run, { workflows: ["CI"], types: ["completed"] });
    assert.deepEqual(workflow.permissions, { actions: "write", checks: "read", contents: "read" });
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    const uses = steps.filter((s) => s.uses?.startsWith("job-rerunner/job-rerunner@"));
    assert.equal(uses.length, 1);
    const declared = Object.keys(actionYml().inputs);
    for (const name of Object.keys(uses[0]?.with ?? {})) assert.ok(declared.includes(name), `${name} is not an input of action.yml`);
  });
});
