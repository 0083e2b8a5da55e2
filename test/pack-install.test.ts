// The packages as a user gets them: packed by npm, installed from the tarballs into a scratch
// project outside the repository, and used there the way the README says — the bin through npx,
// the embedding snippets of docs/embedding.md compiled by tsc and run, the Cloud Functions entry loaded by
// functions-framework from the installed package. Slow (a build, an install from the registry
// cache), so every step has a generous timeout.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, signedDelivery, workflowJobPayload } from "@job-rerunner/testing";
import { deliver, spawnLogged, waitFor, type Child } from "../packages/adapter-express/test/support.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SECRET = "pack-install-secret";
const PACKAGES = [
  { name: "@job-rerunner/core", dir: "packages/core", entries: ["index.js"] },
  { name: "@job-rerunner/testing", dir: "packages/testing", entries: ["index.js"] },
  { name: "@job-rerunner/adapter-express", dir: "packages/adapter-express", entries: ["bin.js", "index.js"] },
  { name: "@job-rerunner/adapter-gcf", dir: "packages/adapter-gcf", entries: ["entry.js", "index.js"] },
] as const;
const BUILTINS = new Set(builtinModules);

interface PackedFile {
  readonly path: string;
}
interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly PackedFile[];
}
interface Manifest {
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly bin?: Record<string, string>;
}

function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(result: { status: number | null; stdout: string; stderr: string }, what: string): string {
  assert.equal(result.status, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesBelow(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The packages a built file imports at run time (or, in .d.ts, for its types). */
function importedPackages(code: string): Set<string> {
  const found = new Set<string>();
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']([^"'./][^"']*)["']/g;
  for (const m of code.matchAll(pattern)) {
    const specifier = m[1]!;
    if (specifier.startsWith("node:") || BUILTINS.has(specifier)) continue;
    const parts = specifier.split("/");
    found.add(specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return found;
}

/** The first ```ts block after a README heading. */
function snippetAfter(readme: string, heading: string): string {
  const at = readme.indexOf(heading);
  assert.ok(at >= 0, `README has no "${heading}"`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block !== null, `no ts block after "${heading}"`);
  return block[1]!;
}

async function untilAnswering(url: string, child: Child, what: string): Promise<void> {
  let exited = false;
  void child.exited.then(() => (exited = true));
  let up = false;
  const deadline = Date.now() + 60_000;
  while (!up && !exited && Date.now() < deadline) {
    up = (await fetch(url).catch(() => undefined)) !== undefined;
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(up, `${what} never answered at ${url}:\n${child.stdout.join("\n")}\n${child.stderr.join("")}`);
}

async function stop(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGTERM");
  await child.exited;
}

describe("packed, installed elsewhere, used as the README says", { timeout: 1_200_000 }, () => {
  let scratch: string;
  let packed: Packed[];
  const children: Child[] = [];

  before(async () => {
    // Build only what is stale (as npm start does), so a fresh dist another test uses is left alone.
    ok(
      run(process.execPath, [
        "--input-type=module",
        "-e",
        `import { buildStale } from "./scripts/fresh-build.mjs";
         await buildStale(${JSON.stringify(PACKAGES.map((p) => ({ name: p.name, dir: join(ROOT, p.dir), entries: p.entries })))});`,
      ], ROOT),
      "building the packages",
    );
    scratch = mkdtempSync(join(tmpdir(), "job-rerunner-install-"));
    assert.ok(relative(ROOT, scratch).startsWith(".."), "the scratch project is outside the repository");
    const out = ok(run("npm", ["pack", "--json", "--pack-destination", scratch, ...PACKAGES.flatMap((p) => ["-w", p.name])], ROOT), "npm pack");
    packed = JSON.parse(out.slice(out.indexOf("["))) as Packed[];
    for (const p of packed) renameSync(join(scratch, p.filename), join(scratch, `${p.name.split("/")[1]}.tgz`));
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }, null, 2));
  }, { timeout: 600_000 });

  after(async () => {
    await Promise.all(children.map(stop));
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it("each tarball holds only the built ESM, CJS and types, README and LICENSE", () => {
    assert.deepEqual(packed.map((p) => p.name).sort(), PACKAGES.map((p) => p.name).sort());
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      const stray = paths.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/.+\.(js|cjs|d\.ts|d\.cts))$/.test(f));
      assert.deepEqual(stray, [], `${p.name} ships more than its build`);
      assert.deepEqual(paths.filter((f) => f.startsWith("dist/testing")), [], `${p.name} ships test helpers`);
      for (const needed of ["README.md", "LICENSE", "dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/index.d.cts"]) {
        assert.ok(paths.includes(needed), `${p.name} lacks ${needed}`);
      }
    }
  });

  it("every package a built file imports is a declared dependency; no package peers on test tools", () => {
    for (const pkg of PACKAGES) {
      const manifest = JSON.parse(readFileSync(join(ROOT, pkg.dir, "package.json"), "utf8")) as Manifest;
      const deps = new Set(Object.keys(manifest.dependencies ?? {}));
      // The test helpers live in @job-rerunner/testing: nothing published needs fast-check or the payload examples.
      assert.deepEqual(manifest.peerDependencies ?? {}, {}, `${pkg.name} declares peer dependencies`);
      const dist = join(ROOT, pkg.dir, "dist");
      const missing: string[] = [];
      for (const file of filesBelow(dist).filter((f) => /\.(js|cjs|d\.ts|d\.cts)$/.test(f))) {
        for (const name of importedPackages(readFileSync(file, "utf8"))) {
          if (deps.has(name)) continue;
          missing.push(`${relative(ROOT, file)} imports ${name}`);
        }
      }
      assert.deepEqual(missing, [], `${pkg.name}: not in dependencies`);
    }
  });

  it("installs from the tarballs into a project outside the repository", { timeout: 600_000 }, () => {
    ok(
      run(
        "npm",
        ["install", "./core.tgz", "./testing.tgz", "./adapter-express.tgz", "./adapter-gcf.tgz", "typescript@5.9", "@types/node@20", "@types/express@5", "--prefer-offline", "--no-audit", "--no-fund"],
        scratch,
      ),
      "npm install of the tarballs",
    );
    // Both module systems load from the installed packages.
    const cjs = ok(run(process.execPath, ["-e", "const c = require('@job-rerunner/core'); const e = require('@job-rerunner/adapter-express'); console.log(typeof c.createRerunner, typeof e.startServer)"], scratch), "require()");
    assert.equal(cjs.trim(), "function function");
    const esm = ok(run(process.execPath, ["--input-type=module", "-e", "const c = await import('@job-rerunner/core'); console.log(typeof c.createRerunner)"], scratch), "import()");
    assert.equal(esm.trim(), "function");
    // The test helpers install as their own package, for people writing a store or a host.
    const testing = ok(run(process.execPath, ["--input-type=module", "-e", "const t = await import('@job-rerunner/testing'); console.log(typeof t.storeContract, typeof t.startFakeGitHub)"], scratch), "import() of the testing package");
    assert.equal(testing.trim(), "function function");
  });

  it("npx job-rerunner --help prints the usage", () => {
    const help = ok(run("npx", ["job-rerunner", "--help"], scratch), "npx job-rerunner --help");
    assert.match(help, /^Usage: job-rerunner/);
    assert.match(help, /GITHUB_SIGN_KEY/);
  });

  it("npx job-rerunner starts the server, answers a signed delivery, and exits 0 on SIGTERM", { timeout: 120_000 }, async () => {
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", PORT: "0" };
    const npx = spawnLogged("npx", ["job-rerunner"], env, scratch);
    children.push(npx);
    const listening = () => npx.logs().find((l) => l.msg === "listening");
    await waitFor(() => listening() !== undefined || npx.process.exitCode !== null, "the server to listen", 60_000);
    const line = listening();
    assert.ok(line !== undefined, `${npx.stdout.join("\n")}\n${npx.stderr.join("")}`);
    const url = `http://127.0.0.1:${String(line.port)}`;
    const answer = await deliver(url, signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId: 71_001, jobId: 1, action: "queued" })));
    assert.equal(answer.status, 202, answer.body.reason);
    // SIGTERM to the server, as a process manager sends it: it drains, exits 0, and so does npx.
    process.kill(Number(line.pid), "SIGTERM");
    assert.deepEqual(await npx.exited, { code: 0, signal: null }, npx.stderr.join(""));
    assert.ok(npx.logs().some((l) => l.msg === "stopped"));
    await assert.rejects(fetch(url));
  });

  it("SIGTERM to npx itself leaves no server behind", { timeout: 120_000 }, async () => {
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", PORT: "0" };
    const npx = spawnLogged("npx", ["job-rerunner"], env, scratch);
    children.push(npx);
    await waitFor(() => npx.logs().some((l) => l.msg === "listening") || npx.process.exitCode !== null, "the server to listen", 60_000);
    const line = npx.logs().find((l) => l.msg === "listening");
    assert.ok(line !== undefined, npx.stderr.join(""));
    npx.process.kill("SIGTERM");
    await npx.exited;
    // npm's shell dies with npx; the server sees it lost its parent and stops as if signalled.
    const url = `http://127.0.0.1:${String(line.port)}`;
    let gone = false;
    const until = Date.now() + 30_000;
    while (!gone && Date.now() < until) {
      gone = (await fetch(url).catch(() => undefined)) === undefined;
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(gone, "the server still answers after npx was stopped");
  });

  it("the two embedding snippets (docs/embedding.md) compile under tsc, serve the webhook, start the reconciler and stop on SIGTERM", { timeout: 300_000 }, async () => {
    const readme = readFileSync(join(ROOT, "docs", "embedding.md"), "utf8");
    const snippets = [
      { file: "embed", code: snippetAfter(readme, "## Embedding the core in any framework"), path: "/" },
      { file: "mount", code: snippetAfter(readme, "## Mounting into an existing Express app"), path: "/github/webhook" },
    ];
    mkdirSync(join(scratch, "src"), { recursive: true });
    for (const s of snippets) writeFileSync(join(scratch, "src", `${s.file}.ts`), s.code);
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", outDir: "out", rootDir: "src", types: ["node"], skipLibCheck: false },
        include: ["src"],
      }),
    );
    ok(run(process.execPath, [join(scratch, "node_modules", "typescript", "bin", "tsc"), "-p", "."], scratch), "tsc on the README snippets");
    for (const s of snippets) {
      const port = await freePort();
      const child = spawnLogged(process.execPath, [join("out", `${s.file}.js`)], { PATH: process.env.PATH ?? "", GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", PORT: String(port) }, scratch);
      children.push(child);
      const url = `http://127.0.0.1:${port}${s.path}`;
      await untilAnswering(url, child, s.file);
      const answer = await deliver(url, signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId: 71_100, jobId: 1, action: "queued" })));
      assert.equal(answer.status, 202, `${s.file}: ${answer.body.reason}`);
      const forged = await deliver(url, signedDelivery("wrong-secret", "workflow_job", workflowJobPayload({ runId: 71_100, jobId: 1, action: "queued" })));
      assert.equal(forged.status, 403, s.file);
      await waitFor(() => child.logs().some((l) => l.msg === "reconciling"), `${s.file}: its reconciler started`);
      child.process.kill("SIGTERM");
      assert.deepEqual(await child.exited, { code: 0, signal: null }, `${s.file} stops on SIGTERM: ${child.stderr.join("")}`);
      assert.ok(!child.logs().some((l) => typeof l.msg === "string" && l.msg.startsWith("no reconciler started")), s.file);
    }
  });

  it("functions-framework loads the Cloud Functions entry from the installed package", { timeout: 120_000 }, async () => {
    const port = await freePort();
    const ff = spawnLogged(
      join(scratch, "node_modules", ".bin", "functions-framework"),
      ["--target=rerunner", "--signature-type=http", "--source=node_modules/@job-rerunner/adapter-gcf/dist/entry.js"],
      { PATH: process.env.PATH ?? "", GITHUB_SIGN_KEY: SECRET, DRY_RUN: "true", STORE: "memory", PORT: String(port), NODE_ENV: "production" },
      scratch,
    );
    children.push(ff);
    const url = `http://127.0.0.1:${port}/`;
    await untilAnswering(url, ff, "functions-framework");
    const answer = await deliver(url, signedDelivery(SECRET, "workflow_job", workflowJobPayload({ runId: 71_200, jobId: 1, action: "queued" })));
    assert.equal(answer.status, 202, answer.body.reason);
    await stop(ff);
  });
});
