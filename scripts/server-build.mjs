// The packages `npm start` runs from their dist, built when missing or older than their sources
// (fresh-build.mjs). Run directly (`node scripts/server-build.mjs`), it only builds: what
// `npm run bench` does before it measures the server as `npm start` runs it.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildStale, root } from "./fresh-build.mjs";

// In build order: the adapter's type build reads the core's dist/index.d.ts.
export const serverPackages = [
  { name: "@job-rerunner/core", dir: join(root, "packages", "core"), entries: ["index.js"] },
  { name: "@job-rerunner/adapter-express", dir: join(root, "packages", "adapter-express"), entries: ["bin.js", "index.js"] },
];

export async function buildServer() {
  await buildStale(serverPackages);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await buildServer();
