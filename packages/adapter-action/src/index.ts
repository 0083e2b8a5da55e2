// @job-rerunner/adapter-action: the GitHub Action host. Its product is the bundle
// dist/action/index.mjs at the repository root (action.yml); this entry is for tests and embedders.
export { runAction } from "./action.js";
export { INPUTS, RUN_ID_INPUT, ACTION_DEADLINE_MS, InputError, configFromInputs, runIdFromInput, type InputReader } from "./inputs.js";
export { readStepEvent, EventError, type StepEvent, type StepEnvelope } from "./event.js";
export { summaryMarkdown, failedJobsOutput, type StepReport, type Verdict } from "./report.js";
