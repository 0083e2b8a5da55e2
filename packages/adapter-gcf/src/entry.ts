// The Cloud Functions entry points: `functions-framework --target=rerunner` (the webhook) or
// `--target=sweep` (reconciliation, for Cloud Scheduler) loads this module, which registers both.
// Configured from the environment: the webhook at cold start, the sweep on its first call.
import { http } from "@google-cloud/functions-framework";
import { createRerunnerFunction } from "./function.js";
import { createSweepFunction } from "./sweep-function.js";

/** The name to deploy with (`--entry-point=rerunner`) and to run locally (`--target=rerunner`). */
export const FUNCTION_NAME = "rerunner";
/** The sweep's entry point (`--entry-point=sweep`), deployed without --allow-unauthenticated. */
export const SWEEP_FUNCTION_NAME = "sweep";

http(FUNCTION_NAME, createRerunnerFunction());
http(SWEEP_FUNCTION_NAME, createSweepFunction());
