// Runs the committed bundle the way GitHub's runner does: `node <runs.main>` from a copy of the
// action (action.yml and the bundle, no node_modules), every declared input as INPUT_<NAME> with
// action.yml's defaults, the event file, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface ActionYml {
  readonly inputs: Readonly<Record<string, { readonly default?: string; readonly description?: string }>>;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly runs: { readonly using: string; readonly main: string };
}

export function actionYml(): ActionYml {
  return parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as ActionYml;
}

/** The runner's name for an input's variable: upper case, spaces to `_`, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/** A copy of the action as a runner checks it out at a tag: action.yml and the bundle only. */
export function copyAction(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "job-rerunner-action-"));
  const main = actionYml().runs.main;
  cpSync(join(ROOT, "action.yml"), join(dir, "action.yml"));
  mkdirSync(dirname(join(dir, main)), { recursive: true });
  cpSync(join(ROOT, main), join(dir, main));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface StepRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly summary: string;
}

/** GITHUB_OUTPUT as @actions/core writes it: `name<<DELIMITER\nvalue\nDELIMITER\n`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^([^\n<]+)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1]!] = match[3]!;
  return outputs;
}

export interface StepOptions {
  readonly action: string;
  readonly apiUrl: string;
  readonly token: string;
  readonly eventName: string;
  readonly payload: unknown;
  /** Inputs given in the workflow's `with:` (others take action.yml's defaults). */
  readonly inputs?: Readonly<Record<string, string>>;
}

/** Runs the action once as a step; resolves when the process exits. */
export async function runStep(options: StepOptions): Promise<StepRun> {
  const work = mkdtempSync(join(tmpdir(), "job-rerunner-step-"));
  try {
    const eventPath = join(work, "event.json");
    const outputPath = join(work, "output");
    const summaryPath = join(work, "summary.md");
    writeFileSync(eventPath, JSON.stringify(options.payload));
    writeFileSync(outputPath, "");
    writeFileSync(summaryPath, "");
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: options.eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      GITHUB_API_URL: options.apiUrl,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "octo-org/octo-repo",
      GITHUB_RUN_ID: "99",
      GITHUB_RUN_ATTEMPT: "1",
      RUNNER_TEMP: work,
    };
    for (const [name, input] of Object.entries(actionYml().inputs)) {
      const given = options.inputs?.[name];
      const fallback = input.default === "${{ github.token }}" ? options.token : (input.default ?? "");
      env[inputVariable(name)] = given ?? fallback;
    }
    const main = join(options.action, actionYml().runs.main);
    const child = spawn(process.execPath, [main], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    return {
      code,
      stdout,
      stderr,
      outputs: parseOutputFile(readFileSync(outputPath, "utf8")),
      summary: readFileSync(summaryPath, "utf8"),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
