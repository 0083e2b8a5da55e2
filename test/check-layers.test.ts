// `npm run check:layers` as a user meets it: a copy of the core's folders with one forbidden
// import each, checked by dependency-cruiser with the repository's own configuration. It must
// fail, naming the file and the rule; the real tree must pass.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEPCRUISE = join(ROOT, "node_modules", ".bin", "depcruise");

function depcruise(cwd: string, ...paths: string[]): { status: number | null; output: string } {
  const result = spawnSync(DEPCRUISE, [...paths, "--config", join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "err"], { cwd, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm run check:layers", () => {
  const scratch = mkdtempSync(join(tmpdir(), "job-rerunner-layers-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  function tree(files: Record<string, string>): void {
    copyFileSync(join(ROOT, "tsconfig.base.json"), join(scratch, "tsconfig.base.json"));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    }
  }

  it("passes on the repository's own packages", () => {
    const { status, output } = depcruise(ROOT, "packages/core/src", "packages/testing/src", "packages/adapter-express/src", "packages/adapter-gcf/src", "packages/adapter-action/src");
    assert.equal(status, 0, output);
  });

  it("fails naming the file and the rule: node:fs in the domain, the engine importing compose or github, a cycle", () => {
    tree({
      "packages/core/src/domain/text.ts": 'import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n',
      "packages/core/src/github/client.ts": "export const client = 1;\n",
      "packages/core/src/compose.ts": 'import { pipeline } from "./engine/pipeline.js";\nexport const compose = pipeline;\n',
      "packages/core/src/engine/pipeline.ts": 'import { client } from "../github/client.js";\nimport { compose } from "../compose.js";\nexport const pipeline = client;\nexport const again = compose;\n',
    });
    const { status, output } = depcruise(scratch, "packages/core/src");
    assert.notEqual(status, 0, output);
    assert.match(output, /domain-is-pure: packages\/core\/src\/domain\/text\.ts → (node:)?fs/);
    assert.match(output, /engine-imports-only-domain-webhook-ports-engine: packages\/core\/src\/engine\/pipeline\.ts → packages\/core\/src\/github\/client\.ts/);
    assert.match(output, /engine-imports-only-domain-webhook-ports-engine: packages\/core\/src\/engine\/pipeline\.ts → packages\/core\/src\/compose\.ts/);
    assert.match(output, /no-cycles: packages\/core\/src\/(compose|engine\/pipeline)\.ts/);
  });

  // What an import rule cannot see: a clock, a timer or the environment read without an import.
  it("the domain reads no clock, timer or process; only env/ reads process.env; the top level holds only entry files", () => {
    const core = join(ROOT, "packages", "core", "src");
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
    const offending = (dir: string, pattern: RegExp): string[] =>
      files(dir).flatMap((file) => readFileSync(file, "utf8").split("\n").flatMap((line, i) => (pattern.test(line.replace(/\/\/.*$|^\s*\*.*$/, "")) ? [`${file.slice(core.length + 1)}:${i + 1}: ${line.trim()}`] : [])));
    assert.deepEqual(offending(join(core, "domain"), /\b(Date\.now|new Date\(|setTimeout|setInterval|performance\.now|process\.|Buffer\.)/), []);
    const outsideEnv = readdirSync(core).filter((d) => d !== "env" && !d.endsWith(".ts")).flatMap((d) => offending(join(core, d), /process\.env/));
    assert.deepEqual(outsideEnv, []);
    assert.deepEqual(readdirSync(core).filter((f) => f.endsWith(".ts")).sort(), ["compose.ts", "index.ts"]);
  });
});
