// Builds workspace packages only when their dist is missing or older than their sources: shared
// by `npm start` (scripts/start.mjs) and `npm run start:gcf` (scripts/start-gcf.mjs), which then
// run their server in their own process so that npm's SIGTERM reaches it.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Modification times of every file below `path` (or of `path` itself), missing paths skipped. */
function mtimes(path) {
  if (!existsSync(path)) return [];
  const stat = statSync(path);
  if (!stat.isDirectory()) return [stat.mtimeMs];
  return readdirSync(path).flatMap((entry) => mtimes(join(path, entry)));
}

export function isStale({ dir, entries }) {
  const dist = join(dir, "dist");
  if (entries.some((entry) => !existsSync(join(dist, entry)))) return true;
  const inputs = [join(dir, "src"), join(dir, "package.json"), join(dir, "tsup.config.ts")].flatMap(mtimes);
  return Math.max(...inputs) > Math.min(...mtimes(dist));
}

export function fail(message) {
  process.stderr.write(`job-rerunner: ${message}\n`);
  process.exit(1);
}

/** Whether any process of the build's process group is still running (POSIX; false on Windows). */
function groupAlive(pid) {
  if (process.platform === "win32" || pid === undefined) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the package's own build script; its output is shown only if it fails. */
function build(pkg) {
  // Under npm, npm_execpath is the npm that started us; run directly, the npm on PATH.
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli ? [process.execPath, [npmCli]] : ["npm", []];
  const child = spawn(command, [...args, "run", "build", `--workspace=${pkg.name}`], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    shell: !npmCli && process.platform === "win32",
    // Its own process group, so a stop reaches the build tool under npm too.
    detached: process.platform !== "win32",
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
  // Stopped mid-build: nothing is serving yet, so stopping is clean; the half-written dist is
  // removed so the next start does not take it for a fresh one. npm forwards a terminal's
  // Ctrl-C as a second SIGINT: one stop is enough.
  let stopping = false;
  const onSignal = async () => {
    if (stopping) return;
    stopping = true;
    try {
      if (process.platform === "win32") child.kill("SIGTERM");
      else process.kill(-child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    // npm exits first; the build tool and its workers (same process group) may still be writing.
    for (let waited = 0; waited < 5000 && ((child.exitCode === null && child.signalCode === null) || groupAlive(child.pid)); waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(join(pkg.dir, "dist"), { recursive: true, force: true });
    process.stderr.write("job-rerunner: stopped while building; the next start builds again\n");
    process.exit(0);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return new Promise((resolve) => {
    child.once("error", (error) => fail(`could not run npm to build ${pkg.name}: ${error.message}`));
    child.once("exit", (code, signal) => {
      if (stopping) return;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      if (code !== 0) {
        process.stderr.write(output);
        fail(`building ${pkg.name} failed (${signal ?? `exit code ${code}`})`);
      }
      resolve();
    });
  });
}

/**
 * Builds, in order, those of `packages` ({ name, dir, entries }) whose dist is missing or stale;
 * a fresh build is left alone.
 */
export async function buildStale(packages) {
  const stale = packages.filter(isStale);
  if (stale.length === 0) return;
  process.stderr.write(`job-rerunner: building ${stale.map((p) => p.name).join(" and ")} (dist missing or older than its sources)\n`);
  for (const pkg of stale) await build(pkg);
}
