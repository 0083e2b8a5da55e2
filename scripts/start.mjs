// `npm start`: builds what the server needs only when its dist is missing or older than its
// sources, then runs the server in this same process. Running it here (rather than
// `build && node ...` in a shell) is what lets npm's SIGTERM reach the server, so it drains
// in-flight deliveries and exits 0; the package.json line `exec`s this script because npm's
// `sh -c` (dash) keeps itself as a parent that a signal kills, orphaning the server.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "./fresh-build.mjs";
import { buildServer } from "./server-build.mjs";

await buildServer();
await import(pathToFileURL(join(root, "packages", "adapter-express", "dist", "bin.js")).href);
