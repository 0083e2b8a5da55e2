// The bundle's entry (dist/action/index.mjs, action.yml's runs.main): decide this step's event.
import { runAction } from "./action.js";

await runAction();
