import { defineConfig } from "tsup";

export default defineConfig({
  // index: the library; entry: the module functions-framework loads (registers `rerunner`).
  entry: { index: "src/index.ts", entry: "src/entry.ts" },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  sourcemap: true,
  shims: true,
  target: "node20",
  // tsup strips "node:" by default, which turns "node:test" into a package named "test".
  removeNodeProtocol: false,
  // Resolved at run time from node_modules. The functions framework in particular must be the
  // very copy its CLI runs, or `http("rerunner", ...)` registers in a registry nobody reads.
  external: ["@job-rerunner/core", "@google-cloud/firestore", "@google-cloud/functions-framework"],
});
