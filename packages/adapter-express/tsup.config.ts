import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", bin: "src/bin.ts" },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  sourcemap: true,
  shims: true,
  target: "node20",
  // tsup strips "node:" by default, which turns "node:test" into a package named "test".
  removeNodeProtocol: false,
  // Resolved at run time from node_modules: the core is its own package, better-sqlite3 is
  // native, and express (used by the server only) is its own dependency.
  external: ["@job-rerunner/core", "better-sqlite3", "express"],
});
