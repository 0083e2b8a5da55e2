// The Cloud Functions entry point: `functions-framework --target=rerunner` loads this module,
// which registers the function under that name. Configured from the environment at cold start.
import { http } from "@google-cloud/functions-framework";
import { createRerunnerFunction } from "./function.js";

/** The name to deploy with (`--entry-point=rerunner`) and to run locally (`--target=rerunner`). */
export const FUNCTION_NAME = "rerunner";

http(FUNCTION_NAME, createRerunnerFunction());
