// app.yml and the documented example configuration file are part of the product: check them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { parseRepoFile } from "@job-rerunner/core";

const root = (path: string): string => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), "utf8");

describe("the GitHub App manifest (app.yml)", () => {
  it("asks for the least permissions and exactly the events job-rerunner tracks", () => {
    const manifest = parse(root("app.yml")) as Record<string, unknown>;
    assert.deepEqual(manifest.default_permissions, { actions: "write", checks: "read", contents: "read", metadata: "read" });
    assert.deepEqual(manifest.default_events, ["workflow_job", "workflow_run"]);
    assert.equal(typeof manifest.name, "string");
    assert.equal(typeof manifest.url, "string");
    assert.match(String((manifest.hook_attributes as { url?: unknown }).url), /^https:\/\//);
  });
});

describe("docs/configuration.md: the configuration-file reference", () => {
  it("its example .github/job-rerunner.yml is valid", () => {
    const readme = root("docs/configuration.md");
    const section = readme.slice(readme.indexOf("## Per-repository configuration"));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(example !== undefined, "the section has a yaml example");
    const parsed = parseRepoFile(example);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.problem);
    assert.ok(Object.keys(parsed.settings).length >= 5, "the example shows the settings");
  });
});
