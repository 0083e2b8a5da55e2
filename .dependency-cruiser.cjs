/**
 * The layer rules of @job-rerunner/core (docs/ARCHITECTURE.md) and the packages around it.
 * `npm run check:layers` fails naming the file and the rule when an import crosses a forbidden
 * direction or closes a cycle; `npm test` runs it first.
 */
const core = "^packages/core/src/";
const layer = (name) => `${core}${name}/`;

/** A folder of the core may import only these folders of the core (and itself). */
const ALLOWED = {
  domain: ["domain"],
  webhook: ["domain", "webhook"],
  ports: ["domain", "ports"],
  engine: ["domain", "webhook", "ports", "engine"],
  github: ["domain", "ports", "github"],
  infra: ["domain", "ports", "infra"],
  env: ["domain", "env"],
};
const LAYERS = Object.keys(ALLOWED);

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "Modules must not import each other in a loop: a cycle hides which one is the lower layer.",
      from: { path: "^packages/[^/]+/src/" },
      to: { circular: true },
    },
    ...LAYERS.map((from) => ({
      name: `${from}-imports-only-${ALLOWED[from].join("-")}`,
      severity: "error",
      comment: `packages/core/src/${from}/ may import only ${ALLOWED[from].map((l) => `${l}/`).join(", ")} of the core.`,
      from: { path: layer(from) },
      to: { path: `${core}(${LAYERS.filter((l) => !ALLOWED[from].includes(l)).join("|")})/|${core}(compose|index)\\.ts$` },
    })),
    {
      name: "domain-is-pure",
      severity: "error",
      comment: "The domain is pure: no Node built-ins (node:fs, node:crypto, ...) and no package but the pure ones it is allowed, not even for a type.",
      from: { path: layer("domain") },
      to: { pathNot: `^(${core}domain/|node_modules/(re2js|ret|safe-regex2|zod|yaml)/)` },
    },
    {
      name: "ports-are-interfaces",
      severity: "error",
      comment: "Ports hold interfaces only: nothing but types may be imported there.",
      from: { path: layer("ports") },
      to: { dependencyTypesNot: ["type-only"] },
    },
    {
      name: "only-env-reads-the-environment-and-files",
      severity: "error",
      comment: "Only packages/core/src/env/ reads files (node:fs); the engine, domain and ports never do.",
      from: { path: `${core}(domain|webhook|ports|engine|github|infra)/` },
      to: { path: "^(node:)?fs(/promises)?$" },
    },
    {
      name: "core-ships-no-test-helpers",
      severity: "error",
      comment: "The core never imports the testing package, a test framework or fast-check.",
      from: { path: "^packages/core/src/" },
      to: { path: "^(packages/testing/|node_modules/fast-check/|node_modules/@octokit/webhooks-examples/)|^node:test$" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing.",
      from: { path: "^packages/[^/]+/src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["source", "import", "require", "node", "default"], extensions: [".ts", ".js", ".json"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
