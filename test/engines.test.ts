// `npm ci` on the oldest Node the project supports installs without an EBADENGINE warning, and
// the Cloud Functions example still deploys on nodejs22 without declaring it as an engine.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("engines", () => {
  it("npm ci (dry run, from the lock file) prints no EBADENGINE warning on this Node", () => {
    const npmCli = process.env.npm_execpath;
    const [command, args] = npmCli !== undefined && npmCli.endsWith(".js") ? [process.execPath, [npmCli]] : ["npm", []];
    const result = spawnSync(command, [...args, "ci", "--dry-run", "--no-audit", "--no-fund"], { cwd: root, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    const warnings = `${result.stdout}\n${result.stderr}`.split("\n").filter((l) => l.includes("EBADENGINE"));
    assert.deepEqual(warnings, [], `on Node ${process.version}`);
  });

  it("every installed package the lock file lists declares a Node engine range this Node satisfies, or none", () => {
    const lock = JSON.parse(readFileSync(`${root}/package-lock.json`, "utf8")) as { packages: Record<string, { engines?: unknown; dev?: boolean }> };
    const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
    const unsatisfied: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const engines = entry.engines;
      const node = typeof engines === "object" && engines !== null ? (engines as { node?: unknown }).node : undefined;
      if (typeof node !== "string") continue;
      // The forms that rule Node 20 out: ">=22", ">= 22.1", "22.x", "^22".
      const floor = /^\s*(?:>=\s*|\^)?(\d+)(?:\.(\d+))?(?:\.x|\.\d+)?\s*$/.exec(node);
      if (floor === null) continue;
      const [needMajor, needMinor] = [Number(floor[1]), Number(floor[2] ?? 0)];
      const exact = /^\s*\d+\.x\s*$/.test(node);
      const ok = exact ? major === needMajor : major > needMajor || (major === needMajor && minor >= needMinor);
      if (!ok) unsatisfied.push(`${path || "(root)"} engines.node ${node}`);
    }
    assert.deepEqual(unsatisfied, []);
  });

  it("the Cloud Functions example targets nodejs22 through its deploy command, not through engines", () => {
    const example = JSON.parse(readFileSync(`${root}/examples/gcf/package.json`, "utf8")) as { engines?: unknown; deployRuntime?: string };
    assert.equal(example.engines, undefined);
    assert.equal(example.deployRuntime, "nodejs22");
    for (const readme of ["docs/deploying.md", "examples/gcf/README.md"]) {
      assert.match(readFileSync(`${root}/${readme}`, "utf8"), /--runtime=nodejs22/, readme);
    }
  });
});
