// Runs every node:test suite of the workspace in one `node --test` run, so CI sees one
// summary. Test files are TypeScript, loaded through tsx, and workspace packages resolve
// to their sources via the "source" export condition (no build needed to test).
import { spawn } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { chromiumForTests, postgresForTests } from "./test-services.mjs";

const roots = ["packages", "examples"];
const files = [];
for (const root of roots) {
  if (!existsSync(root)) continue;
  for (const pkg of readdirSync(root)) {
    const dir = join(root, pkg, "test");
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith(".test.ts")) files.push(join(dir, f));
  }
}
// Tests of the product as a whole (packing, installing, npm scripts, engines).
if (existsSync("test")) for (const f of readdirSync("test").sort()) if (f.endsWith(".test.ts")) files.push(join("test", f));
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((x) => f.includes(x))) : files;

// The PostgreSQL and browser tests find their services here (scripts/test-services.mjs).
let postgres;
let chromium;
try {
  postgres = await postgresForTests();
  chromium = chromiumForTests();
} catch (error) {
  console.error(`run-tests: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
console.log(`run-tests: ${postgres.description}; browser: ${chromium.description}`);
const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "--test", "--test-reporter=spec", ...selected], {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "test", TEST_DATABASE_URL: postgres.url, CHROMIUM_PATH: chromium.path },
});
// Ctrl-C reaches the test runner (same process group); the started PostgreSQL is stopped after it.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
const status = await new Promise((done) => child.once("exit", (code, signal) => done(code ?? (signal ? 1 : 0))));
await postgres.stop();
process.exit(status);
