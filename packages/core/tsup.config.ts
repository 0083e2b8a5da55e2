import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  shims: true,
  target: "node20",
  // tsup strips "node:" by default, which would turn "node:crypto" into a package named "crypto".
  removeNodeProtocol: false,
  external: ["@octokit/rest", "@octokit/auth-app", "yaml", "zod"],
});
