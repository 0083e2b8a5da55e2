// Library surface, free of side effects: importing it registers nothing. The deployable
// entry point that registers `rerunner` with the functions framework is ./entry.ts.
export { createRerunnerFunction, DEFAULT_HEALTH_TEXT, type RerunnerFunctionOptions } from "./function.js";
export { FirestoreStore, DEFAULT_COLLECTION, documentId, validateCollection, type FirestoreStoreOptions } from "./firestore-store.js";
export { cloudLogger, type CloudLoggerOptions } from "./cloud-logger.js";
export { storeFromSpec, DEFAULT_STORE } from "./store-from-spec.js";
export { createSweepFunction, type SweepFunctionOptions } from "./sweep-function.js";
