import { ConfigError, configFromEnv, type Config } from "@job-rerunner/core";

/**
 * The action's inputs and the server variable each mirrors: an input's text is parsed by the
 * core's own env/ parsers under that variable's name, so validation and defaults are the
 * server's. Adding an input is one row here and one in action.yml (a test holds them equal).
 */
export const INPUTS = [
  { input: "github-token", variable: "GITHUB_TOKEN" },
  { input: "run-attempts", variable: "RUN_ATTEMPTS" },
  { input: "branches", variable: "REPO_BRANCHES" },
  { input: "workflows", variable: "RERUN_WORKFLOWS" },
  { input: "no-retry", variable: "NO_RETRY_LIST" },
  { input: "conclusions", variable: "RERUN_CONCLUSIONS" },
  { input: "rerun-when", variable: "RERUN_WHEN" },
  { input: "rerun-patterns", variable: "RERUN_PATTERNS" },
  { input: "no-rerun-patterns", variable: "NO_RERUN_PATTERNS" },
  { input: "no-rerun-steps", variable: "NO_RERUN_STEPS" },
  { input: "max-failed-jobs", variable: "MAX_FAILED_JOBS" },
  { input: "rerun-flaky-after", variable: "RERUN_FLAKY_AFTER" },
  { input: "repo-config", variable: "REPO_CONFIG" },
  { input: "dry-run", variable: "DRY_RUN" },
] as const;

/** The action's own input: a run to decide by hand (`workflow_dispatch`). */
export const RUN_ID_INPUT = "run-id";

/**
 * How long the action gives one decision (the repository's file, the failed jobs' logs, the run
 * read and the rerun call). A server answers GitHub within 10 s; a step has no such limit.
 */
export const ACTION_DEADLINE_MS = 30_000;

/** A bad input: the message names the input and what it expects. */
export class InputError extends Error {
  readonly input: string;
  constructor(input: string, expectation: string) {
    super(`Input "${input}" ${expectation}`);
    this.name = "InputError";
    this.input = input;
  }
}

/** Reads one input's text (trimmed; "" when not given): `core.getInput`, or a map in tests. */
export type InputReader = (name: string) => string;

const inputOf = (variable: string): string | undefined => INPUTS.find((row) => row.variable === variable)?.input;

/**
 * The configuration the inputs describe, parsed as the server parses its environment. A blank
 * input is an unset variable (the server's default). `apiUrl` is the runner's GITHUB_API_URL.
 * Throws an InputError naming the input.
 */
export function configFromInputs(read: InputReader, apiUrl: string | undefined): Config {
  const env: Record<string, string> = {};
  for (const { input, variable } of INPUTS) {
    const value = read(input);
    if (value !== "") env[variable] = value;
  }
  // On by default in the action (a blank value from an unset ${{ vars.X }} included); the server
  // reads repository files by default only as a GitHub App.
  env.REPO_CONFIG ??= "true";
  if (env.GITHUB_TOKEN === undefined) {
    throw new InputError("github-token", "is required: a token with actions: write (the default, ${{ github.token }}, has it when the workflow sets permissions: actions: write)");
  }
  if (apiUrl !== undefined && apiUrl.trim() !== "") env.GITHUB_API_URL = apiUrl;
  let config: Config;
  try {
    config = configFromEnv(env, { webhook: false });
  } catch (error) {
    if (error instanceof ConfigError) {
      const expectation = error.message.startsWith(`${error.variable} `) ? error.message.slice(error.variable.length + 1) : error.message;
      const input = inputOf(error.variable);
      if (input !== undefined) throw new InputError(input, expectation);
      // Only GITHUB_API_URL comes from elsewhere: the runner sets it.
      throw new Error(`${error.variable} (set by the runner) ${expectation}`);
    }
    throw error;
  }
  return { ...config, deadlineMs: ACTION_DEADLINE_MS, leaseMs: ACTION_DEADLINE_MS };
}

/** A run id typed by hand: a whole number; null when the input is blank. */
export function runIdFromInput(read: InputReader): number | null {
  const text = read(RUN_ID_INPUT);
  if (text === "") return null;
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1) {
    throw new InputError(RUN_ID_INPUT, `must be the id of a workflow run (a whole number, as in .../actions/runs/ID), got "${text.slice(0, 40)}"`);
  }
  return id;
}
