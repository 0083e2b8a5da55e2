/**
 * Our server as `npm start` runs it: core and adapter from their built dist (plain JS from tsup),
 * not their TypeScript sources under tsx, which wraps every named function in a `__name` call
 * (a `defineProperty` per closure made) that the published code does not have. @octokit/webhooks
 * is measured as published too.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SERVER_BUILD = fileURLToPath(new URL("../scripts/server-build.mjs", import.meta.url));

/** Builds the server's packages when their dist is missing or older than their sources (as `npm start` does). */
export function buildServer(): void {
  execFileSync(process.execPath, [SERVER_BUILD], { stdio: ["ignore", "inherit", "inherit"] });
}

/** This process's loader flags without `--conditions=source`: tsx still runs the bench's own files, workspace packages resolve to dist. */
export function builtExecArgv(): string[] {
  const flags: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag.startsWith("--conditions=") || flag.startsWith("-C=")) continue;
    if (flag === "--conditions" || flag === "-C") {
      i++;
      continue;
    }
    flags.push(flag);
  }
  return flags;
}
