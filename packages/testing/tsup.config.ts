import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  shims: true,
  target: "node20",
  // tsup strips "node:" by default, which turns "node:test" (the store contract) into a package named "test".
  removeNodeProtocol: false,
  external: ["@job-rerunner/core", "fast-check", "@octokit/webhooks-examples"],
});
