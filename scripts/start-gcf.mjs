// `npm run start:gcf`: the Cloud Function on functions-framework, locally (port 8080, or PORT).
// Builds the core and the adapter only when their dist is missing or stale, then runs the
// functions-framework CLI in this same process, so npm's SIGTERM or Ctrl-C reaches it and no
// server is left listening (the package.json line `exec`s this script for the same reason).
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildStale, root } from "./fresh-build.mjs";

const gcf = join(root, "packages", "adapter-gcf");
await buildStale([
  { name: "@job-rerunner/core", dir: join(root, "packages", "core"), entries: ["index.js"] },
  { name: "@job-rerunner/adapter-gcf", dir: gcf, entries: ["entry.js", "index.js"] },
]);

// The CLI reads its options from process.argv; its package exports no ./build path, so resolve by file.
const require = createRequire(join(gcf, "package.json"));
const cli = require.resolve("@google-cloud/functions-framework").replace(/index\.js$/, "main.js");
process.argv = [process.argv[0], cli, "--target=rerunner", "--signature-type=http", `--source=${join(gcf, "dist", "entry.js")}`, ...process.argv.slice(2)];
await import(pathToFileURL(cli).href);
