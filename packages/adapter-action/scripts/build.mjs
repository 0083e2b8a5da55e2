#!/usr/bin/env node
// Bundles the action (src/main.ts, the core and every dependency) into one file committed at the
// repository root, dist/action/index.mjs, which action.yml runs: a tag of this repository is all a
// runner fetches, nothing is installed. The build is deterministic (same sources and esbuild, same
// bytes): test/bundle.test.ts rebuilds into a temporary folder and compares.
//
//   node scripts/build.mjs [--outfile PATH]      (default: <repository>/dist/action/index.mjs)
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const flag = process.argv.indexOf("--outfile");
const outfile = flag >= 0 && process.argv[flag + 1] ? process.argv[flag + 1] : `${root}dist/action/index.mjs`;

await build({
  // Relative to absWorkingDir: the paths esbuild writes into comments do not depend on where the repository is.
  absWorkingDir: root,
  entryPoints: ["packages/adapter-action/src/main.ts"],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  // action.yml says node24; the tests run the bundle on the Node running them (20 here).
  target: "node20",
  // Our workspace packages resolve to their TypeScript sources, as in the tests.
  conditions: ["source"],
  // Bundled CommonJS code may call require() for Node built-ins; give it one in ESM.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: "eof",
  sourcemap: false,
  logLevel: "warning",
});
process.stdout.write(`bundled ${outfile}\n`);
