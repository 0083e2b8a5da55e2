#!/usr/bin/env node
// Bundles the function (packages/adapter-gcf/src/entry.ts and the core it uses) into
// dist/index.js, so this folder deploys without our packages being on npm: Cloud Build only
// installs the registry dependencies listed in package.json.
//
//   node build.mjs [--outfile PATH]      (default: dist/index.js next to this file)
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const flag = process.argv.indexOf("--outfile");
const outfile = flag >= 0 && process.argv[flag + 1] ? process.argv[flag + 1] : here("dist/index.js");

await build({
  entryPoints: [here("../../packages/adapter-gcf/src/entry.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  // The deploy runtime (--runtime=nodejs22, package.json engines 22.x). The bundle test loads this
  // output with the Node running the tests (20 here), so syntax Node 20 lacks would show up there.
  target: "node22",
  // Our workspace packages resolve to their TypeScript sources, as in the tests.
  conditions: ["source"],
  // Installed from the registry at deploy time. The functions framework must not be bundled:
  // its CLI loads this file, and `http("rerunner", ...)` has to land in the CLI's own registry.
  external: ["@google-cloud/functions-framework", "@google-cloud/firestore"],
  // Bundled CommonJS code may call require() for Node built-ins; give it one in ESM.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
});
process.stdout.write(`bundled ${outfile}\n`);
